"""Run directories: ``train_experiment`` writes one, ``load_run`` reads it back."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from hep_pnn._io import atomic_path
from hep_pnn._threads import wait_policy
from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError, ModelError, OutputExistsError
from hep_pnn.models._inference import torch_threads
from hep_pnn.run_files import (
    CHECKPOINT_DIR,
    CHECKPOINT_FILE,
    CONFIG_FILE,
    HISTORY_CSV,
    HISTORY_JSON,
    LAST_DIR,
    LOG_FILE,
    MODEL_DIR,
)
from hep_pnn.training.checkpoint import load_checkpoint, save_checkpoint
from hep_pnn.training.config import ExperimentConfig, load_experiment
from hep_pnn.training.datasets import load_test_table, load_training_table
from hep_pnn.training.feedback import TensorBoardLog
from hep_pnn.training.loop import Trainer

__all__ = ["TrainedRun", "load_run", "train_experiment"]


@dataclass(frozen=True)
class TrainedRun:
    """A finished run: the best model, its config and its history."""

    run_dir: Path
    config: ExperimentConfig
    model: Any
    history: pd.DataFrame

    @property
    def training_masses(self) -> tuple[float, ...]:
        """Signal masses the model was trained on."""
        return tuple(self.model.training_masses)

    def load_test_data(self) -> EventTable:
        """Re-create the held-out test sample described by the config."""
        return load_test_table(self.config)


class _Log:
    """Appends lines to ``train.log`` and, when ``echo``, prints them."""

    def __init__(self, path: Path, *, echo: bool) -> None:
        self.path, self.echo = path, echo

    def __call__(self, line: str) -> None:
        with self.path.open("a") as handle:
            handle.write(line + "\n")
        if self.echo:
            print(line, flush=True)


def _child_seed(seed: int, *key: int) -> int:
    return int(np.random.SeedSequence(seed, spawn_key=key).generate_state(1)[0])


def _settings_of_older_runs(config_path: Path) -> list[str]:
    """Overrides that keep a run resumed from an older version training as it started: its
    resolved config lacks keys added since, whose new defaults would change the run."""
    raw = yaml.safe_load(config_path.read_text()) or {}
    training = raw.get("training") or {}
    # balanced batches shared the background equally between processes before the key existed
    return [] if "background_share" in training else ["training.background_share=equal"]


def _prepare_run_dir(
    config: ExperimentConfig | None, run_dir: Path, *, overwrite: bool, resume: bool
) -> ExperimentConfig:
    config_path = run_dir / CONFIG_FILE
    if resume:
        if not config_path.is_file():
            raise ConfigError(
                f"nothing to resume: {run_dir} has no {CONFIG_FILE}",
                where="--resume",
                fix="start a new run without --resume",
            )
        stored = load_experiment(config_path, _settings_of_older_runs(config_path))
        if config is not None and config != stored:
            changed = [
                k for k in ("data", "model", "training") if getattr(config, k) != getattr(stored, k)
            ]
            raise ConfigError(
                f"the given config differs from the run's config in section(s) {changed}",
                where=str(config_path),
                fix="resume without a config (the run's own is used) or start a new run",
            )
        return stored
    config = config if config is not None else ExperimentConfig()
    if run_dir.exists() and any(run_dir.iterdir()):
        if not overwrite:
            raise OutputExistsError(
                f"run directory {run_dir} already exists",
                where="--output",
                fix="pass --overwrite to replace it, --resume to continue it, or choose another",
            )
        if not config_path.is_file():
            raise OutputExistsError(
                f"{run_dir} is not a run directory (no {CONFIG_FILE}); refusing to delete it",
                where="--output",
                fix="choose an empty or new folder",
            )
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(config_path, overwrite=True) as tmp:
        tmp.write_text(config.to_yaml())
    return config


def _write_history(run_dir: Path, rows: list[dict[str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    with atomic_path(run_dir / HISTORY_CSV, overwrite=True) as tmp:
        frame.to_csv(tmp, index=False)
    with atomic_path(run_dir / HISTORY_JSON, overwrite=True) as tmp:
        tmp.write_text(json.dumps(rows, indent=1))
    return frame


def _train_one(
    trainer: Trainer,
    checkpoint_dir: Path,
    *,
    resume: bool,
    progress: bool,
    on_epoch_end: Any,
) -> None:
    """Fit ``trainer`` with a checkpoint after every epoch; on Ctrl-C go back to the last one."""
    if resume and (checkpoint_dir / CHECKPOINT_FILE).is_file():
        trainer.load_state(*load_checkpoint(checkpoint_dir))

    def after_epoch(done: Trainer) -> None:
        tensors, state = done.state()
        save_checkpoint(checkpoint_dir, tensors=tensors, state=state)
        on_epoch_end()

    try:
        trainer.fit(on_epoch_end=after_epoch, progress_bar=progress)
    except KeyboardInterrupt:
        if (checkpoint_dir / CHECKPOINT_FILE).is_file():
            trainer.load_state(*load_checkpoint(checkpoint_dir))
        trainer.log(
            f"interrupted during epoch {trainer.progress.epoch + 1}; the last complete epoch "
            f"is saved in {checkpoint_dir}; continue with --resume"
        )
        raise


def _save_models(model: Any, nets_and_states: list[tuple[Any, dict]], run_dir: Path) -> Any:
    """Save ``model`` as ``last/``, then load each net's best state and save ``model/``."""
    from hep_pnn.models import save_model

    save_model(model, run_dir / LAST_DIR, overwrite=True)
    for net, best_state in nets_and_states:
        net.load_state_dict(best_state)
    save_model(model, run_dir / MODEL_DIR, overwrite=True)
    return model


