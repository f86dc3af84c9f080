r"""A fast parametric detector: resolutions, b-tagging, missing ET and the HEPMASS selection.

Example:
    >>> import numpy as np
    >>> from hep_pnn.data.generator.processes import PROCESSES
    >>> rng = np.random.default_rng(0)
    >>> event = simulate(PROCESSES["ttbar"].partons(rng, 2000, 0.0, 0.0), rng)
    >>> event.jets.shape[0], event.jets.shape[2], bool(event.n_jets.min() >= 4)
    (4, 4, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hep_pnn.data.generator.kinematics import pt
from hep_pnn.data.generator.processes import BOTTOM, CHARM, M_B, PartonEvent

__all__ = ["DetectorEvent", "simulate"]

# Jet energy resolution σ/pT = N/pT ⊕ S/√pT ⊕ C (ATLAS/CMS-like, docs/generator.md).
JET_NOISE, JET_STOCHASTIC, JET_CONSTANT = 3.0, 1.0, 0.06
JET_ANGLE_RESOLUTION = 0.02
# Semileptonic b decays: a fraction of b jets lose a share of their energy to a neutrino.
B_SEMILEPTONIC_FRACTION, B_SEMILEPTONIC_MAX_LOSS = 0.2, 0.35
LEPTON_STOCHASTIC, LEPTON_LINEAR = 0.015, 1e-4  # σ/pT = 1.5 % ⊕ 1e-4·pT
SOFT_MET_RESOLUTION = 0.5  # σ per MET component = 0.5 √ΣET (GeV)
CALORIMETER_ETA = 4.9
BTAG_ETA = 2.5
BTAG_EFFICIENCY = {BOTTOM: 0.70, CHARM: 0.12}
BTAG_LIGHT_MISTAG = 0.01
# HEPMASS selection.
LEPTON_PT_MIN, LEPTON_ETA_MAX = 15.0, 2.5
JET_PT_MIN, JET_ETA_MAX, N_JETS_MIN = 20.0, 3.0, 4


@dataclass(frozen=True)
class DetectorEvent:
    """Reconstructed objects of the *selected* events.

    Attributes:
        lepton: ``(4, n)`` measured lepton.
        jets: ``(4, n, 4)`` the four leading selected jets, by decreasing pT.
        btag: ``(n, 4)`` b-tag of those jets (0 or 1).
        n_jets: ``(n,)`` number of jets passing the jet selection.
        met: ``(2, n)`` missing transverse momentum vector.
        selected: ``(n_generated,)`` which generated events passed the selection.
    """

    lepton: np.ndarray
    jets: np.ndarray
    btag: np.ndarray
    n_jets: np.ndarray
    met: np.ndarray
    selected: np.ndarray


def _within_eta(p: np.ndarray, transverse: np.ndarray, eta_max: float) -> np.ndarray:
    """``|eta| <= eta_max`` without computing eta: ``|pz| <= pT sinh(eta_max)``."""
    return np.abs(p[2]) <= transverse * np.sinh(eta_max)


def _measure_jets(partons: PartonEvent, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Smeared jets and their pT: energy response, then small η and φ shifts."""
    jets = partons.jets
    true_pt = pt(jets)
    present = true_pt > 0
    safe_pt = np.where(present, true_pt, 1.0)
    sigma = np.sqrt((JET_NOISE / safe_pt) ** 2 + JET_STOCHASTIC**2 / safe_pt + JET_CONSTANT**2)
    response = 1 + sigma * rng.standard_normal(true_pt.shape, dtype=np.float32)
    semileptonic = (partons.flavour == BOTTOM) & (
        rng.random(true_pt.shape, dtype=np.float32) < B_SEMILEPTONIC_FRACTION
    )
    loss = B_SEMILEPTONIC_MAX_LOSS * rng.random(true_pt.shape, dtype=np.float32)
    response = np.maximum(response - np.where(semileptonic, loss, 0.0), 0.0)
    # Shifting phi and eta by small angles (σ = 0.02) to second order avoids the costly
    # pT/eta/phi round trip: errors are O(δ³) ≈ 1e-5 of the resolution itself.
    d_phi = JET_ANGLE_RESOLUTION * rng.standard_normal(true_pt.shape, dtype=np.float32)
    d_eta = JET_ANGLE_RESOLUTION * rng.standard_normal(true_pt.shape, dtype=np.float32)
    cos_phi, sin_phi = 1.0 - 0.5 * d_phi * d_phi, d_phi
    momentum = np.sqrt(true_pt * true_pt + jets[2] * jets[2])
    px = (jets[0] * cos_phi - jets[1] * sin_phi) * response
    py = (jets[0] * sin_phi + jets[1] * cos_phi) * response
    pz = (jets[2] * (1.0 + 0.5 * d_eta * d_eta) + momentum * d_eta) * response
    jet_mass = np.where(partons.flavour == BOTTOM, np.float32(M_B), np.float32(0))
    energy = np.sqrt(px * px + py * py + pz * pz + jet_mass * jet_mass)
    measured = np.stack([px, py, pz, np.where(present, energy, 0.0)])
    return measured, pt(measured)


