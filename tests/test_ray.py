"""The Ray executors on a local two-CPU Ray instance: studies give the same results as the
local executor for the same seeds, and scans run through Ray Tune."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from hep_pnn.data import write_parquet
from hep_pnn.data.generator import generate
from hep_pnn.studies import run_study
from hep_pnn.tuning import run_tune

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # no telemetry, before Ray is imported
ray = pytest.importorskip("ray")
optuna = pytest.importorskip("optuna")


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One local Ray instance for the module (its start-up takes seconds)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.slow
def test_study_on_ray_matches_the_local_executor(tmp_path: Path) -> None:
    for part, seed in (("train", 1), ("test", 2)):
        table = generate(n_signal_per_mass=300, n_background=900, masses=[500, 1000], seed=seed)
        write_parquet(table, tmp_path / f"{part}.parquet")
    study = tmp_path / "mini.yaml"
    study.write_text(
        "name: mini\nruns:\n  small: {model: {preset: affine, options: {hidden: [4]}}}\n"
    )
    files = {
        "train_data": [str(tmp_path / "train.parquet")],
        "test_data": [str(tmp_path / "test.parquet")],
    }
    folders = {
        executor: run_study(
            study, output=tmp_path / executor, size="tiny", executor=executor, echo=print, **files
        )
        for executor in ("local", "ray")
    }
    run = Path("runs/small/seed0")
    local, remote = (
        json.loads((f / run / "evaluation/metrics.json").read_text()) for f in folders.values()
    )
    assert local["masses"] == remote["masses"]
    assert (folders["local"] / run / "history.csv").read_text().split("\n")[1].split(",")[:4] == (
        folders["ray"] / run / "history.csv"
    ).read_text().split("\n")[1].split(",")[:4]


@pytest.mark.slow
def test_scan_on_ray_tune(tmp_path: Path) -> None:
    config = {
        "data": {"masses": [500, 1000], "n_signal_per_mass": 150, "n_background": 300},
        "model": {"preset": "affine", "options": {"hidden": [4]}},
        "training": {"epochs": 2, "batch_size": 64, "threads": 1},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "space.yaml").write_text(
        yaml.safe_dump({"training.learning_rate": {"float": [1.0e-3, 3.0e-2], "log": True}})
    )
    result = run_tune(
        tmp_path / "config.yaml",
        space=tmp_path / "space.yaml",
        trials=2,
        output=tmp_path / "scan",
        executor="ray",
        echo=print,
    )
    study = optuna.load_study(
        study_name="pnn-tune", storage=f"sqlite:///{tmp_path / 'scan' / 'optuna.db'}"
    )
    assert len(study.trials) == 2 and len(result.table) == 2
    for trial in study.trials:
        run = Path(trial.user_attrs["run_dir"])
        assert run.name == f"trial-{trial.number:04d}"
        stored = yaml.safe_load((run / "config.yaml").read_text())
        assert stored["training"]["learning_rate"] == pytest.approx(
            trial.params["training.learning_rate"]
        )
        history = (run / "history.csv").read_text().splitlines()[1:]
        assert trial.value == pytest.approx(max(float(r.split(",")[3]) for r in history))
    assert result.best_config is not None and result.best_config.is_file()