def _train_parametric(
    config: ExperimentConfig, table: EventTable, run_dir: Path, log: _Log, **options: Any
) -> Any:
    from hep_pnn.models import build_model

    net = build_model(
        config.model.resolve(),
        feature_names=table.feature_names,
        seed=_child_seed(config.training.seed, 4),
    )
    trainer = Trainer(net, table, config.training, generators={"dropout": net.generator}, log=log)
    net.training_masses = trainer.training_masses
    tensorboard = TensorBoardLog(str(run_dir / "tensorboard"))

    def after_epoch() -> None:
        _write_history(run_dir, trainer.progress.history)
        tensorboard.write(trainer.progress.history[-1])

    try:
        _train_one(trainer, run_dir / CHECKPOINT_DIR, on_epoch_end=after_epoch, **options)
    except KeyboardInterrupt:
        if trainer.progress.epoch:
            _save_models(net, [(net, trainer.best_state)], run_dir)
        raise
    _write_history(run_dir, trainer.progress.history)
    best = trainer.progress
    log(f"best epoch {best.best_epoch} (mean validation AUC {best.best_auc:.4f})")
    return _save_models(net, [(net, trainer.best_state)], run_dir)


def _train_individual(
    config: ExperimentConfig, table: EventTable, run_dir: Path, log: _Log, **options: Any
) -> Any:
    """One network per signal mass: that mass's signal against the full background."""
    from hep_pnn.models import PerMassEnsemble, build_model

    background = table.background()
    masses = [float(m) for m in table.signal_masses]
    trainers: list[tuple[float, Trainer]] = []

    def history() -> list[dict[str, float]]:
        return [{"mass": m, **row} for m, t in trainers for row in t.progress.history]

    for number, mass in enumerate(masses):
        net = build_model(
            config.model.resolve(),
            feature_names=table.feature_names,
            seed=_child_seed(config.training.seed, 4, number),
        )
        member_config = config.training.model_copy(
            update={"seed": _child_seed(config.training.seed, 5, number)}
        )
        member_table = EventTable.concat([table.signal(mass), background])
        trainer = Trainer(
            net, member_table, member_config, generators={"dropout": net.generator}, log=log
        )
        net.training_masses = (mass,)
        trainers.append((mass, trainer))
        log(f"individual network for mass {mass:g}")
        _train_one(
            trainer,
            run_dir / CHECKPOINT_DIR / f"m{mass:g}",
            on_epoch_end=lambda: _write_history(run_dir, history()),
            **options,
        )
    _write_history(run_dir, history())
    ensemble = PerMassEnsemble({m: t.model for m, t in trainers})
    return _save_models(ensemble, [(t.model, t.best_state) for _, t in trainers], run_dir)


