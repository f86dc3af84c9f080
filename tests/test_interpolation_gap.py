"""``benchmarks/interpolation_gap.py``: hypothesis scans and the 500 GeV verdict on
heavier signal, for hep-pnn models beside the real-data networks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from hep_pnn.data import HEPMASS_MASSES, EventTable
from hep_pnn.models import build_model, load_model, preset, save_model
from hep_pnn.models.onnx import export_onnx
from hep_pnn.training import load_experiment, train_experiment

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
    assert [row.name for row in rows] == [
        "below 0.45",
        "0.45 to 0.55",
        "0.55 to 1.2",
        "1.2 and above",
    ]
    assert sum(row.signal_share for row in rows) == pytest.approx(1.0)
    assert sum(row.background_share for row in rows) == pytest.approx(1.0)
    assert rows[0].signal_share == pytest.approx(0.31, abs=0.03)  # N(0.5, 0.1) below 0.45
    assert rows[3].background_share == pytest.approx(0.4, abs=0.03)  # U(0, 2) above 1.2
    assert np.isnan(rows[3].aucs["window"])  # no 500 GeV signal up there
    keep = (table.label == 0) | (table.mass == 500.0)
    x, y = table.features[keep], table.label[keep]
    inside = (x[:, 26] >= 0.45) & (x[:, 26] < 0.55)
    expected = roc_auc_score(y[inside], net.score(x[inside], 500.0))
    assert rows[1].aucs["window"] == pytest.approx(expected)


def test_tables_print_every_net_and_mass(gap, table, capsys):
    net = gap.ModelNet("window", MassWindow())
    hypotheses = np.array([500.0, 1000.0, 1500.0])
    scans = gap.hypothesis_scans(table, {"w": net}, masses=gap.SCAN_MASSES, hypotheses=hypotheses)
    gap.print_scans(scans, hypotheses=hypotheses)
    scored = gap.scored_at(table, {"w": net})
    gap.print_scored_at(scored)
    rows = gap.by_m_wwbb(table, {"w": net}, edges=(0.45, 1.2))
    gap.print_by_m_wwbb(rows)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| net | signal (GeV) | 500 | 1000 | 1500 |"
    for line, mass in zip(lines[2:5], gap.SCAN_MASSES, strict=True):
        assert (
            line == f"| w | {mass:g} | " + " | ".join(f"{a:.3f}" for a in scans["w"][mass]) + " |"
        )
    assert lines[5] == "| net, scored at 500 GeV | X 500 | X 750 | X 1000 | X 1250 | X 1500 |"
    assert lines[7] == "| w | " + " | ".join(f"{a:.3f}" for a in scored["w"].values()) + " |"
    assert lines[8] == "| f26 (m_WWbb) | X 500 share | background share | w |"
    assert lines[10] == (
        f"| below 0.45 | {rows[0].signal_share:.3f} | {rows[0].background_share:.3f} | "
        f"{rows[0].aucs['w']:.3f} |"
    )
    assert lines[12].startswith("| 1.2 and above | 0.000 | ") and lines[12].endswith("| nan |")


class MassWindowOnFeature:
    """:class:`MassWindow` on feature ``column``, plus a small pull from feature 3."""

    def __init__(self, column):
        self.column = column

    def predict(self, features, mass):
        window = -np.abs(features[:, self.column] - np.asarray(mass, dtype=float) / 1000)
        return window + 0.01 * features[:, 3]


def test_shuffle_shifts_find_the_feature_a_net_reads(gap, table):
    """A window at 500 GeV on f26 ranks heavier signal below the background: shuffling
    f26 takes that away (AUC up towards 0.5); shuffling f3, which it reads weakly, moves
    it a little; shuffling f5, noise it ignores, moves it not at all. A net reading only
    f0 (zero everywhere) and f3 is not moved by f26."""
    rng = np.random.default_rng(7)
    features = table.features.copy()
    features[:, 3] = rng.normal(0.0, 1.0, len(features)) + 2.0 * table.label
    features[:, 5] = rng.normal(0.0, 1.0, len(features))
    noisy = EventTable.from_arrays(
        features, label=table.label, mass=table.mass, feature_names=table.feature_names
    )
    nets = {
        "f26": gap.ModelNet("f26", MassWindowOnFeature(26)),
        "f0": gap.ModelNet("f0", MassWindowOnFeature(0)),
    }
    result = gap.shuffle_shifts(noisy, nets, masses=(1000.0, 1500.0), hypothesis=500.0)
    assert list(result) == [1000.0, 1500.0]
    base = gap.scored_at(noisy, nets, hypothesis=500.0)
    assert base["f26"][1500.0] < 0.3
    for mass, shifts in result.items():
        assert shifts["f26"].shape == (27,)
        # Shuffled, f26 no longer tells signal from background: the AUC goes to 0.5.
        assert base["f26"][mass] + shifts["f26"][26] == pytest.approx(0.5, abs=0.02)
        assert 0.0 < abs(shifts["f26"][3]) < 0.05  # read weakly
        assert shifts["f26"][5] == 0.0  # ignored
        # The f0 net reads only f3 (f0 is zero): shuffling f3 takes its AUC to 0.5.
        assert base["f0"][mass] > 0.8
        assert base["f0"][mass] + shifts["f0"][3] == pytest.approx(0.5, abs=0.02)
        assert shifts["f0"][26] == 0.0 and shifts["f0"][5] == 0.0


def test_print_shifts_lists_features_above_the_threshold(gap, capsys):
    result = {1000.0: {"a": np.r_[0.05, -0.03, 0.001, np.zeros(24)], "b": np.zeros(27)}}
    gap.print_shifts(result, threshold=0.02)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| signal | feature shuffled | a | b |"
    assert lines[2:] == [
        "| X 1000 | f0 lepton pT | +0.050 | +0.000 |",
        "| X 1000 | f1 lepton eta | -0.030 | +0.000 |",
    ]


def test_print_shifts_says_when_no_feature_matters(gap, capsys):
    gap.print_shifts({1500.0: {"a": np.full(27, 0.001)}}, threshold=0.02)
    assert capsys.readouterr().out.splitlines()[2] == "| X 1500 | none moves a net by 0.02 | – |"


def test_model_names_come_from_the_run_folder(gap, tmp_path):
    assert gap.model_name(tmp_path / "runs" / "pnn" / "seed2" / "model") == "pnn/seed2"
    assert gap.model_name(tmp_path / "runs" / "affine" / "seed2") == "affine/seed2"
    assert gap.model_name(tmp_path / "exported" / "pnn.onnx") == "pnn"
    assert gap.model_name(tmp_path / "my-model") == "my-model"


@pytest.fixture
def nets(tmp_path):
    """A reference-nets folder with the two networks the script needs (trivial weights)."""
    folder = tmp_path / "nets"
    folder.mkdir()
    for name in ("imb_interp_pnn", "individual_500"):
        np.savez(folder / f"{name}.npz", layer1_kernel=np.ones((27, 1), np.float32))
    return folder


def _saved(folder):
    net = build_model(preset("pnn", hidden=(4,)), feature_names=[f"f{i}" for i in range(27)])
    return save_model(net, folder)


def _usage_error(gap, capsys, *argv):
    """Exit code and the stderr lines of the script run with ``argv``."""
    code = gap.main([str(a) for a in argv])
    return code, capsys.readouterr().err.strip().splitlines()


def test_bad_input_is_one_error_line_and_exit_2(gap, nets, tmp_path, capsys):
    model = _saved(tmp_path / "a" / "runs" / "pnn" / "seed0" / "model")
    twin = _saved(tmp_path / "b" / "runs" / "pnn" / "seed0" / "model")
    only_one = tmp_path / "one-net"
    only_one.mkdir()
    np.savez(only_one / "individual_500.npz", layer1_kernel=np.ones((27, 1), np.float32))
    cases = {
        "no-such-model": ("--models", tmp_path / "no-such-model", "--nets", nets),
        "imb_interp_pnn.npz": ("--models", model, "--nets", only_one),
        "two models are named 'pnn/seed0'": ("--models", model, twin, "--nets", nets),
        "--plot": ("--models", model, "--nets", nets, "--plot", tmp_path / "nowhere" / "a.png"),
        "--signal": ("--models", model, "--nets", nets, "--signal", 0),
    }
    for needle, argv in cases.items():
        code, err = _usage_error(gap, capsys, *argv)
        assert code == 2, needle
        assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0], (needle, err)


def test_models_load_as_pnn_apply_takes_them(gap, nets, tmp_path):
    """A run folder, its saved model folder and an .onnx file of one network score alike."""
    config = load_experiment(
        None, ["data.n_signal_per_mass=50", "data.n_background=100", "training.epochs=1",
               "model.options.hidden=[4]"],
    )  # fmt: skip
    run = tmp_path / "runs" / "affine" / "seed1"
    train_experiment(config, run, progress=False)
    net = load_model(run / "model")
    export_onnx(net, tmp_path / "affine.onnx")
    paths = (run, run / "model", tmp_path / "affine.onnx")
    with pytest.raises(gap.ConfigError, match="two models are named 'affine/seed1'"):
        gap.load_inputs(models=paths, per_mass="individual-hepmass", nets=nets, plot=None)
    loaded = {}
    for group in (paths[:1], paths[1:]):
        _, models, _ = gap.load_inputs(
            models=group, per_mass="individual-hepmass", nets=nets, plot=None
        )
        loaded.update({f"{name} ({len(group)})": model for name, model in models.items()})
    assert set(loaded) == {"affine/seed1 (1)", "affine/seed1 (2)", "affine (2)"}
    x = np.random.default_rng(0).normal(size=(50, 27)).astype(np.float32)
    expected = net.predict(x, np.full(50, 750.0))
    for model in loaded.values():
        assert model.score(x, 750.0) == pytest.approx(expected, abs=1e-5)
