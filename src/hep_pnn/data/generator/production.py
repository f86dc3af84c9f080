r"""Production angle of the top quarks in the tt̄ rest frame, for the generator's kernels.

The top pair is not produced isotropically. In SM tt̄, gluon fusion (most of it at the
LHC) has a t-channel top exchange that sends the tops forward as their velocity β grows,
while quark–antiquark annihilation and an s-channel spin-1 resonance (the signal, a
Z′-like X) give 1 + β²cos²θ + (1 − β²). With cos θ measured from the beam axis in the
tt̄ rest frame, the leading-order distributions (Ellis, Stirling & Webber, *QCD and
Collider Physics*, eqs. 10.10–10.11, with τ₁,₂ = (1 ∓ β cos θ)/2 and ρ = 4m_t²/ŝ = 1 − β²):

- q q̄ → tt̄ and X(spin 1) → tt̄: ∝ τ₁² + τ₂² + ρ/2 ∝ 2 − β² + β² cos²θ;
- g g → tt̄: ∝ (1/(6 τ₁τ₂) − 3/8)(τ₁² + τ₂² + ρ − ρ²/(4 τ₁τ₂)).

The signal's spin-1 form is the shape of the topcolour Z′ benchmark whose width the
generator takes (docs/generator.md); its exact chiral couplings only add a small
forward–backward asymmetry, neglected here.

Example:
    >>> import numpy as np
    >>> from hep_pnn.data.generator._draws import stream
    >>> c = sample_cos_theta(stream(np.random.default_rng(0)), 0.95, 20_000, gluon_fusion=True)
    >>> bool(np.mean(np.abs(c) > 0.8) > 0.3)  # isotropic: 0.2
    True
"""

from __future__ import annotations

import numpy as np

from hep_pnn.data.generator._draws import uniform
from hep_pnn.data.generator._fourvec import HALF, ONE, TWO, helper, kernel

__all__ = ["GLUON_FUSION_FRACTION", "cos_theta", "sample_cos_theta"]

#: Share of SM tt̄ produced by gluon fusion at 13 TeV (about 90 %, the rest q q̄; e.g.
#: Czakon, Fiedler & Mitov, PRL 110 (2013) 252004, arXiv:1303.6254, and the LHC top
#: working group's summaries), taken as constant over m_tt̄.
GLUON_FUSION_FRACTION = 0.9

_F32 = np.float32
_GLUON_FUSION = _F32(GLUON_FUSION_FRACTION)
_THREE_EIGHTHS, _TWO_THIRDS = _F32(3 / 8), _F32(2 / 3)


@helper
def _annihilation(state, beta2):
    """``(state, cos θ)`` ∝ 2 − β² + β² cos²θ (q q̄ → tt̄, spin-1 resonance), by
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
    invertible: cos θ = tanh((2u − 1) artanh β)/β), then kept with probability
    (2/3 − 3/8 (1 − β²cos²θ))(1/2 (1 + β²cos²θ) + ρ − ρ²/(1 − β²cos²θ)), which lies in
    (0, 1] (the second factor is at most (1 + β²)/2 + ρ ≤ 3/2)."""
    rho = ONE - beta2
    rapidity = _F32(np.arctanh(min(beta, _F32(0.999999))))
    while True:
        state, u = uniform(state)
        state, v = uniform(state)
        c = _F32(np.tanh((TWO * u - ONE) * rapidity)) / beta
        pole = ONE - beta2 * c * c
        weight = (_TWO_THIRDS - _THREE_EIGHTHS * pole) * (
            HALF * (ONE + beta2 * c * c) + rho - rho * rho / pole
        )
        if v < weight:
            return state, c


@helper
def cos_theta(state, beta, resonance):
    """``(state, cos θ)``: the top's production angle in the tt̄ rest frame for top
    velocity ``beta`` there; ``resonance`` for the spin-1 signal, else SM tt̄ (gluon
    fusion in :data:`GLUON_FUSION_FRACTION` of the events, q q̄ in the rest)."""
    beta = max(beta, _F32(1e-3))
    beta2 = beta * beta
    if resonance:
        return _annihilation(state, beta2)
    state, u = uniform(state)
    if u < _GLUON_FUSION:
        return _gluon_fusion(state, beta, beta2)
    return _annihilation(state, beta2)


@kernel
def _sample_kernel(state, beta, resonance, out):
    for i in range(out.shape[0]):
        state, out[i] = cos_theta(state, beta, resonance)


def sample_cos_theta(state: int, beta: float, n: int, *, gluon_fusion: bool) -> np.ndarray:
    """``n`` production angles cos θ at top velocity ``beta`` (for checks): the SM tt̄
    mix if ``gluon_fusion``, else the spin-1 (q q̄, signal) form."""
    out = np.empty(n, np.float32)
    _sample_kernel(np.uint64(state), _F32(beta), not gluon_fusion, out)
    return out
