"""One interface for every trainable model family, and the registry ``model.preset`` → family.

:func:`~hep_pnn.training.train_experiment` looks the family of a config up here once and
never asks what kind of model it holds. The built-in families register themselves when
``hep_pnn.training`` is imported: the network presets (``affine``, ``pnn``, ``blind``,
``mlp``, a full ``model.options`` with ``preset: null``, and the per-mass ``individual``
ensemble) in :mod:`hep_pnn.training.networks`, the baselines (``knn``, ``bdt``, ``pbdt``)
in :mod:`hep_pnn.training.baselines`, the jet taggers in :mod:`hep_pnn.training.jet_family`.
A new family is one class with the three methods (and ``data_kind``: ``"events"`` or
``"jets"``) and one :func:`register_family` call; nothing in the run orchestration changes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol, Union

from hep_pnn.errors import ConfigError
from hep_pnn.scorer import Scorer

if TYPE_CHECKING:
    from hep_pnn.data.table import EventTable
    from hep_pnn.training.config import ExperimentConfig
    from hep_pnn.training.jet_data import LabelledJets

__all__ = [
    "ModelFamily",
    "TrainingData",
    "check_data_kind",
    "data_kind",
    "family_names",
    "family_of",
    "register_family",
]

#: What a family is fitted on: an event table, or labelled jets (``data.source: jets``).
TrainingData = Union["EventTable", "LabelledJets"]


def check_data_kind(config: ExperimentConfig, *, where: str) -> None:
    """Raise :class:`~hep_pnn.errors.ConfigError` unless the family of ``model.preset``
    trains on what the data section gives (events or jets), naming the families that do.

    A family without ``data_kind`` (written before jets existed) trains on events.

    Example:
        >>> from hep_pnn.training.config import ExperimentConfig
        >>> check_data_kind(ExperimentConfig(), where="config")  # affine on events: fine
    """
    kind = data_kind(config)

    def trains_on(name: str | None) -> str:
        return str(getattr(family_of(name), "data_kind", "events"))

    if trains_on(config.model.preset) != kind:
        fitting = [name for name in family_names() if trains_on(name) == kind]
        raise ConfigError(
            f"model {config.model.preset!r} does not train on {kind} "
            f"(data.source {config.data.source!r})",
            where=f"{where}, key model.preset",
            fix=f"choose one of {', '.join(fitting)}",
        )


def data_kind(config: ExperimentConfig) -> str:
    """``"jets"`` for ``data.source: jets``, else ``"events"``: what the data section yields.

    Example:
        >>> from hep_pnn.training.config import ExperimentConfig
        >>> data_kind(ExperimentConfig())
        'events'
    """
    return "jets" if config.data.source == "jets" else "events"


class ModelFamily(Protocol):
    """A trainable model family: check a config, fit it into a run directory, load it back.

    ``fit`` writes ``model/``, ``history.csv`` and ``history.json`` into ``run_dir`` (which
    already holds ``config.yaml``) and returns the trained scorer. A family whose
    ``resumable`` is True trains in place, checkpointing so that ``resume`` continues it
    (and a ``device``/``threads`` context is set up for it); otherwise the folder is built
    under a temporary name and renamed into place when complete, and cannot be resumed.

    Example:
        >>> family_of("knn").resumable, family_of("affine").resumable
        (False, True)
    """

    resumable: ClassVar[bool]
    #: What :meth:`fit` trains on: ``"events"`` (an EventTable) or ``"jets"``.
    data_kind: ClassVar[str]

    def check(self, config: ExperimentConfig, *, where: str) -> None:
        """Raise :class:`~hep_pnn.errors.ConfigError` if ``config.model`` is invalid."""
        ...

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
        """Train on ``table``, write the model and history into ``run_dir``."""
        ...

    def load(self, directory: Path) -> Scorer:
        """Read back the model ``fit`` saved in ``directory`` (``run_dir/model``)."""
        ...


_FAMILIES: dict[str | None, ModelFamily] = {}


def register_family(name: str | None, family: ModelFamily, *, replace: bool = False) -> None:
    """Make ``family`` the trainer of ``model.preset: name`` (``None``: a full model config).

    Example:
        >>> register_family("knn", family_of("knn"))
        Traceback (most recent call last):
        ...
        ValueError: model family 'knn' is already registered (pass replace=True)
    """
    if name in _FAMILIES and not replace:
        raise ValueError(f"model family {name!r} is already registered (pass replace=True)")
    _FAMILIES[name] = family


def family_names() -> tuple[str, ...]:
    """Every registered ``model.preset`` name, in registration order.

    Example:
        >>> {"affine", "individual", "knn"} <= set(family_names())
        True
    """
    return tuple(name for name in _FAMILIES if name is not None)


def family_of(name: str | None) -> ModelFamily:
    """The family that trains ``model.preset: name``; an unknown name raises ConfigError.

    Example:
        >>> type(family_of("individual")).__name__
        'PerMassNetworks'
    """
    if name not in _FAMILIES:
        raise ConfigError(
            f"unknown model preset {name!r}",
            where="model preset",
            fix=f"choose one of {', '.join(family_names())}",
        )
    return _FAMILIES[name]
