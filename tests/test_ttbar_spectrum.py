"""``benchmarks/ttbar_spectrum.py``: the SM tt̄ mass spectrum, Pythia 8's against the generator's."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from hep_pnn.data.generator.processes import (
    M_TOP,
    TTBAR_SPECTRUM_SCALE,
    TTBAR_SPECTRUM_SHAPE,
)

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def script(load_script):
    return load_script(BENCHMARKS / "ttbar_spectrum.py")


def test_the_fit_recovers_a_beta_prime(script) -> None:
    truth = script.BetaPrime(1.8, 5.0, 400.0)
    fit = script.fit_beta_prime(truth.sample(100_000, seed=1))
    assert fit.a == pytest.approx(1.8, rel=0.05)
    assert fit.b == pytest.approx(5.0, rel=0.08)
    assert fit.scale == pytest.approx(400.0, rel=0.08)


def test_the_fit_ignores_values_at_or_below_zero_and_needs_enough(script) -> None:
    draws = script.BetaPrime(1.8, 5.0, 400.0).sample(20_000, seed=2)
    with_threshold = np.concatenate([draws, np.zeros(5_000), -np.ones(5_000)])
    assert script.fit_beta_prime(with_threshold) == script.fit_beta_prime(draws)
    with pytest.raises(ValueError, match="at least 100"):
        script.fit_beta_prime(np.concatenate([draws[:99], -draws]))


@pytest.mark.parametrize("power", [4.0, 6.0])
def test_local_powers_of_a_power_law(script, power) -> None:
    rng = np.random.default_rng(3)
    # Pareto above 600 GeV: density ∝ m^-power.
    masses = 600.0 * (1.0 - rng.random(2_000_000)) ** (-1.0 / (power - 1.0))
    assert script.local_powers(masses) == pytest.approx(np.full(4, power), abs=0.1)


def test_local_powers_are_nan_where_a_bin_is_empty(script) -> None:
    masses = np.array([750.0, 760.0, 900.0, 1100.0, 1300.0])  # nothing above 1500 GeV
    powers = script.local_powers(masses)
    assert np.isfinite(powers[:3]).all() and np.isnan(powers[3])


def test_the_generator_draws_its_own_constants(script) -> None:
    """The SM tt̄ partons of the generator add up to m_t1 + m_t2 + scale × B′(a, b)."""
    masses = script.generator_ttbar(200_000, seed=4)
    a, b = TTBAR_SPECTRUM_SHAPE
    expected = 2 * M_TOP + script.BetaPrime(a, b, TTBAR_SPECTRUM_SCALE).sample(200_000, seed=5)
    for q in (10, 50, 90, 99):
        assert np.percentile(masses, q) == pytest.approx(np.percentile(expected, q), rel=0.015)


def test_pythia_leading_order_ttbar(script) -> None:
    pytest.importorskip("pythia8mc")
    pair, tops = script.pythia_ttbar(3_000, seed=6)
    assert np.all(pair > tops) and np.median(tops) == pytest.approx(2 * M_TOP, abs=2.0)
    assert 440.0 < np.median(pair) < 510.0
    fit = script.fit_beta_prime(pair - tops)
    assert 1.2 < fit.a < 2.0 and 4.0 < fit.b < 10.0


def test_the_generator_follows_pythia(script) -> None:
    """The shipped constants are Pythia's spectrum: the median and the tail of the
    generator's m_tt̄ within 2 % and 4 % of Pythia's (version 8's tail, tuned to the
    calibration, had its 95 % quantile 21 % above Pythia's)."""
    pytest.importorskip("pythia8mc")
    pair, _ = script.pythia_ttbar(30_000, seed=8)
    ours = script.generator_ttbar(30_000, seed=8)
    assert np.median(ours) == pytest.approx(np.median(pair), rel=0.02)
    assert np.percentile(ours, 95) == pytest.approx(np.percentile(pair, 95), rel=0.04)


def test_main_prints_the_fit_and_three_spectra(script, capsys) -> None:
    pytest.importorskip("pythia8mc")
    assert script.main(["--events", "2000", "--seed", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Pythia 8, 2,000 events: m_tt̄ − m_t1 − m_t2 ≈ ")
    assert lines[1].startswith("| m_tt̄ | 5 % | 25 % |")
    rows = [line for line in lines[3:] if line.startswith("| ")]
    assert [row.split(" | ")[0] for row in rows] == [
        "| Pythia 8 (LO, 13 TeV)",
        "| the fit (+ Pythia's m_t1 + m_t2)",
        "| generator: B′(1.57, 6.48) × 631 GeV",
    ]


def test_without_pythia_it_is_one_error_line(script, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "pythia8mc", None)  # import fails
    assert script.main(["--events", "1000"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "pythia8mc" in err[0] and "hep-pnn[jets]" in err[0]


@pytest.mark.parametrize(
    ("option", "value"),
    [("--events", "999"), ("--events", "ten"), ("--seed", "0"), ("--seed", "900000001")],
)
def test_bad_options_are_one_usage_error(script, capsys, option, value) -> None:
    with pytest.raises(SystemExit) as stop:
        script.main([option, value])
    assert stop.value.code == 2
    assert option in capsys.readouterr().err.splitlines()[-1]
