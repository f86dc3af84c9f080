r"""Toy jets for tests and examples: three-prong "top" against one-prong "QCD" particle clouds.

Not physics: no parton shower, no hadronisation. Each jet is three prongs of massless
constituents around a jet axis; top prongs share the pT evenly and open up by
``Δ R ≈ 2 m_t / pT``, QCD prongs have a hierarchical pT sharing (one hard prong). The
constituents follow the top-tagging layout (E, px, py, pz), sorted by pT and zero-padded,
so every representation and model can be exercised in seconds. Real jets come from
``pnn generate --process top-tagging``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hep_pnn._random import SeedLike, as_generator
from hep_pnn.data.jets.particles import jet_axis, relative_coordinates, wrap_phi
from hep_pnn.data.jets.sample import JET_FEATURES, MAX_CONSTITUENTS, JetSample

__all__ = ["toy_jets"]

_TOP_MASS = 173.0


def _prong_axes(
    rng: np.random.Generator, signal: np.ndarray, pt: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offsets (Δη, Δφ) ``(n, 3)`` of three prongs and their pT fractions ``(n, 3)``."""
    n = len(signal)
    opening = np.where(signal, 2 * _TOP_MASS / pt, rng.uniform(0.2, 1.2, n))
    angle = (
        rng.uniform(0, 2 * np.pi, (n, 1)) + np.array([0.0, 2.1, 4.2]) + rng.normal(0, 0.3, (n, 3))
    )
    radius = opening[:, None] * rng.uniform(0.35, 0.6, (n, 3))
    radius[~signal, 0] *= 0.1  # the hard QCD prong sits on the axis
    shares = np.where(
        signal[:, None],
        rng.dirichlet([3.0, 3.0, 3.0], n),
        rng.dirichlet([6.0, 2.0, 1.0], n),
    )
    return radius * np.cos(angle), radius * np.sin(angle), shares


def toy_jets(
    n_signal: int,
    n_background: int,
    *,
    seed: SeedLike,
    pt_range: tuple[float, float] = (550.0, 650.0),
    n_per_prong: float = 12.0,
) -> JetSample:
    """``n_signal`` toy top jets then ``n_background`` toy QCD jets, as a :class:`JetSample`.

    Example:
        >>> jets = toy_jets(3, 2, seed=1)
        >>> jets.constituents.shape, jets.labels.tolist()
        ((5, 200, 4), [1, 1, 1, 0, 0])
    """
    rng = as_generator(seed)
    n = n_signal + n_background
    signal = np.arange(n) < n_signal
    pt = rng.uniform(*pt_range, n)
    axis_eta, axis_phi = rng.uniform(-1.5, 1.5, n), rng.uniform(-np.pi, np.pi, n)
    prong_eta, prong_phi, shares = _prong_axes(rng, signal, pt)
    counts = rng.poisson(n_per_prong, (n, 3)) + 1
    n_max = min(int(counts.sum(axis=1).max()), MAX_CONSTITUENTS)
    # constituent c of jet j belongs to prong p when it is among that prong's counts
    slot = np.arange(n_max)
    ends = np.cumsum(counts, axis=1)
    prong = (slot[None, :, None] >= ends[:, None, :]).sum(axis=2)
    real = prong < 3
    prong = np.minimum(prong, 2)
    take = np.take_along_axis
    fraction = rng.gamma(1.0, 1.0, (n, n_max)) * real
    prong_total = np.zeros((n, 3))
    np.add.at(prong_total, (np.arange(n)[:, None].repeat(n_max, 1), prong), fraction)
    fraction = fraction / take(prong_total, prong, axis=1) * take(shares, prong, axis=1)
    spread = 0.03 + 0.02 * rng.random((n, 1))
    eta = axis_eta[:, None] + take(prong_eta, prong, axis=1) + rng.normal(0, 1, (n, n_max)) * spread
    phi = wrap_phi(
        axis_phi[:, None] + take(prong_phi, prong, axis=1) + rng.normal(0, 1, (n, n_max)) * spread
    )
    pt_constituent = np.where(real, fraction * pt[:, None], 0.0)
    order = np.argsort(-pt_constituent, axis=1)
    pt_constituent, eta, phi = (take(a, order, axis=1) for a in (pt_constituent, eta, phi))
    constituents = np.zeros((n, MAX_CONSTITUENTS, 4), np.float32)
    constituents[:, :n_max] = (
        np.stack(
            [
                pt_constituent * np.cosh(eta),
                pt_constituent * np.cos(phi),
                pt_constituent * np.sin(phi),
                pt_constituent * np.sinh(eta),
            ],
            axis=-1,
        )
        * (pt_constituent > 0)[..., None]
    )
    features = _features(constituents, prong_eta, prong_phi)
    return JetSample(constituents, signal.astype(np.int8), features)


def _features(
    constituents: np.ndarray, prong_eta: np.ndarray, prong_phi: np.ndarray
) -> pd.DataFrame:
    """Jet mass, pT, η, τ21, τ32 (to the generated prong axes) and constituent count."""
    jet_pt, jet_eta, _, jet_energy = jet_axis(constituents)
    total = constituents.astype(np.float64).sum(axis=1)
    mass = np.sqrt(np.maximum(jet_energy**2 - (total[:, 1:] ** 2).sum(axis=1), 0.0))
    delta_eta, delta_phi, pt, mask = relative_coordinates(constituents)
    distance = np.hypot(
        delta_eta[..., None] - prong_eta[:, None, :], delta_phi[..., None] - prong_phi[:, None, :]
    )
    tau = [(pt * distance[..., :k].min(axis=2)).sum(axis=1) for k in (1, 2, 3)]
    values = {
        "jet_mass": mass,
        "jet_pt": jet_pt,
        "jet_eta": jet_eta,
        "tau21": tau[1] / np.maximum(tau[0], 1e-12),
        "tau32": tau[2] / np.maximum(tau[1], 1e-12),
        "n_constituents": mask.sum(axis=1),
    }
    return pd.DataFrame({name: values[name] for name in JET_FEATURES})
