"""The training loop and run directories: selection, faults, resume, determinism, ``pnn train``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from safetensors.torch import load_file

from hep_pnn.cli import main
from hep_pnn.data import EventTable, write_parquet
from hep_pnn.errors import ConfigError
from hep_pnn.models import PerMassEnsemble, build_model, preset
from hep_pnn.training import (
    NonFiniteLossError,
    Trainer,
    TrainingConfig,
    load_checkpoint,
    load_experiment,
    load_experiment_data,
    load_run,
    train_experiment,
)
from hep_pnn.training import loop as loop_module
from hep_pnn.training.validation import ValidationResult

MASSES = (500.0, 1000.0)


def separable_table(n_signal_per_mass: int = 80, n_background: int = 320) -> EventTable:
    """Four features; signal shifted by mass/1000 so that the mass input matters."""
    rng = np.random.default_rng(11)
    signal_mass = np.repeat(MASSES, n_signal_per_mass)
    background_mass = rng.choice(MASSES, n_background)
    n = len(signal_mass) + n_background
    shift = np.concatenate([signal_mass / 1000, np.zeros(n_background)])
    return EventTable.from_arrays(
        rng.normal(size=(n, 4)) + shift[:, None],
        label=[1] * len(signal_mass) + [0] * n_background,
        mass=np.concatenate([signal_mass, background_mass]),
        process=["signal"] * len(signal_mass)
        + ["ttbar"] * (n_background // 2)
        + ["wjets"] * (n_background - n_background // 2),
    )


@pytest.fixture
def experiment(tmp_path: Path) -> Path:
    """A tiny experiment YAML reading a parquet file."""
    write_parquet(separable_table(), tmp_path / "events.parquet")
    config = {
        "data": {"source": "files", "paths": ["events.parquet"], "test_fraction": 0.25},
        "model": {"preset": "affine", "options": {"hidden": [8, 4]}},
        "training": {"epochs": 3, "batch_size": 64, "threads": 1},
    }
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


def assert_same_weights(a: Path, b: Path) -> None:
    first, second = weights(a), weights(b)
    assert first.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key


def test_run_directory_layout_and_load_run(experiment: Path, tmp_path: Path) -> None:
    run = train_experiment(load_experiment(experiment), tmp_path / "run", progress=False)
    names = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"config.yaml", "model", "last", "checkpoint", "history.csv", "history.json"} <= names
    assert "train.log" in names
    history = run.history
    assert list(history["epoch"]) == [1, 2, 3]
    for column in ("train_loss", "val_loss", "val_auc_mean", "val_auc_m500", "val_auc_m1000"):
        assert history[column].notna().all(), column
    assert history["val_auc_mean"].iloc[-1] > 0.6  # the separable data is learnt
    loaded = load_run(tmp_path / "run")
    assert loaded.training_masses == MASSES
    test = loaded.load_test_data()
    assert len(test) == 0.25 * len(separable_table())
    x, m = test.features, test.mass
    assert np.array_equal(loaded.model.predict(x, m), run.model.predict(x, m))


def test_same_seed_gives_bit_identical_weights(experiment: Path, tmp_path: Path) -> None:
    config = load_experiment(experiment, ["training.epochs=2"])
    train_experiment(config, tmp_path / "a", progress=False)
    train_experiment(config, tmp_path / "b", progress=False)
    assert_same_weights(tmp_path / "a" / "last", tmp_path / "b" / "last")
    other = load_experiment(experiment, ["training.epochs=2", "training.seed=1"])
    train_experiment(other, tmp_path / "c", progress=False)
    assert not torch.equal(
        weights(tmp_path / "a" / "last")["0.output.weight"],
        weights(tmp_path / "c" / "last")["0.output.weight"],
    )


def test_ctrl_c_saves_and_resume_matches_uninterrupted_run(
    experiment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_experiment(experiment, ["training.lr_schedule=cosine"])
    train_experiment(config, tmp_path / "reference", progress=False)
    calls = {"n": 0}

    def interrupting(step):
        def interrupted_in_second_epoch(self, *args: torch.Tensor):
            calls["n"] += 1
            # 225 training events -> 4 batches of 64 per epoch: call 6 is epoch 2, batch 2
            if calls["n"] == 6:
                raise KeyboardInterrupt
            return step(self, *args)

        return interrupted_in_second_epoch

    with monkeypatch.context() as patch:  # whichever step the trainer takes
        for name in ("_direct_step", "_autograd_step"):
            patch.setattr(
                loop_module.Trainer, name, interrupting(getattr(loop_module.Trainer, name))
            )
        with pytest.raises(KeyboardInterrupt):
            train_experiment(config, tmp_path / "run", progress=False)
    assert calls["n"] == 6
    assert load_checkpoint(tmp_path / "run" / "checkpoint")[1]["epoch"] == 1
    assert (tmp_path / "run" / "model").is_dir() and (tmp_path / "run" / "last").is_dir()
    assert "continue with --resume" in (tmp_path / "run" / "train.log").read_text()
    resumed = train_experiment(None, tmp_path / "run", resume=True, progress=False)
    assert list(resumed.history["epoch"]) == [1, 2, 3]
    assert_same_weights(tmp_path / "run" / "last", tmp_path / "reference" / "last")
    assert_same_weights(tmp_path / "run" / "model", tmp_path / "reference" / "model")


def scripted_trainer(aucs: list[float], **options: object) -> tuple[Trainer, list[dict]]:
    table = separable_table(20, 40)
    net = build_model(preset("affine", hidden=(4,)), feature_names=table.feature_names)
    config = TrainingConfig(batch_size=32, threads=1, **options)
    trainer = Trainer(net, table, config, generators={"dropout": net.generator}, log=str)
    script = iter(aucs)
    trainer.validate = lambda: ValidationResult(loss=0.5, auc={500.0: next(script)})
    return trainer, []


def test_best_epoch_is_the_one_with_the_best_mean_validation_auc() -> None:
    trainer, snapshots = scripted_trainer([0.6, 0.8, 0.7], epochs=3)
    trainer.fit(
        on_epoch_end=lambda t: snapshots.append(
            {k: v.clone() for k, v in t.model.state_dict().items()}
        )
    )
    assert trainer.progress.best_epoch == 2
    assert trainer.progress.best_auc == 0.8
    for key, value in snapshots[1].items():
        assert torch.equal(trainer.best_state[key], value), key
    assert not torch.equal(trainer.best_state["output.weight"], snapshots[2]["output.weight"])


def test_early_stopping_after_patience_epochs_without_improvement() -> None:
    trainer, _ = scripted_trainer(
        [0.6, 0.8, 0.7, 0.75, 0.9, 0.95], epochs=6, early_stopping_patience=2
    )
    progress = trainer.fit()
    assert progress.epoch == 4 and progress.stopped_early and progress.best_epoch == 2


def test_plateau_schedule_halves_the_learning_rate_after_flat_epochs() -> None:
    trainer, _ = scripted_trainer([0.8, 0.7, 0.7, 0.7, 0.7], epochs=5, lr_schedule="plateau")
    progress = trainer.fit()
    assert [row["learning_rate"] for row in progress.history] == [1e-3] * 4 + [5e-4]


def test_non_finite_loss_names_epoch_and_batch_and_keeps_last_checkpoint(
    experiment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fit = Trainer.fit

    def poison_after_first_epoch(self: Trainer, *, on_epoch_end, progress_bar=False):
        def after(trainer: Trainer) -> None:
            on_epoch_end(trainer)
            trainer.features[5, 0] = float("inf")  # one training input becomes infinite

        return fit(self, on_epoch_end=after, progress_bar=progress_bar)

    monkeypatch.setattr(Trainer, "fit", poison_after_first_epoch)
    with pytest.raises(NonFiniteLossError, match=r"at epoch 2, batch \d+"):
        train_experiment(load_experiment(experiment), tmp_path / "run", progress=False)
    assert load_checkpoint(tmp_path / "run" / "checkpoint")[1]["epoch"] == 1


def test_individual_preset_trains_one_network_per_mass(experiment: Path, tmp_path: Path) -> None:
    config = load_experiment(experiment, ["model.preset=individual", "training.epochs=2"])
    run = train_experiment(config, tmp_path / "run", progress=False)
    assert isinstance(run.model, PerMassEnsemble)
    assert run.training_masses == MASSES
    assert sorted(set(run.history["mass"])) == list(MASSES)
    assert len(run.history) == 4
    assert isinstance(load_run(tmp_path / "run").model, PerMassEnsemble)


def run_cli(*args: str) -> int | str | None:
    """Run ``pnn`` in this process; returns its exit code."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    return exit_info.value.code


