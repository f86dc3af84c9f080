r"""Parton-level physics processes: X → tt̄ signal, SM tt̄ and W+jets backgrounds.

Every process returns a :class:`PartonEvent`: the charged lepton, the neutrino and up to
``MAX_JETS`` jet partons (absent ones are zero four-vectors) with their flavour. All
choices and their sources are documented in ``docs/generator.md``.

Example:
    >>> import numpy as np
    >>> event = PROCESSES["signal"].partons(np.random.default_rng(0), 1000, 1000.0, 0.03)
    >>> event.jets.shape, event.flavour.shape
    ((4, 1000, 8), (1000, 8))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hep_pnn.data.generator._draws import (
    RandomSource,
    cauchy,
    direction,
    gamma,
    normal,
    poisson,
    stream,
    uniform,
)
from hep_pnn.data.generator._fourvec import (
    F32,
    HALF,
    ONE,
    ZERO,
    decay,
    helper,
    kernel,
    massless,
    sinh_cosh,
)
from hep_pnn.data.generator.production import SIGNAL_SPINS, SM_TTBAR, cos_theta, is_signal_spin

__all__ = [
    "BACKGROUNDS",
    "BR_LEPTON_JETS",
    "LHC_SQRT_S",
    "MAX_JETS",
    "M_TOP",
    "M_W",
    "PROCESSES",
    "TTBAR_THRESHOLD",
    "WIDTH_FRACTION",
    "PartonEvent",
    "Process",
    "empty_event",
]

LHC_SQRT_S = 13_000.0
M_TOP, GAMMA_TOP = 172.5, 1.42
M_W, GAMMA_W = 80.4, 2.09
M_B = 4.8
TTBAR_THRESHOLD = 2 * M_TOP
#: BR(tt̄ → ℓ + jets) with ℓ = e, μ: 2 × BR(W → eν, μν) × BR(W → qq′) = 2 × 0.2134 × 0.6741 (PDG).
BR_LEPTON_JETS = 2 * 0.2134 * 0.6741
MAX_JETS = 8
MAX_RADIATION = MAX_JETS - 4

LIGHT, CHARM, BOTTOM = 0, 4, 5

# The SM tt̄ mass: m_t1 + m_t2 + TTBAR_SPECTRUM_SCALE × B′(a, b), a beta-prime excess that
# rises like x^(a-1) and falls like x^-(b+1): the maximum-likelihood fit to Pythia 8's
# leading-order g g, q q̄ → tt̄ at 13 TeV (benchmarks/ttbar_spectrum.py, docs/generator.md).
TTBAR_SPECTRUM_SHAPE = (1.57, 6.48)
TTBAR_SPECTRUM_SCALE = 631.0  # GeV
# Tunable physics knobs, calibrated with benchmarks/calibrate_generator.py (docs/generator.md).
WIDTH_FRACTION = 0.05  # the X's default Breit–Wigner width / mass
RADIATION_MEAN_COUNT = 2.0
RADIATION_PT_MIN = 20.0
RADIATION_ETA_WIDTH = 1.8
# Radiation pT: density ∝ pT^-(power+1) from RADIATION_PT_MIN up to a cap (a fraction of
# m_tt̄), both measured in Pythia 8 by benchmarks/radiation.py. Pythia damps the shower of
# SM tt̄ above the factorisation scale, about the top's transverse mass (a process with two
# heavy coloured particles, SpaceShower:pTdampMatch = 3); the colour-singlet X gets the
# undamped power shower, up to the kinematic limit. The caps stand in for that.
RADIATION_PT_POWER, RADIATION_PT_CAP = 0.94, 0.5  # SM tt̄
SIGNAL_RADIATION_PT_POWER, SIGNAL_RADIATION_PT_CAP = 0.72, 1.0  # g g → X
RADIATION_HEAVY_FRACTIONS = (0.05, 0.02)  # gluon splitting to c, b
WJETS_EXTRA_COUNT = 0.6
WJETS_PT_MIN = 15.0
WJETS_PT_POWER = 2.0
WJETS_ETA_WIDTH = 1.5


@dataclass(frozen=True)
class PartonEvent:
    """Parton-level final state of ``n`` events.

    Attributes:
        lepton: ``(4, n)`` charged lepton (e or μ); all-zero for an event dropped because
            its final state exceeds the beams' momenta (its other fields may then be
            non-finite; the selection rejects it).
        neutrino: ``(4, n)`` neutrino.
        jets: ``(4, n, MAX_JETS)`` jet partons; absent ones are all-zero.
        flavour: ``(n, MAX_JETS)`` int8 parton flavour (0 light or gluon, 4 charm, 5 bottom).
    """

    lepton: np.ndarray
    neutrino: np.ndarray
    jets: np.ndarray
    flavour: np.ndarray


_F32 = np.float32
_RADIATION_PT_MIN = _F32(RADIATION_PT_MIN)
#: ``(exponent, cap)`` of the radiation pT of SM tt̄ and of the X (:func:`_soft_jet`).
_TTBAR_RADIATION = (_F32(-1 / RADIATION_PT_POWER), _F32(RADIATION_PT_CAP))
_SIGNAL_RADIATION = (_F32(-1 / SIGNAL_RADIATION_PT_POWER), _F32(SIGNAL_RADIATION_PT_CAP))
_WJETS_PT_MIN, _WJETS_PT_EXPONENT = _F32(WJETS_PT_MIN), _F32(-1 / WJETS_PT_POWER)
_RADIATION_ETA_WIDTH, _WJETS_ETA_WIDTH = _F32(RADIATION_ETA_WIDTH), _F32(WJETS_ETA_WIDTH)
_BOTTOM_BELOW = _F32(RADIATION_HEAVY_FRACTIONS[1])
_CHARM_BELOW = _F32(RADIATION_HEAVY_FRACTIONS[1] + RADIATION_HEAVY_FRACTIONS[0])
_SQRT_S, _RAPIDITY_WIDTH, _M_B = _F32(LHC_SQRT_S), _F32(0.3), _F32(M_B)
_SQRT_S_64 = float(LHC_SQRT_S)
_HALF_SQRT_S, _SPECTRUM_SCALE = _F32(0.5 * LHC_SQRT_S), _F32(TTBAR_SPECTRUM_SCALE)
_SPECTRUM_A, _SPECTRUM_B = (float(a) for a in TTBAR_SPECTRUM_SHAPE)


def _window(centre: float, width: float, low: float, high: float) -> tuple[float, ...]:
    """A Breit–Wigner of ``width`` truncated to [``low``, ``high``], for the kernels:
    ``(centre, half width, low and high in half widths from the centre)``."""
    half = 0.5 * width
    return (float(centre), half, (low - centre) / half, (high - centre) / half)


@helper
def _breit_wigner(state, window):
    """``(state, m)``: a float32 mass from the truncated Breit–Wigner ``window``."""
    centre, half, low, high = window
    state, c = cauchy(state, low, high)
    return state, F32(centre + half * c)


_TOP_WINDOW = _window(M_TOP, GAMMA_TOP, M_TOP - 12.0, M_TOP + 12.0)
_W_WINDOW = _window(M_W, GAMMA_W, 65.0, 95.0)


@helper
def _flavour(u):
    """Light, or a gluon splitting to c or b (fractions ``RADIATION_HEAVY_FRACTIONS``)."""
    return BOTTOM if u < _BOTTOM_BELOW else (CHARM if u < _CHARM_BELOW else LIGHT)


@helper
def _soft_jet(state, low, exponent, eta_width, floor):
    """A jet parton and its flavour: pT ``low * v^exponent`` for ``v`` uniform between
    ``floor`` and 1 (a density falling like pT^(1/exponent − 1) from ``low`` up to the cap
    of :func:`_radiation_floor`; ``floor`` 0: no cap); Gaussian η, uniform φ; a gluon
    splitting to c or b now and then. Returns ``(state, jet, flavour)``."""
    state, u_pt = uniform(state)
    state, z_eta = normal(state)
    state, cos_phi, sin_phi = direction(state)
    state, u_flavour = uniform(state)
    transverse = low * (floor + (ONE - floor) * (ONE - u_pt)) ** exponent
    jet = massless(transverse, eta_width * z_eta, cos_phi, sin_phi)
    return state, jet, _flavour(u_flavour)


@helper
def _radiation_floor(low, high, exponent):
    """The ``floor`` of :func:`_soft_jet` that caps its pT at ``high``: the ``v`` of
    ``low * v^exponent = high`` (computed once per event, not per jet)."""
    return (high / low) ** (ONE / exponent)


@helper
def _soft_jets(state, present, slots, low, exponent, eta_width, floor, jets, flavour, i, offset):
    """The first ``present`` of ``slots`` jets of event ``i`` from slot ``offset`` on
    (:func:`_soft_jet`; absent ones zero). Returns ``(state, px, py)``, their summed
    transverse momentum."""
    px, py = ZERO, ZERO
    for j in range(slots):
        jet, kind = (ZERO, ZERO, ZERO, ZERO), LIGHT
        if j < present:
            state, jet, kind = _soft_jet(state, low, exponent, eta_width, floor)
            px, py = px + jet[0], py + jet[1]
        _store_jet(jets, i, offset + j, jet)
        flavour[i, offset + j] = kind
    return state, px, py


@helper
def _system(m, px, py, rapidity_draw):
    """A system of mass ``m`` and transverse momentum ``(px, py)`` (the recoil), with a
    rapidity spread that narrows as the mass approaches the collision energy."""
    rapidity = _RAPIDITY_WIDTH * math.log(_SQRT_S / m) * rapidity_draw
    transverse_mass = np.sqrt(m * m + px * px + py * py)
    sinh, cosh = sinh_cosh(rapidity)
    return (px, py, transverse_mass * sinh, transverse_mass * cosh)


@helper
def _store(out, i, p):
    """Four-vector ``p`` into column ``i`` of ``out`` ``(4, n)``."""
    for c in range(4):
        out[c, i] = p[c]


@helper
def _store_jet(jets, i, j, p):
    """Four-vector ``p`` as jet ``j`` of event ``i`` of ``jets`` ``(4, n, MAX_JETS)``."""
    for c in range(4):
        jets[c, i, j] = p[c]


@helper
def _drop_beyond_beams(lepton, neutrino, jets, i):
    """Drop event ``i`` (remove its lepton, so the selection rejects it) unless its whole
    final state has E + p_z ≤ √s and E − p_z ≤ √s, i.e. neither incoming parton carries
    more than its beam's momentum (x₁, x₂ ≤ 1); a NaN momentum drops it too."""
    plus = np.float64(lepton[3, i] + lepton[2, i]) + np.float64(neutrino[3, i] + neutrino[2, i])
    minus = np.float64(lepton[3, i] - lepton[2, i]) + np.float64(neutrino[3, i] - neutrino[2, i])
    for j in range(jets.shape[2]):
        plus += np.float64(jets[3, i, j] + jets[2, i, j])
        minus += np.float64(jets[3, i, j] - jets[2, i, j])
    if not (plus <= _SQRT_S_64 and minus <= _SQRT_S_64):
        for c in range(4):
            lepton[c, i] = ZERO


