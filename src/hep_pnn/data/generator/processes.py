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

from hep_pnn.data.generator._fourvec import (
    HALF,
    ONE,
    PI,
    TWO_PI,
    ZERO,
    breit_wigner,
    decay,
    helper,
    kernel,
    massless,
    numpy_sum,
    sinh_cosh,
)
from hep_pnn.data.generator.kinematics import cauchy_window

__all__ = [
    "BACKGROUNDS",
    "BR_LEPTON_JETS",
    "LHC_SQRT_S",
    "MAX_JETS",
    "M_TOP",
    "M_W",
    "PROCESSES",
    "TTBAR_THRESHOLD",
    "PartonEvent",
    "Process",
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

# Tunable physics knobs, calibrated with benchmarks/calibrate_generator.py (docs/generator.md).
TTBAR_SPECTRUM_SHAPE = (1.6, 3.6)  # beta-prime (a, b): rises like x^(a-1), falls like x^-(b+1)
TTBAR_SPECTRUM_SCALE = 250.0  # GeV above threshold
RADIATION_MEAN_COUNT = 2.0
RADIATION_PT_MIN = 20.0
RADIATION_PT_POWER = 2.2  # pT density falls like pT^-(power+1)
RADIATION_ETA_WIDTH = 1.8
RADIATION_HEAVY_FRACTIONS = (0.05, 0.02)  # gluon splitting to c, b
WJETS_EXTRA_COUNT = 0.6
WJETS_PT_MIN = 15.0
WJETS_PT_POWER = 2.0
WJETS_ETA_WIDTH = 1.5


@dataclass(frozen=True)
class PartonEvent:
    """Parton-level final state of ``n`` events.

    Attributes:
        lepton: ``(4, n)`` charged lepton (e or μ).
        neutrino: ``(4, n)`` neutrino.
        jets: ``(4, n, MAX_JETS)`` jet partons; absent ones are all-zero.
        flavour: ``(n, MAX_JETS)`` int8 parton flavour (0 light or gluon, 4 charm, 5 bottom).
    """

    lepton: np.ndarray
    neutrino: np.ndarray
    jets: np.ndarray
    flavour: np.ndarray


_F32 = np.float32
_RADIATION_PT_MIN, _RADIATION_PT_EXPONENT = _F32(RADIATION_PT_MIN), _F32(-1 / RADIATION_PT_POWER)
_WJETS_PT_MIN, _WJETS_PT_EXPONENT = _F32(WJETS_PT_MIN), _F32(-1 / WJETS_PT_POWER)
_RADIATION_ETA_WIDTH, _WJETS_ETA_WIDTH = _F32(RADIATION_ETA_WIDTH), _F32(WJETS_ETA_WIDTH)
_BOTTOM_BELOW = _F32(RADIATION_HEAVY_FRACTIONS[1])
_CHARM_BELOW = _F32(RADIATION_HEAVY_FRACTIONS[1] + RADIATION_HEAVY_FRACTIONS[0])
_SQRT_S, _RAPIDITY_WIDTH, _M_B = _F32(LHC_SQRT_S), _F32(0.3), _F32(M_B)


def _window(centre: float, width: float, low: float, high: float) -> tuple[np.float32, ...]:
    """:func:`~.kinematics.cauchy_window` as float32 scalars, for the kernels."""
    return tuple(_F32(value) for value in cauchy_window(centre, width, low, high))


_TOP_WINDOW = _window(M_TOP, GAMMA_TOP, M_TOP - 12.0, M_TOP + 12.0)
_W_WINDOW = _window(M_W, GAMMA_W, 65.0, 95.0)


@kernel
def _breit_wigner_kernel(u, window):
    """Breit–Wigner masses at the uniform draws ``u`` (one pass, float32)."""
    out = np.empty_like(u)
    for i in range(u.shape[0]):
        out[i] = breit_wigner(u[i], window)
    return out


def _breit_wigner(rng: np.random.Generator, window: tuple, size: int) -> np.ndarray:
    """Masses of a truncated Breit–Wigner, drawn as :func:`~.kinematics.breit_wigner` does."""
    return _breit_wigner_kernel(rng.random(size, dtype=np.float32), window)


@helper
def _flavour(u):
    """Light, or a gluon splitting to c or b (fractions ``RADIATION_HEAVY_FRACTIONS``)."""
    return BOTTOM if u < _BOTTOM_BELOW else (CHARM if u < _CHARM_BELOW else LIGHT)


@helper
def _soft_jet(draws, i, j, present, low, exponent, eta_width, out, offset):
    """Jet ``j`` of event ``i`` into slot ``offset + j`` of ``out`` = (jets, flavour), from
    ``draws`` = (pT, η, φ, flavour) draws ``(4, n, jets)``: pT ``low * u^exponent`` (density
    falling like a power), Gaussian η, uniform φ; absent ones zero. Returns the jet."""
    jets, flavour = out
    jet = (ZERO, ZERO, ZERO, ZERO)
    if present:
        transverse = low * (ONE - draws[0, i, j]) ** exponent
        azimuth = TWO_PI * draws[2, i, j] - PI
        jet = massless(transverse, eta_width * draws[1, i, j], azimuth)
    for c in range(4):
        jets[c, i, offset + j] = jet[c]
    flavour[i, offset + j] = _flavour(draws[3, i, j]) if present else LIGHT
    return jet


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


@kernel
def _top_pair_kernel(count, radiation, rapidity, m_pair, m_top, angles, m_w, charm, out):
    """tt̄ events into ``out`` = (lepton, neutrino, jets, flavour) of a :class:`PartonEvent`.

    ``count`` and ``radiation`` are the radiation draws (Poisson counts and the
    ``(4, n, MAX_RADIATION)`` uniforms and normals), ``angles`` the ``(5, 2, n)`` draws of
    the five decays t t̄, t → Wb, t̄ → Wb, W → ℓν, W → qq′, ``charm`` the W → cs draws.
    """
    lepton, neutrino, jets, flavour = out
    for i in range(m_pair.shape[0]):
        n_radiated = min(count[i], MAX_RADIATION)
        px, py = ZERO, ZERO
        for j in range(MAX_RADIATION):
            jet = _soft_jet(
                radiation,
                i,
                j,
                j < n_radiated,
                _RADIATION_PT_MIN,
                _RADIATION_PT_EXPONENT,
                _RADIATION_ETA_WIDTH,
                (jets, flavour),
                4,
            )
            px, py = px + jet[0], py + jet[1]  # numpy sums 4 values in this order
        system = _system(m_pair[i], -px, -py, rapidity[i])
        top_lep, top_had = decay(system, m_top[0, i], m_top[1, i], angles[0, 0, i], angles[0, 1, i])
        w_lep, b_lep = decay(top_lep, m_w[0, i], _M_B, angles[1, 0, i], angles[1, 1, i])
        w_had, b_had = decay(top_had, m_w[1, i], _M_B, angles[2, 0, i], angles[2, 1, i])
        charged, invisible = decay(w_lep, ZERO, ZERO, angles[3, 0, i], angles[3, 1, i])
        quark1, quark2 = decay(w_had, ZERO, ZERO, angles[4, 0, i], angles[4, 1, i])
        _store(lepton, i, charged)
        _store(neutrino, i, invisible)
        for j, parton in enumerate((b_lep, b_had, quark1, quark2)):
            _store_jet(jets, i, j, parton)
        # W → cs in about half of the hadronic decays (CKM-suppressed modes neglected).
        flavour[i, 0], flavour[i, 1] = BOTTOM, BOTTOM
        flavour[i, 2] = CHARM if charm[i] < HALF else LIGHT
        flavour[i, 3] = LIGHT


@kernel
def _wjets_kernel(count, partons, rapidity, m_w, angles, out):
    """W+jets events into ``out`` (as :func:`_top_pair_kernel`); ``partons`` holds the
    ``(4, n, MAX_JETS)`` draws of the jets, ``angles`` the ``(2, n)`` draws of W → ℓν."""
    lepton, neutrino, jets, flavour = out
    px = np.empty(MAX_JETS, np.float32)
    py = np.empty(MAX_JETS, np.float32)
    for i in range(m_w.shape[0]):
        n_partons = 4 + min(count[i], MAX_JETS - 4)
        for j in range(MAX_JETS):
            jet = _soft_jet(
                partons,
                i,
                j,
                j < n_partons,
                _WJETS_PT_MIN,
                _WJETS_PT_EXPONENT,
                _WJETS_ETA_WIDTH,
                (jets, flavour),
                0,
            )
            px[j], py[j] = jet[0], jet[1]
        system = _system(m_w[i], -numpy_sum(px), -numpy_sum(py), rapidity[i])
        charged, invisible = decay(system, ZERO, ZERO, angles[0, i], angles[1, i])
        _store(lepton, i, charged)
        _store(neutrino, i, invisible)


def _empty_event(n: int) -> PartonEvent:
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


def _soft_jet_draws(
    rng: np.random.Generator, n: int, jets: int, *, flavour: bool = True
) -> np.ndarray:
    """``(4, n, jets)`` draws: pT uniform, η normal, φ uniform, then (if ``flavour``; else
    draw ``[3]`` later) the flavour uniform."""
    draws = np.empty((4, n, jets), np.float32)
    rng.random(dtype=np.float32, out=draws[0])
    rng.standard_normal(dtype=np.float32, out=draws[1])
    rng.random(dtype=np.float32, out=draws[2])
    if flavour:
        rng.random(dtype=np.float32, out=draws[3])
    return draws


def _decay_draws(rng: np.random.Generator, n: int) -> np.ndarray:
    """The ``(2, n)`` uniforms of isotropic decays: cos θ, then φ."""
    return np.stack([rng.random(n, dtype=np.float32), rng.random(n, dtype=np.float32)])


def _top_pair(rng: np.random.Generator, m_pair: np.ndarray, m_top: np.ndarray) -> PartonEvent:
    """tt̄ of invariant mass ``m_pair`` → (bℓν)(bqq′) plus radiation; isotropic decays.

    Radiation: Poisson count, falling pT, Gaussian η, uniform φ; the tt̄ system recoils
    against it.
    """
    n = m_pair.shape[0]
    count = rng.poisson(RADIATION_MEAN_COUNT, n)
    radiation = _soft_jet_draws(rng, n, MAX_RADIATION)
    rapidity = rng.standard_normal(n, dtype=np.float32)
    pair_decay = _decay_draws(rng, n)
    m_w = _breit_wigner(rng, _W_WINDOW, 2 * n).reshape(2, n)
    angles = np.stack([pair_decay, *(_decay_draws(rng, n) for _ in range(4))])
    charm = rng.random(n, dtype=np.float32)
    event = _empty_event(n)
    _top_pair_kernel(count, radiation, rapidity, m_pair, m_top, angles, m_w, charm, _fields(event))
    return event


def _top_masses(rng: np.random.Generator, n: int) -> np.ndarray:
    """``(2, n)`` top and antitop masses (Breit–Wigner)."""
    return _breit_wigner(rng, _TOP_WINDOW, 2 * n).reshape(2, n)


def _signal(rng: np.random.Generator, n: int, mass: float, width_fraction: float) -> PartonEvent:
    m_top = _top_masses(rng, n)
    width = width_fraction * mass
    m_pair = _breit_wigner(rng, _window(mass, width, mass - 10 * width, mass + 10 * width), n)
    return _top_pair(rng, np.maximum(m_pair, m_top.sum(axis=0) + 1.0), m_top)


def _ttbar(rng: np.random.Generator, n: int, mass: float, width_fraction: float) -> PartonEvent:
    m_top = _top_masses(rng, n)
    shape_a, shape_b = TTBAR_SPECTRUM_SHAPE
    excess = (rng.gamma(shape_a, size=n) / rng.gamma(shape_b, size=n)).astype(np.float32)
    m_pair = m_top.sum(axis=0) + TTBAR_SPECTRUM_SCALE * excess
    return _top_pair(rng, np.minimum(m_pair, 0.5 * LHC_SQRT_S), m_top)


def _wjets(rng: np.random.Generator, n: int, mass: float, width_fraction: float) -> PartonEvent:
    """W(→ℓν) + at least four light/charm/bottom partons with falling pT."""
    count = rng.poisson(WJETS_EXTRA_COUNT, n)
    partons = _soft_jet_draws(rng, n, MAX_JETS, flavour=False)
    m_w = _breit_wigner(rng, _W_WINDOW, n)
    rapidity = rng.standard_normal(n, dtype=np.float32)
    angles = _decay_draws(rng, n)
    rng.random(dtype=np.float32, out=partons[3])
    event = _empty_event(n)
    _wjets_kernel(count, partons, rapidity, m_w, angles, _fields(event))
    return event


@dataclass(frozen=True)
class Process:
    """A physics process the generator can simulate.

    Attributes:
        name: process name used in event tables (``"signal"``, ``"ttbar"``, ``"wjets"``).
        label: 1 for signal, 0 for background.
        background_share: share of an integer ``n_background`` given to this process.
        cross_section: σ × BR(ℓ + jets) in pb as a function of the signal mass.
        partons: ``(rng, n, mass, width_fraction) -> PartonEvent``.
    """

    name: str
    label: int
    background_share: float
    cross_section: Callable[[float], float]
    partons: Callable[[np.random.Generator, int, float, float], PartonEvent]


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
