"""Awkward-array helpers of the jet generator: truth tops, ΔR matching, padded constituents.

Pure numpy/awkward (no Pythia, no FastJet): the generator passes Pythia's particle records
and FastJet's constituents in.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hep_pnn.data.jets.sample import MAX_CONSTITUENTS
from hep_pnn.data.jets.substructure import JET_RADIUS

__all__ = [
    "delta_r",
    "eta_phi",
    "fastjet_inputs",
    "hadronic_tops",
    "padded_constituents",
    "pt_eta_phi",
    "top_matched",
    "visible_final",
]


def eta_phi(px: Any, py: Any, pz: Any) -> tuple[np.ndarray, np.ndarray]:
    """Pseudorapidity and azimuth of momenta (η = 0 for pT = 0).

    Example:
        >>> eta, phi = eta_phi(np.array([1.0]), np.array([0.0]), np.array([1.0]))
        >>> round(float(eta[0]), 3), float(phi[0])
        (0.881, 0.0)
    """
    pt = np.hypot(px, py)
    return np.arcsinh(np.divide(pz, pt, out=np.zeros_like(pz), where=pt > 0)), np.arctan2(py, px)


def pt_eta_phi(p: Any) -> tuple[Any, Any, Any]:
    """pT, η and φ of awkward momenta with fields px, py, pz (η of a pT = 0 momentum from
    a pT floor of 1e-9 GeV); :func:`eta_phi` is the numpy one."""
    pt = np.hypot(p.px, p.py)
    return pt, np.arcsinh(p.pz / np.maximum(pt, 1e-9)), np.arctan2(p.py, p.px)


def visible_final(particles: Any) -> Any:
    """The visible final-state particles of Pythia's records: status > 0, no neutrinos."""
    kind = abs(particles.id)
    return particles[(particles.status > 0) & (kind != 12) & (kind != 14) & (kind != 16)]


def fastjet_inputs(particles: Any) -> Any:
    """The particles' four-momenta as FastJet's awkward input (fields px, py, pz, E)."""
    import awkward as ak

    return ak.zip(
        {"px": particles.p.px, "py": particles.p.py, "pz": particles.p.pz, "E": particles.p.e}
    )


def delta_r(eta1: Any, phi1: Any, eta2: Any, phi2: Any) -> Any:
    """ΔR = √(Δη² + Δφ²), Δφ wrapped into [0, π] (numpy, awkward or scalars)."""
    dphi = np.abs(phi1 - phi2)
    return np.hypot(eta1 - eta2, np.minimum(dphi, 2 * np.pi - dphi))


def hadronic_tops(particles: Any) -> np.ndarray:
    """``(events, 2, 4, 2)``: (η, φ) of each top, its b and its W's two quarks; NaN if absent
    or if the W did not decay to quarks."""
    import awkward as ak

    ids, first, second = particles.id, particles.daughter1, particles.daughter2
    index = ak.local_index(ids)
    tops = index[(abs(ids) == 6) & (ids[first] != ids)]  # last copy: it decays
    top_first = ids[first[tops]]
    w = ak.where(abs(top_first) == 24, first[tops], second[tops])
    b = ak.where(abs(top_first) == 24, second[tops], first[tops])
    while True:  # follow the W through its recoil copies to the one that decays
        following = first[w]
        copy = ids[following] == ids[w]
        if not ak.any(copy):
            break
        w = ak.where(copy, following, w)
    quark1, quark2 = first[w], second[w]
    hadronic = (abs(ids[quark1]) <= 5) & (abs(ids[quark2]) <= 5) & (quark1 > 0)
    out = np.full((len(ids), 2, 4, 2), np.nan)
    for slot, which in enumerate((tops, b, quark1, quark2)):
        chosen = particles.p[which]
        eta, phi = eta_phi(*(np.asarray(ak.flatten(chosen[c])) for c in ("px", "py", "pz")))
        eta = np.where(np.asarray(ak.flatten(hadronic)), eta, np.nan)
        per_event = ak.unflatten(np.stack([eta, phi], axis=1), ak.num(tops))
        padded = ak.to_numpy(ak.fill_none(ak.pad_none(per_event, 2, clip=True), [np.nan] * 2))
        out[:, :, slot] = padded
    return out


def top_matched(jet_eta: np.ndarray, jet_phi: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Whether each jet holds a hadronic top and its three decay quarks within ΔR < R."""
    distance = delta_r(jet_eta[:, None, None], jet_phi[:, None, None], truth[..., 0], truth[..., 1])
    with np.errstate(invalid="ignore"):
        inside = distance < JET_RADIUS  # NaN (no such top) compares False
    return np.asarray(inside.all(axis=2).any(axis=1))


def padded_constituents(constituents: Any) -> np.ndarray:
    """``(jets, 200, 4)`` float32 (E, px, py, pz) from awkward ``jets * var * {px, py, pz, E}``:
    sorted by pT, cut at 200, zero-padded."""
    import awkward as ak

    order = ak.argsort(np.hypot(constituents.px, constituents.py), axis=1, ascending=False)
    ordered = constituents[order]
    fields = [
        ak.fill_none(ak.pad_none(ordered[name], MAX_CONSTITUENTS, clip=True), 0.0)
        for name in ("E", "px", "py", "pz")
    ]
    return np.stack([ak.to_numpy(f) for f in fields], axis=2).astype(np.float32)