@helper
def _isotropic(state, parent, m1, m2):
    """``(state, daughter, daughter)``: :func:`~._fourvec.decay` with its draws."""
    state, u_cos = uniform(state)
    state, cos_phi, sin_phi = direction(state)
    first, second = decay(parent, m1, m2, u_cos, cos_phi, sin_phi)
    return state, first, second


@helper
def _produce(state, system, m_pair, m1, m2, spin):
    """``(state, top, antitop)``: the tt̄ ``system`` of mass ``m_pair`` into two tops of
    masses ``m1``, ``m2`` at the production angle of the process (``spin`` of
    :func:`~.production.cos_theta`, from the beam axis in the tt̄ rest frame), uniform
    in azimuth; β is the top's velocity in that frame."""
    s = m_pair * m_pair
    lam = (s - (m1 + m2) * (m1 + m2)) * (s - (m1 - m2) * (m1 - m2))
    beta = np.sqrt(lam if lam > 0 else ZERO) / (s + m1 * m1 - m2 * m2)
    state, c = cos_theta(state, beta, spin)
    state, cos_phi, sin_phi = direction(state)
    top, antitop = decay(system, m1, m2, HALF * (c + ONE), cos_phi, sin_phi)
    return state, top, antitop


@helper
def _pair_mass(state, m_top, resonance, window):
    """m_tt̄: a Breit–Wigner at the resonance (above the two top masses) or, for SM tt̄,
    threshold plus a beta-prime excess (a ratio of two gammas), below √s/2. Returns
    ``(state, m_tt̄)``."""
    if resonance:
        state, m = _breit_wigner(state, window)
        return state, max(m, m_top + ONE)
    state, numerator = gamma(state, _SPECTRUM_A)
    state, denominator = gamma(state, _SPECTRUM_B)
    excess = F32(numerator / denominator)
    return state, min(m_top + _SPECTRUM_SCALE * excess, _HALF_SQRT_S)


