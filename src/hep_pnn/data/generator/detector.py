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

from dataclasses import dataclass

import numpy as np

from hep_pnn.data.generator._draws import RandomSource, normal, stream, uniform
from hep_pnn.data.generator._fourvec import (
    HALF,
    ONE,
    ZERO,
    asinh,
    atan2,
    helper,
    kernel,
    mass,
    widen,
)
from hep_pnn.data.generator.processes import BOTTOM, CHARM, M_B, PartonEvent

__all__ = ["DetectorEvent", "empty_detector_event", "simulate"]

# Partons closer than this in (η, φ) make one jet (anti-kT R = 0.4): the decay products
# of boosted tops merge (docs/generator.md, "Physics").
MERGE_RADIUS = 0.4
# Jet energy resolution σ/pT = N/pT ⊕ S/√pT ⊕ C (ATLAS/CMS-like, docs/generator.md).
JET_NOISE, JET_STOCHASTIC, JET_CONSTANT = 3.0, 1.0, 0.06
JET_ANGLE_RESOLUTION = 0.02
# Semileptonic b decays: a fraction of b jets lose a share of their energy to a neutrino.
B_SEMILEPTONIC_FRACTION, B_SEMILEPTONIC_MAX_LOSS = 0.2, 0.35
# Out-of-cone radiation: a parton's jet misses the energy its shower and hadronisation
# spread beyond the jet (anti-kT R = 0.4): in this share of jets it loses an exponential
# fraction of this mean, at most OUT_OF_CONE_MAX; the energy stays in the event (the MET
# counts it). Measured in Pythia 8 tt̄ (benchmarks/jet_response.py, docs/generator.md).
OUT_OF_CONE_FRACTION, OUT_OF_CONE_MEAN, OUT_OF_CONE_MAX = 0.47, 0.173, 0.9
LEPTON_STOCHASTIC, LEPTON_LINEAR = 0.015, 1e-4  # σ/pT = 1.5 % ⊕ 1e-4·pT
SOFT_MET_RESOLUTION = 0.5  # σ per MET component = 0.5 √ΣET (GeV)
CALORIMETER_ETA = 4.9
BTAG_ETA = 2.5
BTAG_EFFICIENCY = {BOTTOM: 0.70, CHARM: 0.12}
BTAG_LIGHT_MISTAG = 0.01
#: The default tag probabilities of b, c and light jets, in the order ``simulate`` takes.
BTAG_WORKING_POINT = (BTAG_EFFICIENCY[BOTTOM], BTAG_EFFICIENCY[CHARM], BTAG_LIGHT_MISTAG)
# Lepton isolation (Delphes 3 ATLAS and CMS cards): the jets within ΔR < 0.5 of the
# lepton may carry at most this share of its pT; the lepton is an electron (W → eν) or a
# muon (W → μν) with equal probability (docs/generator.md, "Physics").
ISOLATION_RADIUS = 0.5
ISOLATION_PT_RATIO = {"electron": 0.12, "muon": 0.25}
ELECTRON_SHARE = 0.5
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
_LEPTON_STOCHASTIC2, _LEPTON_LINEAR = _F32(LEPTON_STOCHASTIC**2), _F32(LEPTON_LINEAR)
_JET_NOISE = _F32(JET_NOISE)
_JET_STOCHASTIC2, _JET_CONSTANT2 = _F32(JET_STOCHASTIC**2), _F32(JET_CONSTANT**2)
_JET_ANGLE_RESOLUTION = _F32(JET_ANGLE_RESOLUTION)
_B_SEMILEPTONIC_FRACTION = _F32(B_SEMILEPTONIC_FRACTION)
_B_SEMILEPTONIC_MAX_LOSS = _F32(B_SEMILEPTONIC_MAX_LOSS)
_OUT_FRACTION, _OUT_MEAN = _F32(OUT_OF_CONE_FRACTION), _F32(OUT_OF_CONE_MEAN)
_OUT_MAX, _TINY = _F32(OUT_OF_CONE_MAX), _F32(1e-30)
_M_B, _SOFT_MET_RESOLUTION = _F32(M_B), _F32(SOFT_MET_RESOLUTION)
_LEPTON_PT_MIN, _JET_PT_MIN = _F32(LEPTON_PT_MIN), _F32(JET_PT_MIN)
# |eta| <= eta_max as |pz| <= pT sinh(eta_max), compared in float64 as numpy did.
_SINH_CALORIMETER, _SINH_BTAG = np.sinh(CALORIMETER_ETA), np.sinh(BTAG_ETA)
_SINH_LEPTON, _SINH_JET = np.sinh(LEPTON_ETA_MAX), np.sinh(JET_ETA_MAX)


@helper
def _within(pz, transverse, sinh_eta_max):
    """``|eta| <= eta_max`` without computing eta: ``|pz| <= pT sinh(eta_max)``."""
    return abs(pz) <= np.float64(transverse) * sinh_eta_max


