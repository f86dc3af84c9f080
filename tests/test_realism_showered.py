"""benchmarks/realism_showered.py: its usage errors and its tables on a tiny sample."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pythia8mc")
pytest.importorskip("fastjet")

from hep_pnn.data import EventTable, read_events

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def script(load_script):
    return load_script(BENCHMARKS / "realism_showered.py")


@pytest.mark.parametrize("masses", ["500,abc", "500,500"])
def test_a_bad_mass_list_is_one_usage_error(script, monkeypatch, capsys, masses) -> None:
    monkeypatch.setattr(sys, "argv", ["realism_showered.py", "--masses", masses])
    with pytest.raises(SystemExit) as stop:
        script.main()
    assert stop.value.code == 2
    assert "--masses" in capsys.readouterr().err.splitlines()[-1]


def test_an_unknown_pythia_setting_is_one_usage_error(script, monkeypatch, capsys) -> None:
    argv = ["realism_showered.py", "--masses", "500", "--signal", "10", "--background", "10"]
    monkeypatch.setattr(sys, "argv", [*argv, "--jobs", "1", "--pythia", "Nonsense:key = 1"])
    monkeypatch.setattr(script, "load_reference_nets", lambda folder: {})  # ../shared may lack
    with pytest.raises(SystemExit) as stop:
        script.main()
    assert stop.value.code == 2
    assert "Nonsense:key" in capsys.readouterr().err.splitlines()[-1]


def test_own_auc_tells_a_separable_signal(script) -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(600, 27)).astype(np.float32)
    label = np.r_[np.zeros(400), np.ones(200)].astype(int)
    features[label == 1, 26] += 3.0  # the signal sits 3 σ higher in m_WWbb
    table = EventTable.from_arrays(
        features, label=label, mass=np.r_[np.zeros(400), np.full(200, 500.0)]
    )
    assert script.own_auc(table, 500.0) > 0.9
    features[label == 1, 26] -= 3.0
    table = EventTable.from_arrays(features, label=label, mass=table.mass)
    assert 0.35 < script.own_auc(table, 500.0) < 0.65


def test_save_refuses_existing_files_without_overwrite(script, monkeypatch, capsys, tmp_path):
    (tmp_path / "parametric.parquet").write_text("keep")
    monkeypatch.setattr(sys, "argv", ["realism_showered.py", "--save", str(tmp_path)])
    with pytest.raises(SystemExit) as stop:
        script.main()
    assert stop.value.code == 2
    assert "--overwrite" in capsys.readouterr().err.splitlines()[-1]
    assert (tmp_path / "parametric.parquet").read_text() == "keep"


NETS = BENCHMARKS.parents[1] / "shared" / "reference-nets"


@pytest.mark.skipif(not (NETS / "score.py").exists(), reason="../shared/reference-nets is absent")
def test_save_writes_both_samples(script, monkeypatch, capsys, tmp_path) -> None:
    argv = "--background 400 --signal 150 --masses 1000 --jobs 1 --seed 3 --save".split()
    monkeypatch.setattr(sys, "argv", ["realism_showered.py", *argv, str(tmp_path)])
    script.main()
    assert "parametric generator" in capsys.readouterr().out
    showered = read_events(tmp_path / "showered.parquet")
    parametric = read_events(tmp_path / "parametric.parquet")
    assert set(showered.process_names) == {"signal", "ttbar"}
    assert set(np.unique(showered.mass)) == {1000.0}  # background drawn from the signal masses
    # the parametric sample copies the showered counts: as many tt̄, the signal count
    assert (parametric.label == 0).sum() == (showered.label == 0).sum()
    assert (parametric.label == 1).sum() == (showered.label == 1).sum() > 10


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--overwrite"], "--overwrite needs --save"),
        (["--save", "FILE"], "--save"),
        (["--spin", "1"], "invalid choice: 1"),
    ],
)
def test_bad_save_options_are_one_usage_error(script, monkeypatch, capsys, tmp_path, argv, message):
    afile = tmp_path / "a-file"
    afile.write_text("")
    argv = [str(afile) if a == "FILE" else a for a in argv]
    monkeypatch.setattr(sys, "argv", ["realism_showered.py", *argv])
    with pytest.raises(SystemExit) as stop:
        script.main()
    assert stop.value.code == 2
    assert message in capsys.readouterr().err.splitlines()[-1]


@pytest.mark.skipif(not (NETS / "score.py").exists(), reason="../shared/reference-nets is absent")
def test_an_energy_below_a_mass_is_one_usage_error(script, monkeypatch, capsys) -> None:
    argv = ["realism_showered.py", "--masses", "500,1000", "--sqrt-s", "900"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as stop:
        script.main()
    assert stop.value.code == 2
    assert "cannot produce the signal at 1000 GeV" in capsys.readouterr().err.splitlines()[-1]


def test_background_masses_are_drawn_from_the_signal_masses(monkeypatch) -> None:
    from hep_pnn.data.jets import showered

    counts = {"ttbar": 400, "signal": 50}
    monkeypatch.setattr(showered, "showered_events", lambda process, **_: counts[process])
    monkeypatch.setattr(showered, "raw_features", lambda n: np.zeros((n, 27), np.float32))
    monkeypatch.setattr(showered, "standardise", lambda features: features)

    def background_masses(seed):
        table = showered.showered_table(
            masses=[500.0, 1000.0], n_generated_signal=1, n_generated_background=1, seed=seed
        )
        return table.mass[table.label == 0]

    masses = background_masses(4)
    assert len(masses) == 400 and set(np.unique(masses)) == {500.0, 1000.0}
    assert 0.4 < (masses == 500.0).mean() < 0.6
    assert np.array_equal(background_masses(4), masses)
    assert not np.array_equal(background_masses(5), masses)
