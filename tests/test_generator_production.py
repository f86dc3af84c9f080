"""The tt̄ production angle against its leading-order formulas (generator.production)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hep_pnn.data.generator.production import GLUON_FUSION_FRACTION, sample_cos_theta


def _density(beta: float, process: str, c: np.ndarray) -> np.ndarray:
    """Normalised density of cos θ from the Ellis–Stirling–Webber matrix elements
    (τ₁,₂ = (1 ∓ β cos θ)/2, ρ = 1 − β²); the default signal a spin-2 X from gluon fusion,
    sin²θ (2 − β² sin²θ) (J_z = ±2 along the beam; 1 − cos⁴θ for massless tops)."""
    tau1, tau2, rho = (1 - beta * c) / 2, (1 + beta * c) / 2, 1 - beta**2
    annihilation = tau1**2 + tau2**2 + rho / 2
    fusion = (1 / (6 * tau1 * tau2) - 3 / 8) * (
        tau1**2 + tau2**2 + rho - rho**2 / (4 * tau1 * tau2)
    )
    graviton = (1 - c**2) * (2 - beta**2 * (1 - c**2))
    annihilation /= np.trapezoid(annihilation, c)
    fusion /= np.trapezoid(fusion, c)
    graviton /= np.trapezoid(graviton, c)
    return {
        "signal": graviton,
        "spin0": np.full_like(c, 0.5),
        "gluon_fusion": fusion,
        "annihilation": annihilation,
        "ttbar": GLUON_FUSION_FRACTION * fusion + (1 - GLUON_FUSION_FRACTION) * annihilation,
    }[process]


def _shares(beta: float, process: str, edges: np.ndarray) -> np.ndarray:
    """Expected share of |cos θ| in each bin of ``edges``."""
    c = np.linspace(-1.0, 1.0, 400_001)
    density = _density(beta, process, c)
    return np.asarray([
        np.trapezoid(np.where((np.abs(c) >= low) & (np.abs(c) <= high), density, 0.0), c)
        for low, high in itertools.pairwise(edges)
    ])  # fmt: skip


@pytest.mark.parametrize("process", ["signal", "spin0", "ttbar", "gluon_fusion", "annihilation"])
@pytest.mark.parametrize("beta", [0.3, 0.75, 0.95])
def test_production_angle_follows_the_matrix_elements(beta, process):
    edges = np.linspace(0.0, 1.0, 11)
    cos_theta = sample_cos_theta(11, beta, 200_000, process=process)
    assert cos_theta.min() >= -1 and cos_theta.max() <= 1
    observed = np.histogram(np.abs(cos_theta), bins=edges)[0] / cos_theta.size
    # 200k draws: a bin share of p has a spread of about sqrt(p / 200k) ≤ 0.0016.
    assert np.allclose(observed, _shares(beta, process, edges), atol=0.005), observed
    assert abs(np.mean(cos_theta)) < 0.01  # forward–backward symmetric


def test_sm_tops_go_forward_as_they_get_faster_and_the_signal_stays_central():
    def forward(process: str, beta: float) -> float:
        return float(np.mean(np.abs(sample_cos_theta(3, beta, 50_000, process=process)) > 0.8))

    # Isotropic: 0.2; SM tt̄ at β = 0.3, 0.95: 0.21, 0.54 (mostly gluon fusion); the
    # spin-2 signal: 0.078 at β = 0.95 (1 − cos⁴θ, massless: 0.082), sin²θ at rest 0.056.
    assert 0.072 < forward("signal", 0.95) < 0.084
    assert 0.05 < forward("signal", 0.05) < 0.062
    assert 0.19 < forward("spin0", 0.95) < 0.21
    assert forward("ttbar", 0.95) > 0.5 > 0.25 > forward("ttbar", 0.3) > 0.2


def test_unknown_process_is_refused():
    with pytest.raises(ValueError, match="process must be one of"):
        sample_cos_theta(1, 0.5, 10, process="zprime")


def test_the_spin2_angle_depends_on_beta_squared():
    """⟨cos²θ⟩ of sin²θ (2 − β² sin²θ), integrated numerically: at β = 0.75 it is 0.2166,
    and 0.2245 with β in place of β²; the spread of the mean of 200k draws is 0.0007."""
    beta = 0.75
    c = np.linspace(-1.0, 1.0, 400_001)
    density = (1 - c**2) * (2 - beta**2 * (1 - c**2))
    expected = np.trapezoid(c**2 * density, c) / np.trapezoid(density, c)
    draws = sample_cos_theta(21, beta, 200_000, process="signal")
    assert abs(np.mean(draws**2) - expected) < 0.003