def test_cli_train_refuses_existing_run_without_overwrite(
    experiment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = str(tmp_path / "run")
    assert run_cli("train", str(experiment), "--set", "training.epochs=1", "-o", run) == 0
    assert "best model" in capsys.readouterr().out
    assert run_cli("train", str(experiment), "-o", run) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--overwrite" in err and "Traceback" not in err
    assert (
        run_cli("train", str(experiment), "--set", "training.epochs=2", "-o", run, "--overwrite")
        == 0
    )
    assert len(load_run(run).history) == 2
    assert run_cli("train", str(experiment), "--set", "training.epochs=0", "-o", run) == 2
    err = capsys.readouterr().err
    assert "key training.epochs" in err and str(experiment) in err


@pytest.mark.slow
def test_cli_resume_after_sigkill_matches_uninterrupted_run(
    experiment: Path, tmp_path: Path
) -> None:
    options = ["--set", "training.epochs=4", "--set", "training.epoch_length=3200"]
    train_experiment(
        load_experiment(experiment, [o for o in options if o != "--set"]),
        tmp_path / "reference",
        progress=False,
    )
    command = [sys.executable, "-m", "hep_pnn", "train", str(experiment), *options]
    run = tmp_path / "run"
    process = subprocess.Popen(
        [*command, "-o", str(run)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    checkpoint = run / "checkpoint" / "checkpoint.safetensors"
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not (run / "last").exists()  # killed before the end
    assert load_checkpoint(run / "checkpoint")[1]["epoch"] >= 1
    resumed = subprocess.run(
        [*command, "-o", str(run), "--resume"], capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    assert_same_weights(run / "last", tmp_path / "reference" / "last")
    assert_same_weights(run / "model", tmp_path / "reference" / "model")


def test_separate_train_and_test_files_relative_to_the_config(tmp_path: Path) -> None:
    table = separable_table(10, 40)
    write_parquet(table.select(slice(0, None, 2)), tmp_path / "train.parquet")
    write_parquet(table.select(slice(1, None, 2)), tmp_path / "test.parquet")
    path = tmp_path / "exp.yaml"
    path.write_text(
        "data: {source: files, train_paths: [train.parquet], test_paths: [test.parquet]}"
    )
    train, test = load_experiment_data(load_experiment(path))
    assert len(train) == 30 and len(test) == 30
    assert np.array_equal(test.features, table.features[1::2])
    path.write_text("data: {source: files, train_paths: [train.parquet]}")
    with pytest.raises(ConfigError, match="key data"):
        load_experiment(path)


def test_resuming_a_run_from_before_background_share_keeps_its_equal_shares(tmp_path) -> None:
    import yaml

    from hep_pnn.training.config import ExperimentConfig
    from hep_pnn.training.runs import _prepare_run_dir

    resolved = ExperimentConfig().model_dump(mode="json")
    del resolved["training"]["background_share"]  # as written by older versions
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(resolved))
    stored = _prepare_run_dir(None, tmp_path, overwrite=False, resume=True)
    assert stored.training.background_share == "equal"
    resolved["training"]["background_share"] = "weight"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(resolved))
    stored = _prepare_run_dir(None, tmp_path, overwrite=False, resume=True)
    assert stored.training.background_share == "weight"