def train_experiment(
    config: ExperimentConfig | None,
    run_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    resume: bool = False,
    progress: bool = True,
) -> TrainedRun:
    """Train the experiment ``config`` and write the run directory ``run_dir``.

    Network presets are trained here; baseline models (``knn``, ``bdt``, ...) are passed on
    to :func:`hep_pnn.training.baselines.train_baseline`. An existing run directory is refused
    unless ``overwrite`` (replace it) or ``resume`` (continue it from its checkpoint, with its
    own ``config.yaml``; ``config`` may then be None).

    Example:
        >>> import tempfile
        >>> config = load_experiment(None, ["data.masses=[500, 1000]", "data.n_signal_per_mass=100",
        ...     "data.n_background=200", "model.options.hidden=[8]", "training.epochs=1"])
        >>> run = train_experiment(config, tempfile.mkdtemp() + "/run", progress=False)
        >>> run.training_masses, list(run.history["epoch"])
        ((500.0, 1000.0), [1])
    """
    from hep_pnn.training.baselines import is_baseline, train_baseline

    if config is not None and is_baseline(config.model.preset) and not resume:
        return train_baseline(config, run_dir, overwrite=overwrite, progress=progress)
    run_dir = Path(run_dir)
    config = _prepare_run_dir(config, run_dir, overwrite=overwrite, resume=resume)
    if is_baseline(config.model.preset):
        raise ConfigError(
            f"a {config.model.preset} baseline run cannot be resumed (it has no checkpoints)",
            where="--resume",
            fix="train it again with --overwrite",
        )
    if config.training.device != "cpu":
        raise ConfigError(
            f"device {config.training.device!r} is not supported",
            where="training.device",
            fix="use cpu",
        )
    log = _Log(run_dir / LOG_FILE, echo=progress)
    with torch_threads(config.training.threads):
        table = load_training_table(config)
        log(f"{'resuming' if resume else 'training'} {run_dir}: {table!r}")
        log(f"{config.training.threads} thread(s); {wait_policy()}")
        train = _train_individual if config.model.preset == "individual" else _train_parametric
        model = train(config, table, run_dir, log, resume=resume, progress=progress)
    history = pd.read_csv(run_dir / HISTORY_CSV)
    return TrainedRun(run_dir=run_dir, config=config, model=model, history=history)


def load_run(run_dir: str | os.PathLike[str]) -> TrainedRun:
    """Read a run directory written by :func:`train_experiment` (the best model).

    Example:
        >>> try:
        ...     load_run("/no/such/run")
        ... except ModelError as err:
        ...     print(err.what)
        not a run directory (no config.yaml)
    """
    from hep_pnn.models import load_model

    run_dir = Path(run_dir)
    if not (run_dir / CONFIG_FILE).is_file():
        raise ModelError(
            f"not a run directory (no {CONFIG_FILE})",
            where=str(run_dir),
            fix=f"train it with pnn train -o {run_dir}",
        )
    if not (run_dir / MODEL_DIR).is_dir():
        raise ModelError(
            "the run has no trained model yet",
            where=str(run_dir / MODEL_DIR),
            fix=f"finish it with pnn train --resume -o {run_dir}",
        )
    config = load_experiment(run_dir / CONFIG_FILE)
    model = load_model(run_dir / MODEL_DIR)
    history = pd.read_csv(run_dir / HISTORY_CSV)
    return TrainedRun(run_dir=run_dir, config=config, model=model, history=history)
