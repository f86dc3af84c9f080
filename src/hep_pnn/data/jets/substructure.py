r"""Jet-level quantities from constituents: mass, pT, η, multiplicity and N-subjettiness.

One implementation for every jet source, so generated jets and jets read from the
reference files get the same features. N-subjettiness uses exclusive-kT axes, as the
default ``KT_Axes`` of FastJet's Nsubjettiness contrib: the constituents are clustered
pairwise with the kT distance :math:`d_{ij} = \min(p_{T,i}^2, p_{T,j}^2)\,\Delta R_{ij}^2`
(rapidity–azimuth, E-scheme recombination, no beam distance) until N subjets remain;
those subjets are the axes, and

.. math:: \tau_N = \frac{\sum_k p_{T,k} \min_j \Delta R_{k,j}}{\sum_k p_{T,k} R_0},
   \quad R_0 = 0.8 .

The clustering is compiled with numba (no FastJet, so no GPL code in the core).

References:
    Thaler & Van Tilburg, "Identifying Boosted Objects with N-subjettiness",
    arXiv:1011.2268; Catani et al., "Longitudinally-invariant kT-clustering algorithms
    for hadron-hadron collisions" (Nucl. Phys. B406 (1993) 187).
"""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd

from hep_pnn.data.jets.sample import JET_FEATURES

__all__ = [
    "JET_RADIUS",
    "exclusive_kt_subjets",
    "jet_features",
    "jet_kinematics",
    "nsubjettiness",
    "w_candidate_mass",
]

JET_RADIUS = 0.8
"""R of the anti-kT jets and the :math:`R_0` of :math:`\\tau_N`."""


def jet_kinematics(constituents: np.ndarray) -> dict[str, np.ndarray]:
    """Mass, pT, η and constituent count of each jet: the sum of its (non-zero) constituents.

    Args:
        constituents: ``(n, m, 4)`` (E, px, py, pz), zero rows for padding.

    Example:
        >>> jets = np.array([[[10.0, 6.0, 0.0, 0.0], [10.0, -6.0, 0.0, 0.0]]])
        >>> {k: float(v[0]) for k, v in jet_kinematics(jets).items()}
        {'jet_mass': 20.0, 'jet_pt': 0.0, 'jet_eta': 0.0, 'n_constituents': 2.0}
    """
    total = constituents.astype(np.float64).sum(axis=1)
    energy, px, py, pz = total.T
    pt = np.hypot(px, py)
    mass = np.sqrt(np.maximum(energy**2 - px**2 - py**2 - pz**2, 0.0))
    eta = np.arcsinh(np.divide(pz, pt, out=np.zeros_like(pz), where=pt > 0))
    count = (constituents[:, :, 0] > 0).sum(axis=1)
    return {"jet_mass": mass, "jet_pt": pt, "jet_eta": eta, "n_constituents": count.astype(float)}


@numba.njit(cache=True)
def _rapidity_phi(p: np.ndarray) -> tuple[float, float]:
    energy, px, py, pz = p[0], p[1], p[2], p[3]
    phi = np.arctan2(py, px)
    if energy - abs(pz) <= 0.0:  # massless along the beam: fastjet's large finite rapidity
        return (1e5 if pz > 0 else -1e5), phi
    return 0.5 * np.log((energy + pz) / (energy - pz)), phi