@kernel
def _top_pair_kernel(state, spin, window, out):
    """tt̄ events into ``out`` = (lepton, neutrino, jets, flavour) of a :class:`PartonEvent`:
    top masses, m_tt̄ (:func:`_pair_mass`), radiation, the tt̄ system recoiling against it,
    then the decays t t̄, t → Wb, t̄ → Wb, W → ℓν, W → qq′, all drawn from ``state``;
    events beyond the beams' momenta are dropped (:func:`_drop_beyond_beams`). ``spin``:
    the X's, or :data:`~.production.SM_TTBAR`."""
    resonance = spin != SM_TTBAR
    lepton, neutrino, jets, flavour = out
    for i in range(lepton.shape[1]):
        state, m_top = _breit_wigner(state, _TOP_WINDOW)
        state, m_antitop = _breit_wigner(state, _TOP_WINDOW)
        state, m_pair = _pair_mass(state, m_top + m_antitop, resonance, window)
        state, count = poisson(state, RADIATION_MEAN_COUNT)
        exponent, cap = _SIGNAL_RADIATION if resonance else _TTBAR_RADIATION
        state, px, py = _soft_jets(
            state,
            min(count, MAX_RADIATION),
            MAX_RADIATION,
            _RADIATION_PT_MIN,
            exponent,
            _RADIATION_ETA_WIDTH,
            _radiation_floor(_RADIATION_PT_MIN, max(cap * m_pair, _RADIATION_PT_MIN), exponent),
            jets,
            flavour,
            i,
            4,
        )
        state, rapidity = normal(state)
        system = _system(m_pair, -px, -py, rapidity)
        state, top_lep, top_had = _produce(state, system, m_pair, m_top, m_antitop, spin)
        state, m_w_lep = _breit_wigner(state, _W_WINDOW)
        state, m_w_had = _breit_wigner(state, _W_WINDOW)
        state, w_lep, b_lep = _isotropic(state, top_lep, m_w_lep, _M_B)
        state, w_had, b_had = _isotropic(state, top_had, m_w_had, _M_B)
        state, charged, invisible = _isotropic(state, w_lep, ZERO, ZERO)
        state, quark1, quark2 = _isotropic(state, w_had, ZERO, ZERO)
        _store(lepton, i, charged)
        _store(neutrino, i, invisible)
        for j, parton in enumerate((b_lep, b_had, quark1, quark2)):
            _store_jet(jets, i, j, parton)
        # W → cs in about half of the hadronic decays (CKM-suppressed modes neglected).
        state, u_charm = uniform(state)
        flavour[i, 0], flavour[i, 1] = BOTTOM, BOTTOM
        flavour[i, 2] = CHARM if u_charm < HALF else LIGHT
        flavour[i, 3] = LIGHT
        _drop_beyond_beams(lepton, neutrino, jets, i)


