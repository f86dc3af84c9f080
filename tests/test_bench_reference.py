"""The side-by-side benchmark's own options (``benchmarks/bench_reference.py``).

Its options, the driver's command line and the training file; neither side trains here
(the reference code is not installed in CI).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from hep_pnn.data import read_events

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench(load_script):
    return load_script(BENCHMARKS / "bench_reference.py")


def test_training_masses_are_parsed_in_gev(bench):
    args = bench.parse_args(["--skip-reference", "--model", "pnn", "--train-masses", "500,1500"])
    assert args.train_masses == (500.0, 1500.0)
    assert args.model == "pnn"


@pytest.mark.parametrize("model", ["pnn", "affine"])
def test_the_reference_trains_the_same_model_as_the_preset(bench, tmp_path, model):
    # the published networks have dropout after every hidden layer (reference_checkpoints.py)
    args = bench.parse_args(["--skip-reference", "--model", model, "--workdir", str(tmp_path)])
    command = bench.reference_command(args, tmp_path / "reference.npz")
    options = dict(zip(command[2::2], command[3::2], strict=True))
    assert options["--model"] == model
    assert options["--dropout"] == "0.25"
    assert options["--train"] == str(tmp_path / "train.csv")
    assert bench.hep_pnn_config(args).model.resolve().dropout == 0.25


def test_dropout_option_reaches_both_sides(bench, tmp_path):
    argv = ["--skip-reference", "--model", "pnn", "--dropout", "0", "--workdir", str(tmp_path)]
    args = bench.parse_args(argv)
    command = bench.reference_command(args, tmp_path / "reference.npz")
    assert dict(zip(command[2::2], command[3::2], strict=True))["--dropout"] == "0.0"
    model = bench.hep_pnn_config(args).model.resolve()
    assert model.dropout == 0.0
    assert model.conditioning == "concat"
    assert bench.hep_pnn_label(args) == "hep-pnn Baldi pNN (defaults, dropout 0)"


def test_a_dropout_rate_outside_0_1_is_one_usage_error(bench, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args(["--skip-reference", "--dropout", "1"])
    assert exit_info.value.code == 2
    assert "--dropout 1: give a rate in [0, 1)" in capsys.readouterr().err


def test_a_repeated_mass_is_one_usage_error(bench, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args(["--skip-reference", "--train-masses", "500,500"])
    assert exit_info.value.code == 2
    assert "a mass twice" in capsys.readouterr().err


def test_a_malformed_mass_list_is_one_usage_error(bench, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args(["--skip-reference", "--train-masses", "500,heavy"])
    assert exit_info.value.code == 2
    assert "--train-masses '500,heavy'" in capsys.readouterr().err


def test_imbalanced_shares_exist_only_at_the_published_masses(bench, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args(["--skip-reference", "--imbalanced", "--train-masses", "500,1600"])
    assert exit_info.value.code == 2
    assert "choose --train-masses among them" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("masses", "expected"),
    [
        # HEPMASS-IMB: 350k / 140k / 35k / 7k / 1.4k; --signal at the most populated mass
        ((500.0, 1500.0), {500.0: 2500, 1500.0: 10}),
        ((750.0, 1500.0), {750.0: 2500, 1500.0: 25}),
    ],
)
def test_imbalanced_training_file_has_hepmass_imb_signal_shares(bench, tmp_path, masses, expected):
    written = bench.write_files(
        tmp_path, "train", signal=2500, background=3000, seed=3, masses=masses, imbalanced=True
    )
    table = read_events(tmp_path / "train.parquet", cache=False)
    signal_masses = table.mass[table.label == 1]
    found, counts = np.unique(signal_masses, return_counts=True)
    assert dict(zip(found.tolist(), counts.tolist(), strict=True)) == expected
    assert int((table.label == 0).sum()) == 3000
    assert written == table.label.size  # the events/s count of the training file
    assert (tmp_path / "train.csv").stat().st_size > 0


def test_conditioning_option_trains_the_same_network_on_both_sides(bench, tmp_path):
    argv = ["--skip-reference", "--conditioning", "affine-input", "--workdir", str(tmp_path)]
    args = bench.parse_args(argv)
    command = bench.reference_command(args, tmp_path / "reference.npz")
    options = dict(zip(command[2::2], command[3::2], strict=True))
    assert options["--conditioning"] == "affine:start"  # the reference's PNN.structure names
    model = bench.hep_pnn_config(args).model.resolve()
    assert (model.conditioning, model.placement, model.dropout) == ("affine", "input", 0.25)
    assert bench.hep_pnn_label(args) == "hep-pnn pNN affine-input (defaults)"
    every = bench.parse_args(["--skip-reference", "--conditioning", "bias-every"])
    assert bench.hep_pnn_config(every).model.resolve().placement == "every"
    assert "bias:all" in bench.reference_command(every, tmp_path / "r.npz")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--conditioning", "gate-input"], "--conditioning 'gate-input': give MECHANISM-PLACEMENT"),
        (["--conditioning", "affine-start"], "a placement in input, every, output"),
        (["--conditioning", "bias-every", "--model", "pnn"], "leave --model at affine"),
    ],
)
def test_a_bad_conditioning_is_one_usage_error(bench, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args(["--skip-reference", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_seed_reaches_both_sides(bench, tmp_path):
    args = bench.parse_args(["--skip-reference", "--seed", "2", "--workdir", str(tmp_path)])
    command = bench.reference_command(args, tmp_path / "reference.npz")
    assert dict(zip(command[2::2], command[3::2], strict=True))["--seed"] == "2"
    assert bench.hep_pnn_config(args).training.seed == 2


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_a_seed_numpy_refuses_is_one_usage_error(bench, capsys, seed):
    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args(["--skip-reference", "--seed", seed])
    assert exit_info.value.code == 2
    assert f"--seed {seed}: give a seed in [0, 2**32)" in capsys.readouterr().err


def test_skipping_both_sides_is_one_usage_error(bench, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args(["--skip-reference", "--skip-hep-pnn"])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("skip", "expected"),
    [
        ([], ["reference", "hep-pnn"]),
        (["--skip-reference"], ["hep-pnn"]),
        (["--skip-hep-pnn"], ["reference"]),
    ],
)
def test_skip_options_choose_the_sides_trained(
    bench, tmp_path, monkeypatch, capsys, skip, expected
):
    checkout = tmp_path / "apn"
    (checkout / "script" / "hep").mkdir(parents=True)
    (checkout / "script" / "hep" / "data.py").touch()
    trained = []

    def side(name):
        def train(args, masses, test):
            trained.append(name)
            scores = np.tile(test.label[:, None].astype(float), (1, len(masses)))
            return bench.Result(name, scores, 1.0, "")

        return train

    monkeypatch.setattr(bench, "run_reference", side("reference"))
    monkeypatch.setattr(bench, "run_hep_pnn", side("hep-pnn"))
    argv = ["--quick", *skip, "--reference", str(checkout)]
    bench.main([*argv, "--reference-python", sys.executable, "--workdir", str(tmp_path / "w")])
    assert trained == expected
    out = capsys.readouterr().out
    for name in expected:
        assert f"| {name} | 1.0000 |" in out
