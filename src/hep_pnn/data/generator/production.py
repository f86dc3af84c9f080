r"""Production angle of the top quarks in the tt̄ rest frame, for the generator's kernels.

SM tt̄ is not produced isotropically: gluon fusion (most of it at the LHC) has a t-channel
top exchange that sends the tops forward as their velocity β grows, and quark–antiquark
annihilation gives 1 + β²cos²θ + (1 − β²). With cos θ measured from the beam axis in the
tt̄ rest frame, the leading-order distributions (Ellis, Stirling & Webber, *QCD and
Collider Physics*, eqs. 10.10–10.11, with τ₁,₂ = (1 ∓ β cos θ)/2 and ρ = 4m_t²/ŝ = 1 − β²):

- q q̄ → tt̄: ∝ τ₁² + τ₂² + ρ/2 ∝ 2 − β² + β² cos²θ;
- g g → tt̄: ∝ (1/(6 τ₁τ₂) − 3/8)(τ₁² + τ₂² + ρ − ρ²/(4 τ₁τ₂)).

The signal X is taken as a spin-2 resonance made in gluon fusion, g g → G → tt̄ (a
Randall–Sundrum Kaluza–Klein graviton, one of the benchmarks of the ATLAS and CMS tt̄
resonance searches). A massless graviton couples to two gluons of opposite helicity, so it
is produced with J_z = ±2 along the beam, and its decay through the energy–momentum
tensor, summed over the top spins, gives

- g g → G → tt̄: ∝ sin²θ (2 − β² sin²θ) = (1 − cos²θ)(2 − β² + β² cos²θ),

which is 1 − cos⁴θ for massless tops and sin²θ at threshold: the tops are more central
than those of a spin-0 X (isotropic). HEPMASS does not state the spin of its X; of spin
0, 1 (Z′-like, the q q̄ form) and 2, the networks trained on HEPMASS score the spin-2
events closest to their real-data values (docs/generator.md, "Realism").

The tt̄ kernel in :mod:`.processes` inlines these helpers, and numba caches it by that
file only: after editing this module, delete the ``processes.*.nbi``/``*.nbc`` cache files.

Example:
    >>> c = sample_cos_theta(7, 0.95, 20_000, process="ttbar")
    >>> bool(np.mean(np.abs(c) > 0.8) > 0.3)  # isotropic: 0.2
    True
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from hep_pnn.data.generator._draws import uniform
from hep_pnn.data.generator._fourvec import HALF, ONE, TWO, helper, kernel

__all__ = [
    "GLUON_FUSION_FRACTION",
    "PRODUCTION_KINDS",
    "SIGNAL_SPINS",
    "SM_TTBAR",
    "cos_theta",
    "is_signal_spin",
    "sample_cos_theta",
]

#: Share of SM tt̄ produced by gluon fusion at 13 TeV (about 90 %, the rest q q̄; e.g.
#: Czakon, Fiedler & Mitov, PRL 110 (2013) 252004, arXiv:1303.6254, and the LHC top
#: working group's summaries), taken as constant over m_tt̄.
GLUON_FUSION_FRACTION = 0.9

#: Spins of the signal X the generator can make (``spin=`` of ``generate``).
SIGNAL_SPINS = (0, 2)
#: The ``spin`` code of SM tt̄ in :func:`cos_theta`.
SM_TTBAR = -1


def is_signal_spin(spin: object) -> bool:
    """Whether ``spin`` is an integer (not a bool) of :data:`SIGNAL_SPINS`."""
    return (
        isinstance(spin, numbers.Integral)
        and not isinstance(spin, bool | np.bool_)
        and int(spin) in SIGNAL_SPINS
    )


_F32 = np.float32
_GLUON_FUSION = _F32(GLUON_FUSION_FRACTION)
_THREE_EIGHTHS, _TWO_THIRDS = _F32(3 / 8), _F32(2 / 3)


@helper
def _annihilation(state, beta2):
    """``(state, cos θ)`` ∝ 2 − β² + β² cos²θ (q q̄ → tt̄), by
    accept–reject under its maximum 2 (acceptance at least 1/2)."""
    while True:
        state, u = uniform(state)
        state, v = uniform(state)
        c = TWO * u - ONE
        if TWO * v < TWO - beta2 + beta2 * c * c:
            return state, c


@helper
def _gluon_fusion(state, beta, beta2):
    """``(state, cos θ)`` for g g → tt̄: drawn ∝ 1/(1 − β²cos²θ) (the t-channel pole,
    invertible: cos θ = tanh((2u − 1) artanh β)/β = (r − 1)/((r + 1) β) with
    r = ((1 + β)/(1 − β))^(2u − 1)), then kept with probability
    (2/3 − 3/8 (1 − β²cos²θ))(1/2 (1 + β²cos²θ) + ρ − ρ²/(1 − β²cos²θ)) / (2/3): the
    first factor is at most 2/3 and the second at most 1 (its maximum over x = β²cos²θ
    is 1 − (√2 − 1) ρ for ρ ≤ 1/√2, else 1/2 + ρ − ρ² at x = 0)."""
    rho = ONE - beta2
    beta = min(beta, _F32(0.999999))
    log_ratio = _F32(math.log((ONE + beta) / (ONE - beta)))
    while True:
        state, u = uniform(state)
        state, v = uniform(state)
        r = _F32(math.exp((TWO * u - ONE) * log_ratio))
        c = (r - ONE) / ((r + ONE) * beta)
        pole = ONE - beta2 * c * c
        weight = (_TWO_THIRDS - _THREE_EIGHTHS * pole) * (
            HALF * (ONE + beta2 * c * c) + rho - rho * rho / pole
        )
        if v * _TWO_THIRDS < weight:
            return state, c


@helper
def _graviton(state, beta2):
    """``(state, cos θ)`` ∝ (1 − cos²θ)(2 − β² + β² cos²θ) (g g → G → tt̄, a spin-2
    resonance), by accept–reject under its maximum 2 − β² at cos θ = 0 (acceptance 2/3
    at threshold, 4/5 for massless tops)."""
    peak = TWO - beta2
    while True:
        state, u = uniform(state)
        state, v = uniform(state)
        c = TWO * u - ONE
        c2 = c * c
        if v * peak < (ONE - c2) * (peak + beta2 * c2):
            return state, c


@helper
def _isotropic(state):
    """``(state, cos θ)`` uniform in [−1, 1) (a spin-0 resonance)."""
    state, u = uniform(state)
    return state, TWO * u - ONE


@helper
def cos_theta(state, beta, spin):
    """``(state, cos θ)``: the top's production angle in the tt̄ rest frame for top
    velocity ``beta`` there: of a spin-2 X (``spin`` 2), a spin-0 X (0, isotropic) or SM
    tt̄ (:data:`SM_TTBAR`: gluon fusion in :data:`GLUON_FUSION_FRACTION` of the events,
    q q̄ in the rest)."""
    if spin == 2:
        return _graviton(state, beta * beta)
    if spin == 0:
        return _isotropic(state)
    beta = max(beta, _F32(1e-3))
    beta2 = beta * beta
    state, u = uniform(state)
    if u < _GLUON_FUSION:
        return _gluon_fusion(state, beta, beta2)
    return _annihilation(state, beta2)


#: What :func:`sample_cos_theta` can draw: the spin-2 or spin-0 signal, SM tt̄, or one
#: SM channel alone.
PRODUCTION_KINDS = ("signal", "ttbar", "gluon_fusion", "annihilation", "spin0")


@kernel
def _sample_kernel(state, beta, kind, out):
    beta2 = beta * beta
    for i in range(out.shape[0]):
        if kind == 0:
            state, out[i] = cos_theta(state, beta, 2)
        elif kind == 1:
            state, out[i] = cos_theta(state, beta, SM_TTBAR)
        elif kind == 4:
            state, out[i] = cos_theta(state, beta, 0)
        elif kind == 2:
            state, out[i] = _gluon_fusion(state, beta, beta2)
        else:
            state, out[i] = _annihilation(state, beta2)


def sample_cos_theta(state: int, beta: float, n: int, *, process: str) -> np.ndarray:
    """``n`` production angles cos θ at top velocity ``beta`` from stream ``state`` (for
    checks); ``process`` is one of :data:`PRODUCTION_KINDS`."""
    if process not in PRODUCTION_KINDS:
        raise ValueError(f"process must be one of {PRODUCTION_KINDS}, not {process!r}")
    out = np.empty(n, np.float32)
    _sample_kernel(np.uint64(state), _F32(beta), PRODUCTION_KINDS.index(process), out)
    return out