def _btag(flavour: np.ndarray, taggable: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    efficiency = np.full(flavour.shape, BTAG_LIGHT_MISTAG, dtype=np.float32)
    for code, value in BTAG_EFFICIENCY.items():
        efficiency[flavour == code] = value
    return ((rng.random(flavour.shape, dtype=np.float32) < efficiency) & taggable).astype(np.int8)


def simulate(partons: PartonEvent, rng: np.random.Generator) -> DetectorEvent:
    """Smear the partons, tag b jets, compute missing ET and apply the HEPMASS selection.

    Args:
        partons: parton-level events from a :class:`~.processes.Process`.
        rng: the random generator (the number of draws does not depend on the events).

    Returns:
        The measured objects of the events that pass the selection.
    """
    lepton_pt = pt(partons.lepton)
    lepton_sigma = np.hypot(LEPTON_STOCHASTIC, LEPTON_LINEAR * lepton_pt)
    lepton = partons.lepton * (
        1 + lepton_sigma * rng.standard_normal(lepton_pt.shape, dtype=np.float32)
    )
    jets, jet_pt = _measure_jets(partons, rng)
    btag = _btag(partons.flavour, _within_eta(jets, jet_pt, BTAG_ETA), rng)

    in_calorimeter = (jet_pt > 0) & _within_eta(jets, jet_pt, CALORIMETER_ETA)
    visible_x = lepton[0] + np.where(in_calorimeter, jets[0], 0.0).sum(axis=1)
    visible_y = lepton[1] + np.where(in_calorimeter, jets[1], 0.0).sum(axis=1)
    sum_et = pt(lepton) + np.where(in_calorimeter, jet_pt, 0.0).sum(axis=1)
    noise = rng.standard_normal((2, sum_et.shape[0]), dtype=np.float32)
    soft = SOFT_MET_RESOLUTION * np.sqrt(sum_et) * noise
    met = np.stack([-visible_x, -visible_y]) + soft

    good = (jet_pt >= JET_PT_MIN) & _within_eta(jets, jet_pt, JET_ETA_MAX)
    n_jets = good.sum(axis=1)
    measured_lepton_pt = pt(lepton)
    selected = (
        (measured_lepton_pt >= LEPTON_PT_MIN)
        & _within_eta(lepton, measured_lepton_pt, LEPTON_ETA_MAX)
        & (n_jets >= N_JETS_MIN)
    )
    rows = np.flatnonzero(selected)
    key = np.where(good[rows], jet_pt[rows], -1.0)
    leading = np.argsort(-key, axis=1, kind="stable")[:, :4]
    jets_selected = np.take_along_axis(jets[:, rows], leading[None], axis=2)
    return DetectorEvent(
        lepton=lepton[:, rows],
        jets=jets_selected,
        btag=np.take_along_axis(btag[rows], leading, axis=1),
        n_jets=n_jets[rows],
        met=met[:, rows],
        selected=selected,
    )
