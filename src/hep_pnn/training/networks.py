"""The network families: the parametric networks (every preset but ``individual``, and a full
``model.options`` with ``preset: null``) and the per-mass ``individual`` ensemble.

Both train with :class:`~hep_pnn.training.loop.Trainer`, checkpoint after every epoch in
``checkpoint/`` (so a run can be resumed), and save the last epoch's weights as ``last/``
and the best epoch's as ``model/``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
from pydantic import ValidationError

from hep_pnn._io import atomic_path
from hep_pnn._random import child_seed
from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError, from_validation_error
from hep_pnn.models import PerMassEnsemble, build_model, load_model, save_model
from hep_pnn.models.config import PRESETS
from hep_pnn.run_files import (
    CHECKPOINT_DIR,
    CHECKPOINT_FILE,
    HISTORY_CSV,
    HISTORY_JSON,
    LAST_DIR,
    MODEL_DIR,
)
from hep_pnn.scorer import Scorer
from hep_pnn.training.checkpoint import load_checkpoint, save_checkpoint
from hep_pnn.training.config import ExperimentConfig
from hep_pnn.training.estimators import TrainingData, register_family
from hep_pnn.training.feedback import TensorBoardLog, notify_epoch
from hep_pnn.training.loop import Trainer

__all__ = ["ParametricNetworks", "PerMassNetworks", "write_history"]

Log = Callable[[str], None]


def write_history(run_dir: Path, rows: list[dict[str, float]]) -> pd.DataFrame:
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
    save_model(model, run_dir / LAST_DIR, overwrite=True)
    for net, best_state in nets_and_states:
        net.load_state_dict(best_state)
    save_model(model, run_dir / MODEL_DIR, overwrite=True)
    return model


def _train_parametric(
    config: ExperimentConfig, table: EventTable, run_dir: Path, log: Log, **options: Any
) -> Any:
    net = build_model(
        config.model.resolve(),
        feature_names=table.feature_names,
        seed=child_seed(config.training.seed, 4),
    )
    trainer = Trainer(net, table, config.training, generators={"dropout": net.generator}, log=log)
    net.training_masses = trainer.training_masses
    tensorboard = TensorBoardLog(str(run_dir / "tensorboard"))

    def after_epoch() -> None:
        write_history(run_dir, trainer.progress.history)
        tensorboard.write(trainer.progress.history[-1])
        notify_epoch(trainer.progress.history[-1])

    try:
        _train_one(trainer, run_dir / CHECKPOINT_DIR, on_epoch_end=after_epoch, **options)
    except KeyboardInterrupt:
        if trainer.progress.epoch:
            _save_models(net, [(net, trainer.best_state)], run_dir)
        raise
    write_history(run_dir, trainer.progress.history)
    best = trainer.progress
    log(f"best epoch {best.best_epoch} (mean validation AUC {best.best_auc:.4f})")
    return _save_models(net, [(net, trainer.best_state)], run_dir)


def _train_individual(
    config: ExperimentConfig, table: EventTable, run_dir: Path, log: Log, **options: Any
) -> Any:
    """One network per signal mass: that mass's signal against the full background."""
    background = table.background()
    masses = [float(m) for m in table.signal_masses]
    trainers: list[tuple[float, Trainer]] = []

    def history() -> list[dict[str, float]]:
        return [{"mass": m, **row} for m, t in trainers for row in t.progress.history]

    for number, mass in enumerate(masses):
        net = build_model(
            config.model.resolve(),
            feature_names=table.feature_names,
            seed=child_seed(config.training.seed, 4, number),
        )
        member_config = config.training.model_copy(
            update={"seed": child_seed(config.training.seed, 5, number)}
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
            on_epoch_end=lambda: write_history(run_dir, history()),
            **options,
        )
    write_history(run_dir, history())
    ensemble = PerMassEnsemble({m: t.model for m, t in trainers})
    return _save_models(ensemble, [(t.model, t.best_state) for _, t in trainers], run_dir)


class _Networks:
    """What both network families share: the model check, training through ``_train``
    (their one difference) and loading ``model/``."""

    resumable: ClassVar[bool] = True
    #: Trains under torchrun with batches split between the ranks (training/distributed.py).
    data_parallel: ClassVar[bool] = True
    data_kind: ClassVar[str] = "events"
    _train: ClassVar[Callable[..., Any]]

    def check(self, config: ExperimentConfig, *, where: str) -> None:
        try:
            config.model.resolve()
        except ValidationError as err:
            raise from_validation_error(
                err, where=where, fix="see hep_pnn.models.ModelConfig", prefix=("model", "options")
            ) from None
        except ConfigError as err:
            raise ConfigError(err.what, where=f"{where}, key model.preset", fix=err.fix) from None

    def fit(
        self,
        config: ExperimentConfig,
        table: TrainingData,
        run_dir: Path,
        log: Log,
        *,
        resume: bool,
        progress: bool,
    ) -> Scorer:
        assert isinstance(table, EventTable), "config checks give networks events"
        train = type(self)._train
        model: Scorer = train(config, table, run_dir, log, resume=resume, progress=progress)
        return model

    def load(self, directory: Path) -> Scorer:
        model: Scorer = load_model(directory)
        return model


class ParametricNetworks(_Networks):
    """One network for every mass (``affine``, ``pnn``, ``blind``, ``mlp``, ``preset: null``).

    Example:
        >>> from hep_pnn.training.estimators import family_of
        >>> type(family_of("affine")).__name__, type(family_of(None)).__name__
        ('ParametricNetworks', 'ParametricNetworks')
    """

    _train = _train_parametric


class PerMassNetworks(_Networks):
    """One network per signal mass (``individual``), saved as a :class:`PerMassEnsemble`.

    Example:
        >>> from hep_pnn.training.estimators import family_of
        >>> family_of("individual").resumable
        True
    """

    _train = _train_individual


for _name in (None, *PRESETS):
    register_family(_name, PerMassNetworks() if _name == "individual" else ParametricNetworks())
