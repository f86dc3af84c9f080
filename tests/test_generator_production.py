"""The tt̄ production angle against its leading-order formulas (generator.production)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hep_pnn.data.generator.production import GLUON_FUSION_FRACTION, sample_cos_theta


def _expected(beta: float, *, gluon_fusion: bool, edges: np.ndarray) -> np.ndarray:
    """Share of |cos θ| in each bin of ``edges`` by numerical integration of the
    Ellis–Stirling–Webber matrix elements (τ₁,₂ = (1 ∓ β cos θ)/2, ρ = 1 − β²)."""
    c = np.linspace(-1.0, 1.0, 400_001)
    tau1, tau2, rho = (1 - beta * c) / 2, (1 + beta * c) / 2, 1 - beta**2
    annihilation = tau1**2 + tau2**2 + rho / 2
    density = annihilation / np.trapezoid(annihilation, c)
    if gluon_fusion:
        fusion = (1 / (6 * tau1 * tau2) - 3 / 8) * (
            tau1**2 + tau2**2 + rho - rho**2 / (4 * tau1 * tau2)
        )
        fusion /= np.trapezoid(fusion, c)
        density = GLUON_FUSION_FRACTION * fusion + (1 - GLUON_FUSION_FRACTION) * density
    shares = []
    for low, high in itertools.pairwise(edges):
        inside = (np.abs(c) >= low) & (np.abs(c) <= high)
        shares.append(np.trapezoid(np.where(inside, density, 0.0), c))
    return np.asarray(shares)


@pytest.mark.parametrize("gluon_fusion", [True, False])
@pytest.mark.parametrize("beta", [0.3, 0.75, 0.95])
def test_production_angle_follows_the_matrix_elements(beta, gluon_fusion):
    edges = np.linspace(0.0, 1.0, 11)
    cos_theta = sample_cos_theta(11, beta, 200_000, gluon_fusion=gluon_fusion)
    assert cos_theta.min() >= -1 and cos_theta.max() <= 1
    observed = np.histogram(np.abs(cos_theta), bins=edges)[0] / cos_theta.size
    expected = _expected(beta, gluon_fusion=gluon_fusion, edges=edges)
    # 200k draws: a bin share of p has a spread of about sqrt(p / 200k) ≤ 0.0016.
    assert np.allclose(observed, expected, atol=0.005), (observed, expected)
    assert abs(np.mean(cos_theta)) < 0.01  # forward–backward symmetric


def test_gluon_fusion_sends_fast_tops_forward():
    forward = {
        fusion: np.mean(np.abs(sample_cos_theta(3, 0.95, 50_000, gluon_fusion=fusion)) > 0.8)
        for fusion in (True, False)
    }
    # Isotropic: 0.2; q q̄ at β = 0.95: 0.262 (1 + β²cos²θ + 1 − β² integrated).
    assert forward[True] > 0.5 > 0.28 > forward[False] > 0.24