@kernel
def _wjets_kernel(state, out):
    """W+jets events into ``out`` (as :func:`_top_pair_kernel`): four to eight jet partons
    (:func:`_soft_jet`), the W recoiling against them, W → ℓν."""
    lepton, neutrino, jets, flavour = out
    for i in range(lepton.shape[1]):
        state, count = poisson(state, WJETS_EXTRA_COUNT)
        state, px, py = _soft_jets(
            state,
            4 + min(count, MAX_JETS - 4),
            MAX_JETS,
            _WJETS_PT_MIN,
            _WJETS_PT_EXPONENT,
            _WJETS_ETA_WIDTH,
            ZERO,
            jets,
            flavour,
            i,
            0,
        )
        state, m_w = _breit_wigner(state, _W_WINDOW)
        state, rapidity = normal(state)
        system = _system(m_w, -px, -py, rapidity)
        state, charged, invisible = _isotropic(state, system, ZERO, ZERO)
        _store(lepton, i, charged)
        _store(neutrino, i, invisible)
        _drop_beyond_beams(lepton, neutrino, jets, i)


def empty_event(n: int) -> PartonEvent:
    """A :class:`PartonEvent` of ``n`` events for a kernel to fill."""
    return PartonEvent(
        lepton=np.empty((4, n), np.float32),
        neutrino=np.empty((4, n), np.float32),
        jets=np.empty((4, n, MAX_JETS), np.float32),
        flavour=np.empty((n, MAX_JETS), np.int8),
    )


