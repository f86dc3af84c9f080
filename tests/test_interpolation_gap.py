"""``benchmarks/interpolation_gap.py``: hypothesis scans and the 500 GeV verdict on
heavier signal, for hep-pnn models beside the real-data networks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from hep_pnn.data import HEPMASS_MASSES, EventTable

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gap(load_script):
    return load_script(REPO / "benchmarks" / "interpolation_gap.py")


@pytest.fixture(scope="module")
def table():
    """Signal whose one feature peaks at m / 1000 (width 0.1) at each HEPMASS mass, and
    background spread evenly over 0-2."""
    rng = np.random.default_rng(41)
    n = 2000
    signal = np.concatenate([rng.normal(m / 1000, 0.1, n) for m in HEPMASS_MASSES])
    background = rng.uniform(0.0, 2.0, 4 * n)
    features = np.zeros((len(signal) + len(background), 27))
    features[:, 26] = np.concatenate([signal, background])  # where m_WWbb (f26) is
    return EventTable.from_arrays(
        features,
        label=np.repeat([1, 0], [len(signal), len(background)]),
        mass=np.concatenate([np.repeat(HEPMASS_MASSES, n), np.full(len(background), 1000.0)]),
        feature_names=[f"f{i}" for i in range(27)],
    )


class MassWindow:
    """A model that calls an event signal-like when its feature lies near the hypothesis
    (m / 1000): it needs the hypothesis to do anything."""

    def predict(self, features, mass):
        return -np.abs(features[:, 26] - np.asarray(mass, dtype=float) / 1000)


def test_scans_feed_every_hypothesis_to_the_model(gap, table):
    net = gap.ModelNet("window", MassWindow())
    result = gap.hypothesis_scans(
        table, {"window": net}, masses=gap.SCAN_MASSES, hypotheses=gap.HYPOTHESES
    )["window"]
    assert set(result) == set(gap.SCAN_MASSES)
    for mass, aucs in result.items():
        assert aucs.shape == gap.HYPOTHESES.shape
        assert gap.HYPOTHESES[np.argmax(aucs)] == mass
        assert aucs.max() > 0.9 > 0.6 > aucs.min()  # the hypothesis matters


def test_scored_at_uses_one_hypothesis_for_every_signal_mass(gap, table):
    net = gap.ModelNet("window", MassWindow())
    aucs = gap.scored_at(table, {"window": net}, hypothesis=500.0)["window"]
    assert list(aucs) == list(HEPMASS_MASSES)
    # A window at 500 GeV keeps 500 GeV signal and ranks heavier signal below background.
    assert aucs[500.0] > 0.9
    assert aucs[1000.0] < 0.6 and aucs[1500.0] < 0.4


def test_by_m_wwbb_splits_both_classes_and_scores_each_range(gap, table):
    net = gap.ModelNet("window", MassWindow())
    rows = gap.by_m_wwbb(table, {"window": net}, mass=500.0, edges=(0.45, 0.55, 1.2))
    assert [row[0] for row in rows] == [
        "below 0.45",
        "0.45 to 0.55",
        "0.55 to 1.2",
        "1.2 and above",
    ]
    assert sum(row[1] for row in rows) == pytest.approx(1.0)
    assert sum(row[2] for row in rows) == pytest.approx(1.0)
    assert rows[0][1] == pytest.approx(0.31, abs=0.03)  # N(0.5, 0.1) below 0.45
    assert rows[3][2] == pytest.approx(0.4, abs=0.03)  # U(0, 2) above 1.2
    assert np.isnan(rows[3][3]["window"])  # no 500 GeV signal up there
    keep = (table.label == 0) | (table.mass == 500.0)
    x, y = table.features[keep], table.label[keep]
    inside = (x[:, 26] >= 0.45) & (x[:, 26] < 0.55)
    expected = roc_auc_score(y[inside], net.score(x[inside], 500.0))
    assert rows[1][3]["window"] == pytest.approx(expected)


def test_tables_print_every_net_and_mass(gap, table, capsys):
    net = gap.ModelNet("window", MassWindow())
    hypotheses = np.array([500.0, 1000.0, 1500.0])
    scans = gap.hypothesis_scans(table, {"w": net}, masses=gap.SCAN_MASSES, hypotheses=hypotheses)
    gap.print_scans(scans, hypotheses=hypotheses)
    gap.print_scored_at(gap.scored_at(table, {"w": net}))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| net | signal (GeV) | 500 | 1000 | 1500 |"
    assert [line.split(" | ")[1] for line in lines[2:5]] == ["500", "1000", "1500"]
    assert lines[5] == "| net, scored at 500 GeV | X 500 | X 750 | X 1000 | X 1250 | X 1500 |"
    assert lines[7].startswith("| w | ") and lines[7].count("|") == 7


def test_model_names_come_from_the_run_folder(gap, tmp_path):
    assert gap.model_name(tmp_path / "runs" / "pnn" / "seed2" / "model") == "pnn/seed2"
    assert gap.model_name(tmp_path / "my-model") == "my-model"


def test_a_missing_model_folder_is_one_error_line_and_exit_2(gap, tmp_path, capsys):
    nets = tmp_path / "nets"
    nets.mkdir()
    np.savez(nets / "individual_500.npz", layer1_kernel=np.ones((27, 1), np.float32))
    missing = tmp_path / "no-such-model"
    assert gap.main(["--models", str(missing), "--nets", str(nets)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "no-such-model" in err[0]