@helper
def _measure_jet(state, jet, true_pt, bottom, jet_mass, b_share):
    """``(state, jet)``: the smeared jet: energy response, semileptonic b loss (on the
    ``b_share`` of the jet's energy its b quarks carry), then small η and φ shifts; its
    mass is ``jet_mass`` (merged partons) times the response, at least m_b for a b jet.

    Shifting φ and η by small angles (σ = 0.02) to second order avoids the costly
    pT/η/φ round trip: errors are O(δ³) ≈ 1e-5 of the resolution itself.
    """
    inverse = ONE / true_pt
    noise = _JET_NOISE * inverse
    sigma = np.sqrt(noise * noise + _JET_STOCHASTIC2 * inverse + _JET_CONSTANT2)
    state, z = normal(state)
    response = ONE + sigma * z
    if bottom:
        state, u_decay = uniform(state)
        state, u_loss = uniform(state)
        if u_decay < _B_SEMILEPTONIC_FRACTION:
            response = response - _B_SEMILEPTONIC_MAX_LOSS * u_loss * b_share
    response = response if response > 0 else ZERO
    state, z_phi = normal(state)
    state, z_eta = normal(state)
    d_phi = _JET_ANGLE_RESOLUTION * z_phi
    d_eta = _JET_ANGLE_RESOLUTION * z_eta
    cos_phi, sin_phi = ONE - HALF * d_phi * d_phi, d_phi
    momentum = np.sqrt(true_pt * true_pt + jet[2] * jet[2])
    px = (jet[0] * cos_phi - jet[1] * sin_phi) * response
    py = (jet[0] * sin_phi + jet[1] * cos_phi) * response
    pz = (jet[2] * (ONE + HALF * d_eta * d_eta) + momentum * d_eta) * response
    m = max(jet_mass * response, _M_B if bottom else ZERO)
    return state, (px, py, pz, np.sqrt(px * px + py * py + pz * pz + m * m))


@helper
def _out_of_cone(state):
    """``(state, kept)``: the share of a jet's energy inside the jet (1 for most jets,
    1 − min(Exp(mean), max) for :data:`OUT_OF_CONE_FRACTION` of them)."""
    state, u_share = uniform(state)
    if u_share >= _OUT_FRACTION:
        return state, ONE
    state, u_loss = uniform(state)
    return state, ONE - min(-_OUT_MEAN * np.log(max(u_loss, _TINY)), _OUT_MAX)


# A radius in (η, φ) as the pair (sinh R, R²) that _closer compares with.
_MERGE = (_F32(np.sinh(MERGE_RADIUS)), _F32(MERGE_RADIUS**2))
_ISOLATION = (_F32(np.sinh(ISOLATION_RADIUS)), _F32(ISOLATION_RADIUS**2))
_ISOLATION_ELECTRON = _F32(ISOLATION_PT_RATIO["electron"])
_ISOLATION_MUON = _F32(ISOLATION_PT_RATIO["muon"])
_ELECTRON_SHARE = _F32(ELECTRON_SHARE)


@helper
def _closer(p, p_momentum, p_pt, q, q_momentum, q_pt, radius):
    """Whether the directions of ``p`` and ``q`` ``(px, py, pz)`` (with their momenta and
    pT) lie closer than ``radius`` ``(sinh R, R²)`` in (η, φ).

    Most pairs are told apart without a transcendental function: sinh Δη =
    (pz₁|p₂| − pz₂|p₁|) / (pT₁ pT₂) against sinh R, and the sign of the transverse dot
    product (|Δφ| > π/2 > R); only the rest need asinh and atan2.
    """
    sinh_d_eta = (p[2] * q_momentum - q[2] * p_momentum) / (p_pt * q_pt)
    dot = p[0] * q[0] + p[1] * q[1]
    if abs(sinh_d_eta) >= radius[0] or dot <= 0:
        return False
    d_eta = asinh(sinh_d_eta)
    d_phi = atan2(p[0] * q[1] - p[1] * q[0], dot)
    return d_eta * d_eta + d_phi * d_phi < radius[1]


@helper
def _cone_pt(lepton, lepton_pt, measured, jet_pt):
    """The summed pT of the jets (any pT, from ``measured`` rows with ``jet_pt`` > 0)
    whose axis lies within :data:`ISOLATION_RADIUS` of the ``lepton`` ``(px, py, pz)``."""
    lepton_momentum = np.sqrt(lepton_pt * lepton_pt + lepton[2] * lepton[2])
    cone = ZERO
    for j in range(jet_pt.shape[0]):
        transverse = jet_pt[j]
        if not transverse > 0:
            continue
        jet = (measured[j, 0], measured[j, 1], measured[j, 2])
        momentum = np.sqrt(transverse * transverse + jet[2] * jet[2])
        if _closer(jet, momentum, transverse, lepton, lepton_momentum, lepton_pt, _ISOLATION):
            cone += transverse
    return cone