def _fields(event: PartonEvent) -> tuple[np.ndarray, ...]:
    """The arrays of ``event``, as the ``out`` tuple of the kernels."""
    return event.lepton, event.neutrino, event.jets, event.flavour


def _output(n: int, out: PartonEvent | None) -> PartonEvent:
    """``out`` if it holds ``n`` events (an :func:`empty_event`), else a new event."""
    if out is None:
        return empty_event(n)
    if out.flavour.shape != (n, MAX_JETS):
        raise ValueError(f"out holds {out.flavour.shape[0]} events, not {n}")
    return out


def _top_pair(
    rng: RandomSource, out: PartonEvent, *, spin: int, window: tuple[float, ...] = _TOP_WINDOW
) -> PartonEvent:
    _top_pair_kernel(stream(rng), spin, window, _fields(out))
    return out


def _signal(
    rng: RandomSource,
    n: int,
    mass: float,
    width_fraction: float,
    out: PartonEvent | None = None,
    spin: int = 2,
) -> PartonEvent:
    """X → tt̄ (Breit–Wigner m_tt̄) → (bℓν)(bqq′) plus radiation; a spin-2 X made in gluon
    fusion, or a spin-0 one (``spin``; :func:`~.production.cos_theta`), decays isotropic."""
    if not is_signal_spin(spin):
        raise ValueError(f"spin must be one of {SIGNAL_SPINS}, not {spin!r}")
    width = width_fraction * mass
    window = _window(mass, width, mass - 10 * width, mass + 10 * width)
    return _top_pair(rng, _output(n, out), spin=int(spin), window=window)


def _ttbar(
    rng: RandomSource,
    n: int,
    mass: float,
    width_fraction: float,
    out: PartonEvent | None = None,
    spin: int = 2,
) -> PartonEvent:
    """SM tt̄ (falling m_tt̄ from threshold, gg and q q̄ production angles) → (bℓν)(bqq′)
    plus radiation."""
    return _top_pair(rng, _output(n, out), spin=SM_TTBAR)


def _wjets(
    rng: RandomSource,
    n: int,
    mass: float,
    width_fraction: float,
    out: PartonEvent | None = None,
    spin: int = 2,
) -> PartonEvent:
    """W(→ℓν) + at least four light/charm/bottom partons with falling pT."""
    event = _output(n, out)
    _wjets_kernel(stream(rng), _fields(event))
    return event


@dataclass(frozen=True)
class Process:
    """A physics process the generator can simulate.

    Attributes:
        name: process name used in event tables (``"signal"``, ``"ttbar"``, ``"wjets"``).
        label: 1 for signal, 0 for background.
        background_share: share of an integer ``n_background`` given to this process.
        cross_section: σ × BR(ℓ + jets) in pb as a function of the signal mass.
        partons: ``(rng, n, mass, width_fraction, out=None, spin=2) -> PartonEvent``;
            ``rng`` is a numpy ``Generator`` or a kernel stream state
            (:func:`~._draws.stream`), ``out`` an :func:`empty_event` of ``n`` events to
            fill instead of a new one, ``spin`` the signal X's (the backgrounds ignore it).
    """

    name: str
    label: int
    background_share: float
    cross_section: Callable[[float], float]
    partons: Callable[..., PartonEvent]


#: Benchmark σ(pp → X → tt̄) at m_X = 1 TeV in pb, falling like m^-4 (a hypothetical resonance).
SIGNAL_XSEC_1TEV_PB = 1.0
#: σ(pp → tt̄) at 13 TeV, NNLO+NNLL (Top++ 2.0, m_t = 172.5 GeV), in pb.
TTBAR_XSEC_PB = 832.0
#: σ(pp → W(→eν, μν) + ≥ 4 partons, pT > 15 GeV) at 13 TeV in pb (order-of-magnitude estimate).
WJETS_XSEC_PB = 40.0

PROCESSES: dict[str, Process] = {
    "signal": Process(
        "signal",
        1,
        0.0,
        lambda m: SIGNAL_XSEC_1TEV_PB * (1000.0 / m) ** 4 * BR_LEPTON_JETS,
        _signal,
    ),
    "ttbar": Process("ttbar", 0, 0.9, lambda m: TTBAR_XSEC_PB * BR_LEPTON_JETS, _ttbar),
    "wjets": Process("wjets", 0, 0.1, lambda m: WJETS_XSEC_PB, _wjets),
}

#: Background processes in generation order.
BACKGROUNDS: tuple[str, ...] = ("ttbar", "wjets")
