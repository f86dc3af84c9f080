"""Run directories: ``train_experiment`` writes one, ``load_run`` reads it back."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch.distributed
import yaml

from hep_pnn._io import atomic_dir, atomic_path
from hep_pnn._threads import wait_policy
from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError, ModelError, OutputExistsError
from hep_pnn.models._inference import torch_threads
from hep_pnn.run_files import CONFIG_FILE, HISTORY_CSV, LOG_FILE, MODEL_DIR
from hep_pnn.scorer import Scorer
from hep_pnn.training.config import ExperimentConfig, load_experiment
from hep_pnn.training.datasets import load_test_table, load_training_data
from hep_pnn.training.distributed import data_parallel, init_from_environment, is_writer
from hep_pnn.training.estimators import ModelFamily, check_data_kind, family_of

__all__ = ["TrainedRun", "check_data_parallel", "load_run", "train_experiment"]


@dataclass(frozen=True)
class TrainedRun:
    """A finished run: the best model, its config and its history."""

    run_dir: Path
    config: ExperimentConfig
    model: Scorer
    history: pd.DataFrame

    @property
    def training_masses(self) -> tuple[float, ...]:
        """Signal masses the model was trained on."""
        return tuple(getattr(self.model, "training_masses", ()))

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


def _train_in_temporary_dir(
    family: ModelFamily,
    config: ExperimentConfig,
    run_dir: Path,
    *,
    overwrite: bool,
    progress: bool,
) -> TrainedRun:
    """Train a family without checkpoints: build the folder under a temporary name and
    rename it into place when complete."""
    family.check(config, where="config")
    if run_dir.is_dir() and any(run_dir.iterdir()) and not (run_dir / CONFIG_FILE).is_file():
        raise OutputExistsError(
            f"{run_dir} is not a run directory (no config.yaml); refusing to replace it",
            where="--output",
            fix="choose an empty or new folder",
        )
    with atomic_dir(run_dir, overwrite=overwrite, option="--output") as tmp:
        (tmp / CONFIG_FILE).write_text(config.to_yaml())
        log = _Log(tmp / LOG_FILE, echo=progress)
        table = load_training_data(config)
        log(f"training {run_dir}: {table!r}")
        model = family.fit(config, table, tmp, log, resume=False, progress=progress)
        history = pd.read_csv(tmp / HISTORY_CSV)
    return TrainedRun(run_dir=run_dir, config=config, model=model, history=history)


def _train_as_other_rank(
    config: ExperimentConfig | None, run_dir: Path, *, resume: bool
) -> TrainedRun:
    """A data-parallel rank other than 0 takes the same steps in a private temporary
    folder (a copy of the run when resuming): only rank 0 writes the run."""
    with tempfile.TemporaryDirectory(prefix="hep-pnn-rank-") as tmp:
        private = Path(tmp) / "run"
        if resume and run_dir.is_dir():
            shutil.copytree(run_dir, private, ignore=shutil.ignore_patterns("tensorboard"))
        return _train(config, private, overwrite=False, resume=resume, progress=False)


def train_experiment(
    config: ExperimentConfig | None,
    run_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    resume: bool = False,
    progress: bool = True,
) -> TrainedRun:
    """Train the experiment ``config`` and write the run directory ``run_dir``.

    The model family of ``config.model.preset`` (:mod:`hep_pnn.training.estimators`) does
    the fitting. An existing run directory is refused unless ``overwrite`` (replace it) or
    ``resume`` (continue it from its checkpoint, with its own ``config.yaml``; ``config``
    may then be None). A family without checkpoints (the baselines ``knn``, ``bdt``, ...)
    builds its folder under a temporary name and cannot be resumed.

    Example:
        >>> import tempfile
        >>> config = load_experiment(None, ["data.masses=[500, 1000]", "data.n_signal_per_mass=100",
        ...     "data.n_background=200", "model.options.hidden=[8]", "training.epochs=1"])
        >>> run = train_experiment(config, tempfile.mkdtemp() + "/run", progress=False)
        >>> run.training_masses, list(run.history["epoch"])
        ((500.0, 1000.0), [1])
    """
    run_dir = Path(run_dir)
    if not init_from_environment():
        return _train(config, run_dir, overwrite=overwrite, resume=resume, progress=progress)
    try:  # launched by torchrun: data-parallel ranks (docs/scaling.md)
        if is_writer():
            run = _train(config, run_dir, overwrite=overwrite, resume=resume, progress=progress)
        else:
            run = _train_as_other_rank(config, run_dir, resume=resume)
        torch.distributed.barrier()  # no rank tears the group down while another still uses it
        return run
    finally:
        torch.distributed.destroy_process_group()


def check_data_parallel(config: ExperimentConfig | None, run_dir: str | os.PathLike[str]) -> None:
    """Raise ConfigError unless ``config`` (None: the stored config of ``run_dir``, to be
    resumed) names a family that trains data-parallel (``pnn train --nproc``)."""
    if config is None:
        config_path = Path(run_dir) / CONFIG_FILE
        if not config_path.is_file():
            return  # train_experiment reports the missing run
        config = load_experiment(config_path, _settings_of_older_runs(config_path))
    _check_data_parallel(family_of(config.model.preset), config, always=True)


def _check_data_parallel(
    family: ModelFamily, config: ExperimentConfig, *, always: bool = False
) -> None:
    """Under torchrun (or ``always``), refuse a family that does not declare
    ``data_parallel``."""
    active = always or data_parallel() is not None
    if active and not getattr(family, "data_parallel", False):
        raise ConfigError(
            f"the {config.model.preset} family does not train data-parallel",
            where="torchrun / --nproc",
            fix="train it in one process (the parametric networks support --nproc)",
        )


def _train(
    config: ExperimentConfig | None,
    run_dir: Path,
    *,
    overwrite: bool,
    resume: bool,
    progress: bool,
) -> TrainedRun:
    if not resume:
        config = config if config is not None else ExperimentConfig()
        family = family_of(config.model.preset)
        check_data_kind(config, where="config")
        _check_data_parallel(family, config)
        if not family.resumable:
            return _train_in_temporary_dir(
                family, config, run_dir, overwrite=overwrite, progress=progress
            )
    config = _prepare_run_dir(config, run_dir, overwrite=overwrite, resume=resume)
    family = family_of(config.model.preset)
    _check_data_parallel(family, config)
    if not family.resumable:
        raise ConfigError(
            f"a {config.model.preset} run cannot be resumed (it has no checkpoints)",
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
        table = load_training_data(config)
        log(f"{'resuming' if resume else 'training'} {run_dir}: {table!r}")
        log(f"{config.training.threads} thread(s); {wait_policy()}")
        model = family.fit(config, table, run_dir, log, resume=resume, progress=progress)
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
    model = family_of(config.model.preset).load(run_dir / MODEL_DIR)
    history = pd.read_csv(run_dir / HISTORY_CSV)
    return TrainedRun(run_dir=run_dir, config=config, model=model, history=history)
