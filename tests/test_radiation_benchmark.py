"""benchmarks/radiation.py: its usage errors, its fit, and its measure on a few Pythia events."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from hep_pnn.errors import ConfigError

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def script(load_script):
    return load_script(BENCHMARKS / "radiation.py")


@pytest.fixture
def pythia() -> None:
    pytest.importorskip("pythia8mc")
    pytest.importorskip("fastjet")


@pytest.mark.parametrize(
    ("option", "value"),
    [("--events", "0"), ("--mass", "300"), ("--ttbar-cap", "0"), ("--signal-cap", "1.5")],
)
def test_bad_options_are_one_usage_error(script, monkeypatch, capsys, option, value) -> None:
    monkeypatch.setattr(sys, "argv", ["radiation.py", option, value])
    with pytest.raises(SystemExit) as stop:
        script.main()
    assert stop.value.code == 2
    assert option in capsys.readouterr().err.splitlines()[-1]


@pytest.mark.parametrize("power", [0.7, 1.3])
def test_the_fit_recovers_the_power_of_capped_power_law_draws(script, power) -> None:
    """pT = 20 GeV × v^(-1/a) with v uniform between (cap / 20)^-a and 1, caps varying per
    jet: the fitted a is the drawn one (a wrong cap or quantile map would bias it)."""
    rng = np.random.default_rng(1)
    cap = rng.uniform(180.0, 600.0, 40_000)
    floor = (cap / 20.0) ** -power
    pt = 20.0 * (floor + (1 - floor) * rng.random(cap.size)) ** (-1 / power)
    assert pt.max() <= cap.max()
    assert script.fit_power(pt, cap) == pytest.approx(power, abs=0.03)


def test_extra_jets_of_a_few_pythia_events(script, pythia) -> None:
    """Extra jets are above 20 GeV and their events' tt̄ masses lie above the threshold;
    the per-event counts add up to the jets."""
    pt, m_of_jet, count, m_pair = script.extra_jets("ttbar", None, 60, 3)
    assert len(m_pair) == len(count) == 60
    assert count.sum() == len(pt) == len(m_of_jet)
    assert (pt >= 20.0).all()
    assert (m_pair > 340.0).all()
    assert set(np.round(m_of_jet, 3)) <= set(np.round(m_pair, 3))


def test_an_unknown_pythia_setting_is_refused(script, pythia) -> None:
    with pytest.raises(ConfigError, match="Nonsense:key"):
        script.extra_jets("ttbar", None, 5, 1, ["Nonsense:key = 1"])
