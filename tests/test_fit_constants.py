"""fit_constants: the mode estimate and f26's constants from the signal peaks."""

from __future__ import annotations

import numpy as np
import pytest

from hep_pnn.data.generator.fit_constants import f26_from_peaks, peak
from hep_pnn.data.generator.standardise import HEPMASS_F26_PEAKS


def test_peak_finds_the_mode_of_a_skewed_sample():
    """A log-normal's mode exp(μ − σ²) lies well below its median exp(μ) and mean."""
    rng = np.random.default_rng(2)
    values = rng.lognormal(mean=1.0, sigma=0.25, size=400_000)
    assert peak(values, bandwidth=0.02) == pytest.approx(np.exp(1.0 - 0.25**2), abs=0.03)
    assert np.median(values) - peak(values) > 0.15


def test_f26_from_peaks_recovers_mean_and_std():
    """Signal samples whose ln m_WWbb peaks at mean + std × the published peaks give back
    mean and std, and residuals of zero; a shifted peak shows up in its residual."""
    rng = np.random.default_rng(3)
    mean, std = 6.7, 0.51
    samples = {
        m: mean + std * p + rng.normal(0.0, 0.05, 100_000) for m, p in HEPMASS_F26_PEAKS.items()
    }
    fitted_mean, fitted_std, residuals = f26_from_peaks(samples)
    assert fitted_mean == pytest.approx(mean, abs=0.005)
    assert fitted_std == pytest.approx(std, abs=0.005)
    assert np.abs(residuals).max() < 0.01
    samples[1000.0] = samples[1000.0] + 0.1 * std
    assert f26_from_peaks(samples)[2][2] > 0.05
