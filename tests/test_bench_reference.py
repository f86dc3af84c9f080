"""The side-by-side benchmark's own options (``benchmarks/bench_reference.py``).

Only the hep-pnn half is exercised here: the reference code is not installed in CI.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from hep_pnn.data import read_events

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCHMARKS))  # for its `machine` helper
    try:
        spec = importlib.util.spec_from_file_location(
            "bench_reference", BENCHMARKS / "bench_reference.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_reference"] = module  # its dataclass looks itself up there
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCHMARKS))
        sys.modules.pop("bench_reference", None)


def test_training_masses_are_parsed_in_gev(bench):
    args = bench.parse_args(["--skip-reference", "--model", "pnn", "--train-masses", "500,1500"])
    assert args.train_masses == (500.0, 1500.0)
    assert args.model == "pnn"


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


def test_imbalanced_training_file_has_hepmass_imb_signal_shares(bench, tmp_path):
    # HEPMASS-IMB: 350k at 500 GeV, 1.4k at 1500 GeV -> 2,500 and 10 here
    bench.write_files(
        tmp_path, "train", signal=2500, background=3000, seed=3,
        masses=(500.0, 1500.0), imbalanced=True,
    )  # fmt: skip
    table = read_events(tmp_path / "train.parquet", cache=False)
    signal_masses = table.mass[table.label == 1]
    masses, counts = np.unique(signal_masses, return_counts=True)
    assert dict(zip(masses.tolist(), counts.tolist(), strict=True)) == {500.0: 2500, 1500.0: 10}
    assert int((table.label == 0).sum()) == 3000
    assert (tmp_path / "train.csv").stat().st_size > 0
