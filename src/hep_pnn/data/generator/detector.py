r"""A fast parametric detector: resolutions, b-tagging, missing ET and the HEPMASS selection.

Example:
    >>> import numpy as np
    >>> from hep_pnn.data.generator.processes import PROCESSES
    >>> rng = np.random.default_rng(0)
    >>> event = simulate(PROCESSES["ttbar"].partons(rng, 2000, 0.0, 0.0), rng)
    >>> event.jets.shape[1:], event.lepton.shape[1], bool(event.n_jets.min() >= 4)
    ((4, 4), 4, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hep_pnn.data.generator._fourvec import HALF, ONE, ZERO, helper, kernel, numpy_sum
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
    """Reconstructed objects of the *selected* events, one row per event.

    Attributes:
        lepton: ``(n, 4)`` measured lepton ``(px, py, pz, E)``.
        jets: ``(n, 4, 4)`` the four leading selected jets by decreasing pT, each
            ``(px, py, pz, E)``.
        btag: ``(n, 4)`` b-tag of those jets (0 or 1).
        n_jets: ``(n,)`` number of jets passing the jet selection.
        met: ``(n, 2)`` missing transverse momentum vector.
        selected: ``(n_generated,)`` which generated events passed the selection.
    """

    lepton: np.ndarray
    jets: np.ndarray
    btag: np.ndarray
    n_jets: np.ndarray
    met: np.ndarray
    selected: np.ndarray


_F32 = np.float32
_LEPTON_STOCHASTIC, _LEPTON_LINEAR = _F32(LEPTON_STOCHASTIC), _F32(LEPTON_LINEAR)
_JET_NOISE = _F32(JET_NOISE)
_JET_STOCHASTIC2, _JET_CONSTANT2 = _F32(JET_STOCHASTIC**2), _F32(JET_CONSTANT**2)
_JET_ANGLE_RESOLUTION = _F32(JET_ANGLE_RESOLUTION)
_B_SEMILEPTONIC_FRACTION = _F32(B_SEMILEPTONIC_FRACTION)
_B_SEMILEPTONIC_MAX_LOSS = _F32(B_SEMILEPTONIC_MAX_LOSS)
_M_B, _SOFT_MET_RESOLUTION = _F32(M_B), _F32(SOFT_MET_RESOLUTION)
_BTAG_B, _BTAG_C = _F32(BTAG_EFFICIENCY[BOTTOM]), _F32(BTAG_EFFICIENCY[CHARM])
_BTAG_LIGHT = _F32(BTAG_LIGHT_MISTAG)
_LEPTON_PT_MIN, _JET_PT_MIN = _F32(LEPTON_PT_MIN), _F32(JET_PT_MIN)
# |eta| <= eta_max as |pz| <= pT sinh(eta_max), compared in float64 as numpy did.
_SINH_CALORIMETER, _SINH_BTAG = np.sinh(CALORIMETER_ETA), np.sinh(BTAG_ETA)
_SINH_LEPTON, _SINH_JET = np.sinh(LEPTON_ETA_MAX), np.sinh(JET_ETA_MAX)


@helper
def _within(pz, transverse, sinh_eta_max):
    """``|eta| <= eta_max`` without computing eta: ``|pz| <= pT sinh(eta_max)``."""
    return abs(pz) <= np.float64(transverse) * sinh_eta_max


@helper
def _measure_jet(jet, true_pt, bottom, draws):
    """Smeared jet: energy response, semileptonic b loss, then small η and φ shifts.

    ``draws`` are the jet's (response normal, semileptonic uniform, loss uniform, φ normal,
    η normal). Shifting φ and η by small angles (σ = 0.02) to second order avoids the
    costly pT/η/φ round trip: errors are O(δ³) ≈ 1e-5 of the resolution itself.
    """
    noise = _JET_NOISE / true_pt
    sigma = np.sqrt(noise * noise + _JET_STOCHASTIC2 / true_pt + _JET_CONSTANT2)
    response = ONE + sigma * draws[0]
    if bottom and draws[1] < _B_SEMILEPTONIC_FRACTION:
        response = response - _B_SEMILEPTONIC_MAX_LOSS * draws[2]
    response = response if response > 0 else ZERO
    d_phi = _JET_ANGLE_RESOLUTION * draws[3]
    d_eta = _JET_ANGLE_RESOLUTION * draws[4]
    cos_phi, sin_phi = ONE - HALF * d_phi * d_phi, d_phi
    momentum = np.sqrt(true_pt * true_pt + jet[2] * jet[2])
    px = (jet[0] * cos_phi - jet[1] * sin_phi) * response
    py = (jet[0] * sin_phi + jet[1] * cos_phi) * response
    pz = (jet[2] * (ONE + HALF * d_eta * d_eta) + momentum * d_eta) * response
    m = _M_B if bottom else ZERO
    return px, py, pz, np.sqrt(px * px + py * py + pz * pz + m * m)


@kernel
def _simulate_kernel(lepton, jets, flavour, lepton_draw, jet_draws, btag_draw, met_draw, out):
    """Detector response and selection of every event; the selected ones are written to
    the first rows of ``out`` (the arrays of a :class:`DetectorEvent`, ``selected`` for
    all events). Returns the number of selected events.

    Draws: ``lepton_draw`` ``(n,)`` normal; ``jet_draws`` ``(5, n, MAX_JETS)`` as
    :func:`_measure_jet`; ``btag_draw`` ``(n, MAX_JETS)`` uniform; ``met_draw`` ``(2, n)``.
    """
    lepton_out, jets_out, btag_out, n_jets_out, met_out, selected = out
    n_slots = jets.shape[2]
    measured = np.empty((n_slots, 4), np.float32)
    jet_pt = np.empty(n_slots, np.float32)
    tag = np.empty(n_slots, np.int8)
    good = np.empty(n_slots, np.bool_)
    visible = np.empty((3, n_slots), np.float32)  # px, py, pT of the calorimeter jets
    draws = np.empty(5, np.float32)
    leading = np.empty(4, np.intp)
    k = 0
    for i in range(lepton.shape[1]):
        lepton_pt = np.sqrt(lepton[0, i] * lepton[0, i] + lepton[1, i] * lepton[1, i])
        scale = ONE + math.hypot(_LEPTON_STOCHASTIC, _LEPTON_LINEAR * lepton_pt) * lepton_draw[i]
        lx, ly = lepton[0, i] * scale, lepton[1, i] * scale
        lz, le = lepton[2, i] * scale, lepton[3, i] * scale
        n_good = 0
        for j in range(n_slots):
            parton = (jets[0, i, j], jets[1, i, j], jets[2, i, j])
            true_pt = np.sqrt(parton[0] * parton[0] + parton[1] * parton[1])
            if not true_pt > 0:  # no parton (or one along the beam): no jet, not in the MET
                jet_pt[j], good[j] = ZERO, False
                visible[0, j], visible[1, j], visible[2, j] = ZERO, ZERO, ZERO
                continue
            for d in range(5):
                draws[d] = jet_draws[d, i, j]
            bottom = flavour[i, j] == BOTTOM
            p = _measure_jet(parton, true_pt, bottom, draws)
            transverse = np.sqrt(p[0] * p[0] + p[1] * p[1])
            for c in range(4):
                measured[j, c] = p[c]
            jet_pt[j] = transverse
            efficiency = _BTAG_B if bottom else (_BTAG_C if flavour[i, j] == CHARM else _BTAG_LIGHT)
            tag[j] = btag_draw[i, j] < efficiency and _within(p[2], transverse, _SINH_BTAG)
            in_calorimeter = transverse > 0 and _within(p[2], transverse, _SINH_CALORIMETER)
            visible[0, j] = p[0] if in_calorimeter else ZERO
            visible[1, j] = p[1] if in_calorimeter else ZERO
            visible[2, j] = transverse if in_calorimeter else ZERO
            good[j] = transverse >= _JET_PT_MIN and _within(p[2], transverse, _SINH_JET)
            n_good += good[j]
        measured_pt = np.sqrt(lx * lx + ly * ly)
        lepton_ok = measured_pt >= _LEPTON_PT_MIN and _within(lz, measured_pt, _SINH_LEPTON)
        selected[i] = lepton_ok and n_good >= N_JETS_MIN
        if not selected[i]:
            continue
        sum_et = measured_pt + numpy_sum(visible[2])
        soft = _SOFT_MET_RESOLUTION * np.sqrt(sum_et)
        met_out[k, 0] = -(lx + numpy_sum(visible[0])) + soft * met_draw[0, i]
        met_out[k, 1] = -(ly + numpy_sum(visible[1])) + soft * met_draw[1, i]
        lepton_out[k, 0], lepton_out[k, 1], lepton_out[k, 2], lepton_out[k, 3] = lx, ly, lz, le
        n_jets_out[k] = n_good
        _leading_four(jet_pt, good, leading)
        for r in range(4):
            for c in range(4):
                jets_out[k, r, c] = measured[leading[r], c]
            btag_out[k, r] = tag[leading[r]]
        k += 1
    return k


@helper
def _leading_four(transverse, good, leading):
    """Indices of the four highest-pT good jets, by decreasing pT (ties: lower index
    first, as a stable sort); there are at least four."""
    filled = 0
    for j in range(transverse.shape[0]):
        if not good[j]:
            continue
        r = min(filled, 4)
        while r > 0 and transverse[j] > transverse[leading[r - 1]]:
            if r < 4:
                leading[r] = leading[r - 1]
            r -= 1
        if r < 4:
            leading[r] = j
        filled += 1


def simulate(partons: PartonEvent, rng: np.random.Generator) -> DetectorEvent:
    """Smear the partons, tag b jets, compute missing ET and apply the HEPMASS selection.

    Args:
        partons: parton-level events from a :class:`~.processes.Process`.
        rng: the random generator (the number of draws does not depend on the events).

    Returns:
        The measured objects of the events that pass the selection.
    """
    n, n_slots = partons.flavour.shape
    lepton_draw = rng.standard_normal(n, dtype=np.float32)
    jet_draws = np.empty((5, n, n_slots), np.float32)
    rng.standard_normal(dtype=np.float32, out=jet_draws[0])  # energy response
    rng.random(dtype=np.float32, out=jet_draws[1])  # semileptonic b decay?
    rng.random(dtype=np.float32, out=jet_draws[2])  # its energy loss
    rng.standard_normal(dtype=np.float32, out=jet_draws[3])  # φ shift
    rng.standard_normal(dtype=np.float32, out=jet_draws[4])  # η shift
    btag_draw = rng.random((n, n_slots), dtype=np.float32)
    met_draw = rng.standard_normal((2, n), dtype=np.float32)  # soft term
    out = (
        np.empty((n, 4), np.float32),
        np.empty((n, 4, 4), np.float32),
        np.empty((n, 4), np.int8),
        np.empty(n, np.int64),
        np.empty((n, 2), np.float32),
        np.empty(n, np.bool_),
    )
    args = (partons.lepton, partons.jets, partons.flavour, lepton_draw, jet_draws)
    k = _simulate_kernel(*args, btag_draw, met_draw, out)
    lepton, jets, btag, n_jets, met, selected = out
    return DetectorEvent(lepton[:k], jets[:k], btag[:k], n_jets[:k], met[:k], selected)