@helper
def _merge_partons(jets, flavour, i, merged, merged_flavour, slots, sizes):
    """Merge the partons of event ``i`` into jets: by decreasing pT each parton joins the
    first harder jet whose axis (its leading parton) lies within :data:`MERGE_RADIUS` in
    (η, φ), as anti-kT's hard jets take their soft neighbours, else it starts a jet.

    Row k of ``merged`` ``(MAX_JETS, 6)`` gets jet k's four-vector, its mass (0 for a
    single parton) and the share of its energy carried by b quarks; ``merged_flavour[k]``
    its flavour (b over c over light). Jets are in order of decreasing leading-parton pT;
    the rows after the last jet are zero. ``slots`` ``(3, MAX_JETS)`` intp and ``sizes``
    ``(2, MAX_JETS)`` float32 are workspace.

    """
    n_slots = jets.shape[2]
    order, axis, count = slots[0], slots[1], slots[2]
    transverse, momentum = sizes[0], sizes[1]
    n = 0
    for j in range(n_slots):
        for c in range(6):
            merged[j, c] = ZERO
        merged_flavour[j], count[j] = 0, 0
        px, py, pz = jets[0, i, j], jets[1, i, j], jets[2, i, j]
        pt_j = np.sqrt(px * px + py * py)
        if not pt_j > 0:
            continue
        transverse[j], momentum[j] = pt_j, np.sqrt(px * px + py * py + pz * pz)
        r = n  # insertion sort by decreasing pT
        while r > 0 and transverse[order[r - 1]] < pt_j:
            order[r] = order[r - 1]
            r -= 1
        order[r] = j
        n += 1
    n_jets = 0
    for r in range(n):
        j = order[r]
        px, py, pz = jets[0, i, j], jets[1, i, j], jets[2, i, j]
        parton = (px, py, pz)
        target = n_jets
        for k in range(n_jets):
            a = axis[k]
            near = (jets[0, i, a], jets[1, i, a], jets[2, i, a])
            if _closer(
                parton, momentum[j], transverse[j], near, momentum[a], transverse[a], _MERGE
            ):
                target = k
                break
        if target == n_jets:
            axis[target] = j
            n_jets += 1
        merged[target, 0] += px
        merged[target, 1] += py
        merged[target, 2] += pz
        merged[target, 3] += momentum[j]
        if flavour[i, j] == BOTTOM:
            merged[target, 5] += momentum[j]
        merged_flavour[target] = max(merged_flavour[target], flavour[i, j])
        count[target] += 1
    for k in range(n_jets):
        merged[k, 5] = merged[k, 5] / merged[k, 3]
        if count[k] > 1:  # in float64: a single parton's m² would be rounding noise
            jet = (merged[k, 0], merged[k, 1], merged[k, 2], merged[k, 3])
            merged[k, 4] = np.float32(mass(widen(jet)))


