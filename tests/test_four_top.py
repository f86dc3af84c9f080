"""The built-in four-top example: determinism, layout and physical sanity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from hep_pnn.data import read_events
from hep_pnn.data.four_top import (
    FOUR_TOP_FEATURES,
    TOP_MASS,
    four_top_table,
    generate_four_top,
    write_four_top,
)
from hep_pnn.errors import ConfigError, OutputExistsError


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return generate_four_top(n_events=5000, zprime_mass=1000.0, seed=3)


def test_same_seed_same_events() -> None:
    first = generate_four_top(n_events=300, seed=11)
    pd.testing.assert_frame_equal(first, generate_four_top(n_events=300, seed=11))
    assert not first.equals(generate_four_top(n_events=300, seed=12))


def test_layout_four_tops_per_event(frame: pd.DataFrame) -> None:
    assert len(frame) == 4 * 5000
    per_event = frame.groupby("event_id")
    assert (per_event.size() == 4).all()
    assert (per_event["label"].sum() == 2).all()  # two resonance tops, two spectators
    assert (per_event["pt"].diff().dropna() <= 0).all()  # ordered by decreasing pT
    assert set(frame.process.astype(str)) == {"signal", "spectator"}
    assert (frame.process.astype(str) == np.where(frame.label == 1, "signal", "spectator")).all()
    assert frame.phi.between(-np.pi, np.pi).all() and (frame.pt > 0).all()
    assert (frame.mass == 1000.0).all() and (frame.weight == 1.0).all()


def test_top_mass_peak(frame: pd.DataFrame) -> None:
    assert abs(frame.m.median() - TOP_MASS) < 2.0
    assert (abs(frame.m - TOP_MASS) < 40).mean() > 0.95
    for label in (0, 1):  # the same line shape for both kinds of top
        assert abs(frame.m[frame.label == label].median() - TOP_MASS) < 2.0


def test_resonance_tops_are_harder_and_central(frame: pd.DataFrame) -> None:
    resonance, spectator = frame[frame.label == 1], frame[frame.label == 0]
    assert resonance.pt.mean() > 2 * spectator.pt.mean()
    assert resonance.eta.abs().mean() < spectator.eta.abs().mean()
    heavier = generate_four_top(n_events=2000, zprime_mass=2000.0, seed=3)
    assert heavier.pt[heavier.label == 1].mean() > 1.5 * resonance.pt.mean()


def invariant_mass(tops: pd.DataFrame) -> np.ndarray:
    """Mass of the sum of the tops of each event (rows grouped by event_id)."""
    px = tops.pt * np.cos(tops.phi)
    py = tops.pt * np.sin(tops.phi)
    pz = tops.pt * np.sinh(tops.eta)
    energy = np.sqrt(px**2 + py**2 + pz**2 + tops.m**2)
    total = pd.DataFrame({"e": energy, "x": px, "y": py, "z": pz, "id": tops.event_id})
    total = total.groupby("id").sum()
    return np.sqrt(np.maximum(total.e**2 - total.x**2 - total.y**2 - total.z**2, 0)).to_numpy()


def test_resonance_pair_reconstructs_the_zprime(frame: pd.DataFrame) -> None:
    pair = invariant_mass(frame[frame.label == 1])
    assert abs(np.median(pair) - 1000.0) < 30.0
    spectators = invariant_mass(frame[frame.label == 0])
    assert abs(np.median(spectators) - 1000.0) > 300.0  # no peak at the Z′ mass


def test_several_masses_and_event_table() -> None:
    frame = generate_four_top(n_events=1000, zprime_mass=[750.0, 1500.0], seed=0)
    assert set(frame.mass.unique()) == {750.0, 1500.0}
    assert (frame.groupby("event_id")["mass"].nunique() == 1).all()
    table = four_top_table(n_events=100, zprime_mass=[750.0, 1500.0], seed=0)
    assert table.feature_names == FOUR_TOP_FEATURES
    assert len(table) == 400 and table.signal_masses.tolist() == [750.0, 1500.0]
    assert table.processes(label=0) == ["spectator"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_events": 0}, "n_events must be a positive integer"),
        ({"n_events": 10, "zprime_mass": 300.0}, "too close to the tt̄ threshold"),
        ({"n_events": 10, "zprime_mass": []}, "non-empty list"),
    ],
)
def test_bad_options(options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        generate_four_top(seed=0, **options)


def test_written_file_reads_as_events_and_keeps_event_id(tmp_path: Path) -> None:
    frame = generate_four_top(n_events=50, zprime_mass=[750.0, 1250.0], seed=4)
    path = write_four_top(frame, tmp_path / "four_top.parquet")
    table = read_events([path])
    assert table.feature_names == FOUR_TOP_FEATURES
    np.testing.assert_array_equal(table.label, frame.label)
    np.testing.assert_allclose(table.features, frame[list(FOUR_TOP_FEATURES)].to_numpy())
    assert table.signal_masses.tolist() == [750.0, 1250.0]
    assert pq.read_table(path).column("event_id").to_pylist() == frame.event_id.tolist()
    with pytest.raises(OutputExistsError):
        write_four_top(frame, path)
    write_four_top(frame.head(8), path, overwrite=True)
    assert len(read_events([path])) == 8
    with pytest.raises(ConfigError, match=r"\.parquet"):
        write_four_top(frame, tmp_path / "four_top.csv")


def test_pnn_generate_four_top(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hep_pnn.cli import main

    monkeypatch.chdir(tmp_path)
    args = ["generate", "--process", "four-top", "--n-events", "30", "--masses", "750,1500"]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "-o", "tops.parquet", "--seed", "5"])
    assert exit_info.value.code in (0, None)
    assert "120 top quarks of 30 four-top events" in capsys.readouterr().out
    expected = generate_four_top(n_events=30, zprime_mass=[750.0, 1500.0], seed=5)
    np.testing.assert_array_equal(read_events(["tops.parquet"]).label, expected.label)
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--process", "four-tops", "-o", "x.parquet"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error == [
        "pnn: error: --process: unknown process 'four-tops' "
        "(use hepmass, four-top, top-tagging or zprime-tagging)"
    ]
