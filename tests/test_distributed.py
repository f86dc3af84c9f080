"""Data-parallel training with torchrun: two CPU processes with global batch B follow one
process with batch B, and a two-process run resumes from its checkpoint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from safetensors.torch import load_file

from hep_pnn.training import load_experiment, train_experiment
from hep_pnn.training.distributed import DataParallel

CONFIG = {
    "data": {"masses": [500, 1000], "n_signal_per_mass": 300, "n_background": 600},
    # dropout masks are drawn per rank, so equality needs a network without dropout
    "model": {"preset": "affine", "options": {"hidden": [8, 8], "dropout": 0.0}},
    "training": {"epochs": 2, "batch_size": 100, "threads": 1},
}


@pytest.mark.parametrize(("start", "stop", "world"), [(0, 100, 2), (200, 237, 2), (5, 12, 3)])
def test_shards_partition_every_global_batch(start: int, stop: int, world: int) -> None:
    rows = [DataParallel(rank=r, world=world).shard(start, stop) for r in range(world)]
    covered = [i for s in rows for i in range(s.start, s.stop)]
    assert covered == list(range(start, stop))
    assert max(s.stop - s.start for s in rows) - min(s.stop - s.start for s in rows) <= 1


def _pnn(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hep_pnn", *args], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_two_processes_match_one_and_resume(tmp_path: Path) -> None:
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(CONFIG))
    one = train_experiment(load_experiment(config_path), tmp_path / "one", progress=False)
    two = tmp_path / "two"
    # one epoch with two processes, then extend the run to two epochs and resume it
    _pnn("train", str(config_path), "--set", "training.epochs=1", "-o", str(two), "--nproc", "2")
    stored = yaml.safe_load((two / "config.yaml").read_text())
    stored["training"]["epochs"] = 2
    (two / "config.yaml").write_text(yaml.safe_dump(stored))
    _pnn("train", "-o", str(two), "--resume", "--nproc", "2")

    history = pd.read_csv(two / "history.csv")
    columns = ["epoch", "train_loss", "val_loss", "val_auc_mean", "train_accuracy"]
    pd.testing.assert_frame_equal(history[columns], one.history[columns], rtol=1e-5)
    reference = load_file(tmp_path / "one" / "last" / "model.safetensors")
    weights = load_file(two / "last" / "model.safetensors")
    for name, tensor in reference.items():
        assert weights[name].allclose(tensor, rtol=1e-4, atol=1e-6), name
    # only rank 0 wrote the log: every epoch line once
    log = (two / "train.log").read_text()
    assert log.count("epoch 1/") == 1 and log.count("epoch 2/2") == 1


def test_family_without_data_parallel_is_refused_before_launch(tmp_path: Path, capsys) -> None:
    from hep_pnn.cli import main

    config = {key: value for key, value in CONFIG.items() if key != "model"}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(SystemExit) as exit_:
        main(["train", str(tmp_path / "config.yaml"), "--model", "knn", "--nproc", "2",
              "-o", str(tmp_path / "run")])  # fmt: skip
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and len(lines) == 1, lines
    assert "does not train data-parallel" in lines[0]
    assert not (tmp_path / "run").exists()
