"""Train a baseline (kNN, BDT, parametric BDT) from an experiment config into a run directory.

The run directory has the same layout as a network's (``config.yaml``, ``model/``,
``history.csv``, ``history.json``, ``train.log``; no ``last/`` or ``checkpoint/``), so
``pnn evaluate`` and ``pnn report`` treat both alike. The validation events, event-weight
normalisation and background-mass strategy are the ones the network trainer uses for the
same config. The plain MLP is not here: it is the network preset ``mlp``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import torch

from hep_pnn._random import spawn
from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError
from hep_pnn.models.baselines import (
    BASELINE_NAMES,
    Baseline,
    baseline_options,
    load_baseline,
    make_baseline,
)
from hep_pnn.models.config import PRESETS
from hep_pnn.run_files import HISTORY_CSV, HISTORY_JSON, MODEL_DIR
from hep_pnn.scorer import Scorer
from hep_pnn.training.background_mass import BackgroundMasses
from hep_pnn.training.config import BackgroundMassConfig, ExperimentConfig
from hep_pnn.training.datasets import stratified_split
from hep_pnn.training.estimators import TrainingData, family_names, register_family
from hep_pnn.training.runs import TrainedRun, train_experiment
from hep_pnn.training.validation import validate
from hep_pnn.training.weights import training_weights

__all__ = [
    "MODEL_NAMES",
    "BaselineFamily",
    "assign_background_masses",
    "check_baseline_options",
    "fit_baseline",
    "is_baseline",
    "train_baseline",
    "with_model",
]

#: Every value of ``pnn train --model``: the network presets and the baselines.
MODEL_NAMES: tuple[str, ...] = (*PRESETS, *BASELINE_NAMES)


def is_baseline(name: str | None) -> bool:
    """Whether model ``name`` is a baseline trained here rather than by the network trainer.

    Example:
        >>> is_baseline("bdt"), is_baseline("mlp")
        (True, False)
    """
    return name in BASELINE_NAMES


def with_model(config: ExperimentConfig, name: str) -> ExperimentConfig:
    """``config`` with its model replaced by ``name`` (the ``--model`` option).

    The model options of the config are kept and checked against the new model.

    Example:
        >>> with_model(ExperimentConfig(), "knn").model.preset
        'knn'
    """
    if name not in family_names():  # every registered family, the jet taggers included
        raise ConfigError(
            f"unknown model {name!r}",
            where="--model",
            fix=f"choose one of {', '.join(family_names())}",
        )
    model = config.model.model_copy(update={"preset": name})
    changed = config.model_copy(update={"model": model})
    if is_baseline(name):
        check_baseline_options(changed, where="--model")
    return changed


def check_baseline_options(config: ExperimentConfig, *, where: str = "config") -> None:
    """Validate ``model.options`` of a baseline config; a foreign key raises ConfigError.

    Example:
        >>> config = ExperimentConfig.model_validate({"model": {"preset": "bdt"}})
        >>> check_baseline_options(config)  # fine: no options
    """
    baseline_options(
        str(config.model.preset), config.model.options, where=f"{where}, key model.options"
    )


def assign_background_masses(
    table: EventTable,
    config: BackgroundMassConfig,
    *,
    seed: int | np.random.SeedSequence,
    signal_mass: np.ndarray | None = None,
    signal_weight: np.ndarray | None = None,
) -> EventTable:
    """Give every background event a mass hypothesis, as for the pNNs, for models fitted once.

    ``identical`` and ``uniform`` draw one mass per background event (``redraw: batch``
    cannot apply to a model that sees the events only once, so it acts as ``once``);
    ``copy`` repeats every background event at every signal mass with its weight divided
    by the number of masses.

    Args:
        table: events; signal keeps its mass.
        config: the strategy (``training.background_mass``).
        seed: seed of the draws.
        signal_mass: masses to draw from (default: the signal masses of ``table``).
        signal_weight: the fit weights of those signal events (default: the weights of
            ``table``'s signal): ``identical_weighting: sampler`` follows each mass's total.

    Example:
        >>> import numpy as np
        >>> t = EventTable.from_arrays(np.zeros((4, 1)), label=[1, 1, 0, 0],
        ...                            mass=[500, 1000, np.nan, np.nan])
        >>> copied = assign_background_masses(t, BackgroundMassConfig(strategy="copy"), seed=0)
        >>> copied.mass.tolist(), copied.weight.tolist()
        ([500.0, 1000.0, 500.0, 500.0, 1000.0, 1000.0], [1.0, 1.0, 0.5, 0.5, 0.5, 0.5])
    """
    if signal_mass is None:
        signal_mass, signal_weight = table.mass[table.is_signal], table.weight[table.is_signal]
    fixed_seed, draw_seed = spawn(seed, 2)
    masses = BackgroundMasses(
        config,
        signal_mass=signal_mass,
        signal_weight=signal_weight,
        n_events=len(table),
        seed=fixed_seed,
    )
    rng = np.random.default_rng(draw_seed)
    background = np.flatnonzero(~table.is_signal)
    parts = [table.signal()]
    for copy in range(masses.copies):
        drawn = masses.draw(background, rng, copy=np.full(len(background), copy))
        part = table.select(background).with_mass(drawn)
        parts.append(part.with_weight(part.weight / masses.copies))
    return EventTable.concat(parts)


class _AsLogits(torch.nn.Module):
    """Lets the trainer's validation score a baseline (it expects logits from a module)."""

    def __init__(self, model: Baseline) -> None:
        super().__init__()
        self.baseline = model

    def forward(self, features: torch.Tensor, mass: torch.Tensor) -> torch.Tensor:
        mass = mass.expand(len(features)) if mass.dim() == 0 else mass
        probability = self.baseline.predict(features.numpy(), mass.numpy())
        return torch.logit(torch.from_numpy(np.asarray(probability, np.float32)), eps=1e-6)


def fit_baseline(
    config: ExperimentConfig,
    table: EventTable,
    run_dir: str | os.PathLike[str],
    log: Callable[[str], None] = print,
) -> Baseline:
    """Fit the baseline of ``config`` on ``table``; write ``model/`` and the history into
    the existing folder ``run_dir`` (:func:`train_baseline` makes the folder)."""
    run_dir = Path(run_dir)
    training = config.training
    split_seed, _, mass_seed, _, fit_seed = spawn(training.seed, 5)  # the trainer's split
    train_index, val_index = stratified_split(
        table, fraction=training.validation_fraction, seed=split_seed
    )
    weighted = table.with_weight(
        training_weights(
            table,
            train_index,
            use_event_weights=training.weights.use_event_weights,
            normalise=training.weights.normalise,
        )
    )
    train, validation = weighted.select(train_index), weighted.select(val_index)
    model = make_baseline(str(config.model.preset), **config.model.options)
    fit_train, fit_validation = train, validation
    if model.uses_mass:
        train_seed, val_seed = spawn(mass_seed, 2)
        strategy = training.background_mass
        fit_train = assign_background_masses(train, strategy, seed=train_seed)
        fit_validation = assign_background_masses(
            validation,
            strategy,
            seed=val_seed,
            signal_mass=train.mass[train.is_signal],
            signal_weight=train.weight[train.is_signal],
        )
    log(f"training {model.name} on {len(fit_train)} events ({len(validation)} for validation)")
    start = time.perf_counter()
    model.fit(fit_train, seed=fit_seed, validation=fit_validation)
    seconds = time.perf_counter() - start
    history = _history(model, weighted, val_index, seconds=seconds, n_events=len(fit_train))
    log(f"{model.name}: mean validation AUC {history['val_auc_mean'].max():.4f} ({seconds:.1f} s)")
    model.save(run_dir / MODEL_DIR, overwrite=True)
    history.to_csv(run_dir / HISTORY_CSV, index=False)
    (run_dir / HISTORY_JSON).write_text(history.to_json(orient="records", indent=1) + "\n")
    return model


def _history(
    model: Baseline, table: EventTable, val_index: np.ndarray, *, seconds: float, n_events: int
) -> pd.DataFrame:
    """Per-round history (BDTs) or one row (kNN), with the trainer's validation metrics added
    to the row of the kept model."""
    result = validate(
        _AsLogits(model),
        features=torch.from_numpy(table.features),
        label=table.label,
        mass=table.mass,
        weight=table.weight,
        index=val_index,
    )
    final = {
        "val_auc_mean": result.auc_mean,
        **{f"val_auc_m{mass:g}": auc for mass, auc in result.auc.items()},
        "events_per_s": n_events / seconds if seconds > 0 else float("nan"),
        "seconds": seconds,
    }
    if model.history is None:
        return pd.DataFrame([{"epoch": 1, "val_loss": result.loss, **final}])
    history = model.history.copy()
    kept = int(getattr(model, "rounds", len(history))) - 1
    for key, value in final.items():
        history.loc[kept, key] = value
    return history


def train_baseline(
    config: ExperimentConfig,
    run_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    progress: bool = True,
) -> TrainedRun:
    """Train the baseline named by ``config.model.preset`` and write the run directory
    (:func:`~hep_pnn.training.train_experiment` for a config known to hold a baseline).

    The directory is built under a temporary name and renamed into place when complete.
    An existing one is refused unless ``overwrite`` (and never replaced if it is not a run).

    Example:
        >>> import tempfile
        >>> config = ExperimentConfig.model_validate({"model": {"preset": "knn"}, "data": {
        ...     "masses": [500, 1000], "n_signal_per_mass": 200, "n_background": 400}})
        >>> run = train_baseline(config, tempfile.mkdtemp() + "/run", progress=False)
        >>> type(run.model).__name__, run.training_masses
        ('KNNBaseline', (500.0, 1000.0))
    """
    if not is_baseline(config.model.preset):
        raise ConfigError(
            f"model {config.model.preset!r} is not a baseline",
            where="model.preset",
            fix=f"use one of {', '.join(BASELINE_NAMES)} or train it with train_experiment",
        )
    return train_experiment(config, run_dir, overwrite=overwrite, progress=progress)


class BaselineFamily:
    """The family of one baseline (``knn``, ``bdt``, ``pbdt``): fitted once, no checkpoints.

    Example:
        >>> from hep_pnn.training.estimators import family_of
        >>> family_of("bdt").name, family_of("bdt").resumable
        ('bdt', False)
    """

    resumable: ClassVar[bool] = False
    data_kind: ClassVar[str] = "events"

    def __init__(self, name: str) -> None:
        self.name = name

    def check(self, config: ExperimentConfig, *, where: str) -> None:
        check_baseline_options(config, where=where)

    def fit(
        self,
        config: ExperimentConfig,
        table: TrainingData,
        run_dir: Path,
        log: Callable[[str], None],
        *,
        resume: bool,
        progress: bool,
    ) -> Scorer:
        assert isinstance(table, EventTable), "config checks give baselines events"
        return fit_baseline(config, table, run_dir, log)

    def load(self, directory: Path) -> Scorer:
        return load_baseline(directory)


for _name in BASELINE_NAMES:
    register_family(_name, BaselineFamily(_name))