@numba.njit(cache=True)
def _cluster_one(particles: np.ndarray, sizes: np.ndarray, out: np.ndarray) -> None:
    """Pairwise kT clustering of ``particles`` (m, 4); the subjets left when ``sizes[s]``
    remain (``sizes`` decreasing) go to ``out[s]``."""
    m = particles.shape[0]
    work = particles.astype(np.float64).copy()
    alive = np.ones(m, dtype=np.bool_)
    rapidity, phi, kt2 = np.empty(m), np.empty(m), np.empty(m)
    for k in range(m):
        rapidity[k], phi[k] = _rapidity_phi(work[k])
        kt2[k] = work[k, 1] ** 2 + work[k, 2] ** 2
    # nearest-neighbour bookkeeping: O(m^2) overall instead of O(m^3)
    nearest = np.full(m, -1, dtype=np.int64)
    best = np.full(m, np.inf)

    def distance(i: int, j: int) -> float:
        dphi = abs(phi[i] - phi[j])
        if dphi > np.pi:
            dphi = 2 * np.pi - dphi
        return min(kt2[i], kt2[j]) * ((rapidity[i] - rapidity[j]) ** 2 + dphi**2)

    for i in range(m):
        for j in range(i + 1, m):
            d = distance(i, j)
            if d < best[i]:
                best[i], nearest[i] = d, j
            if d < best[j]:
                best[j], nearest[j] = d, i
    remaining = m
    for s in range(sizes.shape[0]):
        while remaining > sizes[s]:
            i = -1
            for k in range(m):
                if alive[k] and (i < 0 or best[k] < best[i]):
                    i = k
            j = nearest[i]
            work[i] += work[j]
            rapidity[i], phi[i] = _rapidity_phi(work[i])
            kt2[i] = work[i, 1] ** 2 + work[i, 2] ** 2
            alive[j] = False
            remaining -= 1
            for k in range(m):  # refresh the neighbours that pointed at i or j, and i itself
                if not alive[k]:
                    continue
                if k == i or nearest[k] == i or nearest[k] == j:
                    best[k], nearest[k] = np.inf, -1
                    for q in range(m):
                        if alive[q] and q != k:
                            d = distance(k, q)
                            if d < best[k]:
                                best[k], nearest[k] = d, q
                else:
                    d = distance(k, i)
                    if d < best[k]:
                        best[k], nearest[k] = d, i
        filled = 0
        for k in range(m):
            if alive[k]:
                out[s, filled] = work[k]
                filled += 1


