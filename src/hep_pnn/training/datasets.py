"""The events of an experiment: training and test tables, and seeded stratified splits."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hep_pnn._random import SeedLike, as_generator, spawn
from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError, DataError

if TYPE_CHECKING:
    from hep_pnn.data.description import DataDescription
    from hep_pnn.training.config import ExperimentConfig, FileData, GeneratedData
    from hep_pnn.training.estimators import TrainingData

__all__ = [
    "keep_signal_masses",
    "load_experiment_data",
    "load_test_table",
    "load_training_data",
    "load_training_table",
    "stratified_split",
]


def stratified_split(
    table: EventTable, *, fraction: float, seed: SeedLike
) -> tuple[np.ndarray, np.ndarray]:
    """Split row indices into (kept, held out), holding out ``fraction`` of every label×mass group.

    Example:
        >>> import numpy as np
        >>> t = EventTable.from_arrays(np.zeros((8, 1)), label=[1, 1, 1, 1, 0, 0, 0, 0],
        ...                            mass=[500, 500, 1000, 1000, 500, 500, 500, 500])
        >>> kept, held = stratified_split(t, fraction=0.5, seed=1)
        >>> sorted(t.label[held].tolist()), sorted(t.mass[held].tolist())
        ([0, 0, 1, 1], [500.0, 500.0, 500.0, 1000.0])
    """
    rng = as_generator(seed)
    held = np.zeros(len(table), dtype=bool)
    # one stratum per signal mass; background is one stratum (its mass is only a hypothesis)
    for members in _strata(table):
        n_held = round(len(members) * fraction)
        held[members[rng.permutation(len(members))[:n_held]]] = True
    return np.flatnonzero(~held), np.flatnonzero(held)


def _strata(table: EventTable) -> list[np.ndarray]:
    """Row indices of the background, then of the signal at each mass (ascending)."""
    signal = table.is_signal
    masses = np.unique(table.mass[signal])
    return [np.flatnonzero(~signal)] + [
        np.flatnonzero(signal & (table.mass == mass)) for mass in masses
    ]


def _generator_seed(sequence: np.random.SeedSequence) -> int:
    return int(sequence.generate_state(1)[0])


def _generated(data: GeneratedData, *, test: bool) -> EventTable:
    from hep_pnn.data.generator import generate

    # independent seed streams: the training sample never shares random numbers with the test
    seed = spawn(data.seed, 2)[1 if test else 0]
    n_signal, n_background = data.n_signal_per_mass, data.n_background
    if test:
        n_signal = data.test_signal_per_mass or max(1, round(n_signal * data.test_fraction))
        n_background = data.test_background or max(1, round(n_background * data.test_fraction))
    return generate(
        masses=data.masses,
        n_signal_per_mass=n_signal,
        n_background=n_background,
        seed=_generator_seed(seed),
        **data.options,
    )


def _description(data: FileData) -> DataDescription | None:
    if data.description is None:
        return None
    from hep_pnn.data import load_description

    return load_description(data.description)


def keep_signal_masses(table: EventTable, masses: list[float], *, where: str) -> EventTable:
    """All background plus the signal at ``masses`` (within 0.5 GeV).

    Example:
        >>> t = EventTable.from_arrays(np.zeros((3, 1)), label=[1, 1, 0], mass=[500, 750, 500])
        >>> keep_signal_masses(t, [500], where="x").mass.tolist()
        [500.0, 500.0]
    """
    wanted = np.asarray(masses, dtype=np.float32)
    near = np.abs(table.mass[:, None] - wanted[None, :]) <= 0.5
    missing = [
        m for m, found in zip(masses, near[table.is_signal].any(axis=0), strict=True) if not found
    ]
    if missing:
        raise DataError(
            f"no signal at mass {', '.join(f'{m:g}' for m in missing)} GeV",
            where=where,
            fix=f"choose among the signal masses {[float(m) for m in table.signal_masses]}",
        )
    return table.select(~table.is_signal | near.any(axis=1))


def _from_files(data: FileData, *, test: bool) -> EventTable:
    from hep_pnn.data import read_events

    description = _description(data)
    if data.paths:
        table = read_events(data.paths, description=description)
        train_index, test_index = stratified_split(
            table, fraction=data.test_fraction, seed=data.seed
        )
        table = table.select(test_index if test else train_index)
    else:
        table = read_events(data.test_paths if test else data.train_paths, description=description)
    if data.signal_masses is not None and not test:
        table = keep_signal_masses(table, data.signal_masses, where="data.signal_masses")
    return table


def _load(config: ExperimentConfig, *, test: bool) -> EventTable:
    data = config.data
    if data.source == "jets":
        raise ConfigError(
            "jets are not an event table",
            where="data.source",
            fix="load them with hep_pnn.training.load_training_data / load_labelled_jets",
        )
    table = (
        _generated(data, test=test) if data.source == "generate" else _from_files(data, test=test)
    )
    name = "test" if test else "training"
    if not table.is_signal.any() or table.is_signal.all():
        raise DataError(
            f"the {name} sample needs both signal and background events",
            where=f"data section ({data.source})",
            fix="check the labels of the input files",
        )
    return table


def load_training_table(config: ExperimentConfig) -> EventTable:
    """The training table of an experiment (validation events included)."""
    return _load(config, test=False)


def load_training_data(config: ExperimentConfig) -> TrainingData:
    """What the model family of ``config`` trains on: the training table, or labelled jets
    for ``data.source: jets``."""
    if config.data.source == "jets":
        from hep_pnn.training.jet_data import load_labelled_jets

        return load_labelled_jets(config.data, test=False)
    return load_training_table(config)


def load_test_table(config: ExperimentConfig) -> EventTable:
    """The held-out test table of an experiment, the same every time for the same config."""
    return _load(config, test=True)


def load_experiment_data(config: ExperimentConfig) -> tuple[EventTable, EventTable]:
    """The (training, test) tables of an experiment, the same for the same config.

    The validation sample is split off the training table later, by the training loop.

    Example:
        >>> from hep_pnn.training.config import ExperimentConfig
        >>> config = ExperimentConfig.model_validate(
        ...     {"data": {"n_signal_per_mass": 20, "n_background": 100, "masses": [500, 1000]}})
        >>> train, test = load_experiment_data(config)
        >>> len(train), len(test)
        (140, 70)
    """
    train, test = load_training_table(config), load_test_table(config)
    if train.feature_names != test.feature_names:
        raise DataError(
            "the training and test samples have different features",
            where="data section",
            fix="use files with the same columns",
        )
    return train, test