@kernel
def _simulate_kernel(state, lepton, jets, flavour, btag, out):
    """Detector response and selection of every event, drawn from ``state``; the selected
    ones are written to the first rows of ``out`` (the arrays of a :class:`DetectorEvent`,
    ``selected`` for all events); ``btag`` (float32) holds the tag probabilities of b, c
    and light jets. Returns the number of selected events.

    The lepton comes first: an event whose lepton fails the selection is dropped before
    its jets are measured. The lepton's isolation is checked once the jets are: an event
    whose lepton is not isolated (:func:`_cone_pt` above :data:`ISOLATION_PT_RATIO` of its
    pT, for its flavour, drawn only then) has no selected lepton and is dropped.
    """
    lepton_out, jets_out, btag_out, n_jets_out, met_out, selected = out
    n_slots = jets.shape[2]
    measured = np.empty((n_slots, 4), np.float32)
    jet_pt = np.empty(n_slots, np.float32)
    tag = np.empty(n_slots, np.int8)
    good = np.empty(n_slots, np.bool_)
    leading = np.empty(4, np.intp)
    merged = np.empty((n_slots, 6), np.float32)
    merged_flavour = np.empty(n_slots, np.int8)
    slots = np.empty((3, n_slots), np.intp)
    sizes = np.empty((2, n_slots), np.float32)
    k = 0
    for i in range(lepton.shape[1]):
        lepton_pt = np.sqrt(lepton[0, i] * lepton[0, i] + lepton[1, i] * lepton[1, i])
        state, z = normal(state)
        linear = _LEPTON_LINEAR * lepton_pt
        scale = ONE + np.sqrt(_LEPTON_STOCHASTIC2 + linear * linear) * z
        lx, ly = lepton[0, i] * scale, lepton[1, i] * scale
        lz, le = lepton[2, i] * scale, lepton[3, i] * scale
        measured_pt = np.sqrt(lx * lx + ly * ly)
        selected[i] = measured_pt >= _LEPTON_PT_MIN and _within(lz, measured_pt, _SINH_LEPTON)
        if not selected[i]:
            continue
        n_good = 0
        visible_x, visible_y, sum_et = lx, ly, measured_pt
        _merge_partons(jets, flavour, i, merged, merged_flavour, slots, sizes)
        for j in range(n_slots):
            parton = (merged[j, 0], merged[j, 1], merged[j, 2])
            true_pt = np.sqrt(parton[0] * parton[0] + parton[1] * parton[1])
            jet_pt[j], good[j] = ZERO, False
            if not true_pt > 0:  # no parton (or one along the beam): no jet, not in the MET
                continue
            bottom = merged_flavour[j] == BOTTOM
            state, p = _measure_jet(state, parton, true_pt, bottom, merged[j, 4], merged[j, 5])
            state, kept = _out_of_cone(state)
            for c in range(4):
                measured[j, c] = p[c] * kept
            # The jet's own pT, and its parton's measured pT (with what left the cone),
            # which the MET and the acceptance see.
            full_pt = np.sqrt(p[0] * p[0] + p[1] * p[1])
            transverse = full_pt * kept
            jet_pt[j] = transverse
            efficiency = btag[0] if bottom else (btag[1] if merged_flavour[j] == CHARM else btag[2])
            state, u_tag = uniform(state)
            tag[j] = u_tag < efficiency and _within(p[2], full_pt, _SINH_BTAG)
            if full_pt > 0 and _within(p[2], full_pt, _SINH_CALORIMETER):
                visible_x, visible_y = visible_x + p[0], visible_y + p[1]
                sum_et += full_pt
            good[j] = transverse >= _JET_PT_MIN and _within(p[2], full_pt, _SINH_JET)
            n_good += good[j]
        selected[i] = n_good >= N_JETS_MIN
        if not selected[i]:
            continue
        cone = _cone_pt((lx, ly, lz), measured_pt, measured, jet_pt)
        if cone > _ISOLATION_ELECTRON * measured_pt:  # not isolated as an electron
            state, u_flavour = uniform(state)
            muon = u_flavour >= _ELECTRON_SHARE
            selected[i] = muon and cone <= _ISOLATION_MUON * measured_pt
            if not selected[i]:
                continue
        soft = _SOFT_MET_RESOLUTION * np.sqrt(sum_et)
        state, z_x = normal(state)
        state, z_y = normal(state)
        met_out[k, 0] = -visible_x + soft * z_x
        met_out[k, 1] = -visible_y + soft * z_y
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


def empty_detector_event(n: int) -> DetectorEvent:
    """A :class:`DetectorEvent` with room for ``n`` events, for :func:`simulate` to fill."""
    return DetectorEvent(
        np.empty((n, 4), np.float32),
        np.empty((n, 4, 4), np.float32),
        np.empty((n, 4), np.int8),
        np.empty(n, np.int64),
        np.empty((n, 2), np.float32),
        np.empty(n, np.bool_),
    )


def simulate(
    partons: PartonEvent,
    rng: RandomSource,
    *,
    btag_efficiency: tuple[float, float, float] = BTAG_WORKING_POINT,
    out: DetectorEvent | None = None,
) -> DetectorEvent:
    """Smear the partons, tag b jets, compute missing ET and apply the HEPMASS selection.

    Args:
        partons: parton-level events from a :class:`~.processes.Process`.
        rng: a numpy ``Generator`` (one draw seeds the kernel's stream) or a stream
            state (:func:`~._draws.stream`).
        btag_efficiency: the probabilities that a b, a c and a light jet within
            |η| < 2.5 is tagged.
        out: an :func:`empty_detector_event` of at least as many events to fill (the
            result then views its arrays) instead of new arrays.

    Returns:
        The measured objects of the events that pass the selection.
    """
    n = partons.flavour.shape[0]
    if out is None:
        out = empty_detector_event(n)
    elif len(out.selected) < n:
        raise ValueError(f"out has room for {len(out.selected)} events, not {n}")
    fields = (out.lepton, out.jets, out.btag, out.n_jets, out.met, out.selected[:n])
    probabilities = np.asarray(btag_efficiency, np.float32)
    if probabilities.shape != (3,):
        raise ValueError(f"btag_efficiency needs three probabilities, not {btag_efficiency!r}")
    k = _simulate_kernel(
        stream(rng), partons.lepton, partons.jets, partons.flavour, probabilities, fields
    )
    lepton, jets, btag, n_jets, met, selected = fields
    return DetectorEvent(lepton[:k], jets[:k], btag[:k], n_jets[:k], met[:k], selected)
