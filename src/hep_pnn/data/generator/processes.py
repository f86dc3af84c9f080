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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hep_pnn.data.generator.kinematics import breit_wigner, two_body_decay

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


def _pareto(rng: np.random.Generator, size: tuple[int, ...], low: float, power: float):
    """Falling spectrum ``low * u^(-1/power)``: density ∝ x^-(power+1) above ``low``."""
    return low * (1 - rng.random(size, dtype=np.float32)) ** np.float32(-1.0 / power)


def _normal(rng: np.random.Generator, sigma: float, size: tuple[int, ...]) -> np.ndarray:
    return np.float32(sigma) * rng.standard_normal(size, dtype=np.float32)


def _azimuth(rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
    return np.float32(2 * np.pi) * rng.random(size, dtype=np.float32) - np.float32(np.pi)


def _massless_jets(pt: np.ndarray, eta: np.ndarray, azimuth: np.ndarray) -> np.ndarray:
    return np.stack(
        [pt * np.cos(azimuth), pt * np.sin(azimuth), pt * np.sinh(eta), pt * np.cosh(eta)]
    )


def _light_or_heavy(rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
    u = rng.random(size, dtype=np.float32)
    charm, bottom = RADIATION_HEAVY_FRACTIONS
    return np.where(u < bottom, BOTTOM, np.where(u < bottom + charm, CHARM, LIGHT)).astype(np.int8)


def _radiation(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Initial-state radiation jets: Poisson count, falling pT, uniform φ."""
    count = np.minimum(rng.poisson(RADIATION_MEAN_COUNT, n), MAX_RADIATION)
    shape = (n, MAX_RADIATION)
    present = np.arange(MAX_RADIATION) < count[:, None]
    pt = np.where(present, _pareto(rng, shape, RADIATION_PT_MIN, RADIATION_PT_POWER), 0.0)
    jets = _massless_jets(pt, _normal(rng, RADIATION_ETA_WIDTH, shape), _azimuth(rng, shape))
    return jets, np.where(present, _light_or_heavy(rng, shape), LIGHT).astype(np.int8)


def _system(rng: np.random.Generator, m: np.ndarray, recoil: np.ndarray) -> np.ndarray:
    """A system of mass ``m`` recoiling against ``recoil`` jets, with a rapidity spread
    that narrows as the mass approaches the collision energy."""
    px = -recoil[0].sum(axis=1)
    py = -recoil[1].sum(axis=1)
    rapidity = 0.3 * np.log(LHC_SQRT_S / m) * rng.standard_normal(m.shape, dtype=np.float32)
    transverse_mass = np.sqrt(m * m + px * px + py * py)
    return np.stack(
        [px, py, transverse_mass * np.sinh(rapidity), transverse_mass * np.cosh(rapidity)]
    )


def _top_pair(rng: np.random.Generator, m_pair: np.ndarray, m_top: np.ndarray) -> PartonEvent:
    """tt̄ of invariant mass ``m_pair`` → (bℓν)(bqq′) plus radiation; isotropic decays."""
    n = m_pair.shape[0]
    radiation, radiation_flavour = _radiation(rng, n)
    system = _system(rng, m_pair, radiation)
    top_lep, top_had = two_body_decay(system, m_top[0], m_top[1], rng)
    m_w = breit_wigner(rng, M_W, GAMMA_W, 65.0, 95.0, 2 * n).reshape(2, n)
    w_lep, b_lep = two_body_decay(top_lep, m_w[0], M_B, rng)
    w_had, b_had = two_body_decay(top_had, m_w[1], M_B, rng)
    lepton, neutrino = two_body_decay(w_lep, 0.0, 0.0, rng)
    quark1, quark2 = two_body_decay(w_had, 0.0, 0.0, rng)
    # W → cs in about half of the hadronic decays (CKM-suppressed modes neglected).
    charm = np.where(rng.random(n, dtype=np.float32) < 0.5, CHARM, LIGHT).astype(np.int8)
    flavour = np.empty((n, MAX_JETS), np.int8)
    flavour[:, 0:2] = BOTTOM
    flavour[:, 2] = charm
    flavour[:, 3] = LIGHT
    flavour[:, 4:] = radiation_flavour
    partons = np.stack([b_lep, b_had, quark1, quark2], axis=2)
    return PartonEvent(lepton, neutrino, np.concatenate([partons, radiation], axis=2), flavour)


def _top_masses(rng: np.random.Generator, n: int) -> np.ndarray:
    return breit_wigner(rng, M_TOP, GAMMA_TOP, M_TOP - 12.0, M_TOP + 12.0, 2 * n).reshape(2, n)


def _signal(rng: np.random.Generator, n: int, mass: float, width_fraction: float) -> PartonEvent:
    m_top = _top_masses(rng, n)
    width = width_fraction * mass
    m_pair = breit_wigner(rng, mass, width, mass - 10 * width, mass + 10 * width, n)
    return _top_pair(rng, np.maximum(m_pair, m_top.sum(axis=0) + 1.0), m_top)


def _ttbar(rng: np.random.Generator, n: int, mass: float, width_fraction: float) -> PartonEvent:
    m_top = _top_masses(rng, n)
    shape_a, shape_b = TTBAR_SPECTRUM_SHAPE
    excess = (rng.gamma(shape_a, size=n) / rng.gamma(shape_b, size=n)).astype(np.float32)
    m_pair = m_top.sum(axis=0) + TTBAR_SPECTRUM_SCALE * excess
    return _top_pair(rng, np.minimum(m_pair, 0.5 * LHC_SQRT_S), m_top)


def _wjets(rng: np.random.Generator, n: int, mass: float, width_fraction: float) -> PartonEvent:
    """W(→ℓν) + at least four light/charm/bottom partons with falling pT."""
    count = 4 + np.minimum(rng.poisson(WJETS_EXTRA_COUNT, n), MAX_JETS - 4)
    shape = (n, MAX_JETS)
    present = np.arange(MAX_JETS) < count[:, None]
    pt = np.where(present, _pareto(rng, shape, WJETS_PT_MIN, WJETS_PT_POWER), 0.0)
    jets = _massless_jets(pt, _normal(rng, WJETS_ETA_WIDTH, shape), _azimuth(rng, shape))
    m_w = breit_wigner(rng, M_W, GAMMA_W, 65.0, 95.0, n)
    w = _system(rng, m_w, jets)
    lepton, neutrino = two_body_decay(w, 0.0, 0.0, rng)
    flavour = np.where(present, _light_or_heavy(rng, shape), LIGHT).astype(np.int8)
    return PartonEvent(lepton, neutrino, jets, flavour)


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