@numba.njit(cache=True)
def _cluster_all(constituents: np.ndarray, counts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    out = np.zeros((constituents.shape[0], sizes.shape[0], sizes[0], 4))
    for jet in range(constituents.shape[0]):
        m = counts[jet]
        if m <= sizes[-1]:
            for s in range(sizes.shape[0]):
                out[jet, s, :m] = constituents[jet, :m]
        else:
            _cluster_one(constituents[jet, :m], sizes, out[jet])
    return out


def _subjets(constituents: np.ndarray, sizes: tuple[int, ...]) -> list[np.ndarray]:
    """Exclusive-kT subjets for each of ``sizes`` from one clustering per jet."""
    order = sorted(set(sizes), reverse=True)
    counts = (constituents[:, :, 0] > 0).sum(axis=1).astype(np.int64)
    subjets = _cluster_all(
        np.ascontiguousarray(constituents, np.float64), counts, np.array(order, np.int64)
    )
    result = []
    for size in sizes:
        chosen = subjets[:, order.index(size), :size]
        pt_order = np.argsort(-np.hypot(chosen[:, :, 1], chosen[:, :, 2]), axis=1, kind="stable")
        result.append(np.take_along_axis(chosen, pt_order[:, :, None], axis=1))
    return result


def exclusive_kt_subjets(constituents: np.ndarray, n_subjets: int) -> np.ndarray:
    """The ``n_subjets`` exclusive-kT subjets of each jet, ``(n, n_subjets, 4)`` (E, px, py, pz).

    Constituents must be packed at the front of each row (zero padding after them), as in a
    :class:`~hep_pnn.data.jets.sample.JetSample`. A jet with fewer constituents than
    ``n_subjets`` keeps its constituents and zero rows. Subjets are sorted by decreasing pT.

    Example:
        >>> jets = np.array([[[5.0, 5, 0, 0], [5.0, 4.9, 1, 0], [3.0, 0, 3, 0]]])
        >>> exclusive_kt_subjets(jets, 2)[0, :, 0].tolist()
        [10.0, 3.0]
    """
    return _subjets(constituents, (n_subjets,))[0]


def _rapidity_phi_arrays(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    energy, pz = p[..., 0], p[..., 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        rapidity = 0.5 * np.log((energy + pz) / (energy - pz))
    return np.nan_to_num(rapidity, posinf=1e5, neginf=-1e5), np.arctan2(p[..., 2], p[..., 1])


def nsubjettiness(constituents: np.ndarray, axes: np.ndarray) -> np.ndarray:
    r"""τ_N of each jet for the given ``(n, N, 4)`` axes; 0 for a jet without constituents.

    Example:
        >>> jets = np.array([[[5.0, 5, 0, 0], [3.0, 0, 3, 0]]])
        >>> float(nsubjettiness(jets, exclusive_kt_subjets(jets, 2))[0])
        0.0
    """
    pt = np.hypot(constituents[..., 1], constituents[..., 2])
    y, phi = _rapidity_phi_arrays(constituents.astype(np.float64))
    axis_y, axis_phi = _rapidity_phi_arrays(axes.astype(np.float64))
    dphi = np.abs(phi[:, :, None] - axis_phi[:, None, :])
    dphi = np.minimum(dphi, 2 * np.pi - dphi)
    # an empty axis (fewer constituents than N) must not be the nearest one
    empty = (axes[..., 0] <= 0)[:, None, :]
    delta_r = np.where(empty, np.inf, np.hypot(y[:, :, None] - axis_y[:, None, :], dphi))
    nearest = delta_r.min(axis=2)
    nearest = np.where(pt > 0, nearest, 0.0)
    norm = pt.sum(axis=1) * JET_RADIUS
    return np.divide((pt * nearest).sum(axis=1), norm, out=np.zeros(len(pt)), where=norm > 0)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def jet_features(constituents: np.ndarray, *, chunk_size: int = 50_000) -> pd.DataFrame:
    """The :data:`~hep_pnn.data.jets.sample.JET_FEATURES` of each jet, from its constituents.

    τ21 and τ32 use exclusive-kT axes (module docstring); a ratio with a zero denominator
    (a jet with one or two constituents) is 0.

    Example:
        >>> jets = np.zeros((1, 200, 4), np.float32)
        >>> jets[0, :3] = [[5.0, 5, 0, 0], [5.0, 4.9, 1, 0], [3.0, 0, 3, 0]]
        >>> list(jet_features(jets).columns) == list(JET_FEATURES)
        True
    """
    parts = []
    for start in range(0, len(constituents), chunk_size):
        block = constituents[start : start + chunk_size]
        tau = [nsubjettiness(block, axes) for axes in _subjets(block, (1, 2, 3))]
        values = jet_kinematics(block)
        values.update(tau21=_ratio(tau[1], tau[0]), tau32=_ratio(tau[2], tau[1]))
        parts.append(pd.DataFrame({name: values[name] for name in JET_FEATURES}))
    if not parts:
        return pd.DataFrame({name: np.zeros(0) for name in JET_FEATURES})
    frame = pd.concat(parts, ignore_index=True)
    return frame.astype({"n_constituents": np.int32})


def w_candidate_mass(subjets: np.ndarray, *, w_mass: float = 80.4) -> np.ndarray:
    """Of the pairs of three subjets, the invariant mass closest to ``w_mass`` (GeV), per jet.

    Example:
        >>> subjets = np.array([[[50.0, 0, 0, 50], [50.0, 0, 40, -30], [10.0, 10, 0, 0]]])
        >>> round(float(w_candidate_mass(subjets)[0]), 1)
        89.4
    """
    masses = []
    for i, j in ((0, 1), (0, 2), (1, 2)):
        pair = subjets[:, i].astype(np.float64) + subjets[:, j]
        mass2 = pair[:, 0] ** 2 - (pair[:, 1:] ** 2).sum(axis=1)
        masses.append(np.sqrt(np.maximum(mass2, 0.0)))
    stacked = np.stack(masses, axis=1)
    closest = np.abs(stacked - w_mass).argmin(axis=1)
    return stacked[np.arange(len(stacked)), closest]
