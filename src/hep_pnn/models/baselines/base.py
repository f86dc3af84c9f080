"""What every baseline shares: input checks, event weights, the scorer API, saving and loading.

A saved baseline is a folder with ``model.json`` (kind, options, feature names, training
masses) and its payload: xgboost's own JSON model or a safetensors file of arrays. Nothing is
pickled, so loading a model from anywhere runs no code from it.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from hep_pnn._io import atomic_dir
from hep_pnn._random import SeedLike, as_generator
from hep_pnn.data.table import EventTable
from hep_pnn.errors import DataError, ModelError
from hep_pnn.models.baselines.options import BaselineOptions, baseline_options
from hep_pnn.run_files import MODEL_CONFIG

__all__ = ["BASELINE_FORMAT", "Baseline", "is_baseline_model", "load_baseline", "make_baseline"]

#: Marker of a saved baseline in ``model.json``.
BASELINE_FORMAT = "hep-pnn-baseline"
_FORMAT_VERSION = 1
_REGISTRY: dict[str, type[Baseline]] = {}


class Baseline(ABC):
    """Base class of the baseline classifiers; subclasses implement ``_fit`` and ``_predict``.

    Args:
        **options: options of the model (see :mod:`hep_pnn.models.baselines.options`); an
            unknown or misplaced option raises :class:`~hep_pnn.errors.ConfigError`.

    Attributes:
        feature_names: the training features, in order.
        training_masses: signal masses seen in training (sorted).
        history: per-round training record (a DataFrame) when the model keeps one.
    """

    name: ClassVar[str]
    uses_mass: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            _REGISTRY[cls.name] = cls

    def __init__(self, **options: Any) -> None:
        self.options: BaselineOptions = baseline_options(self.name, options)
        self.feature_names: tuple[str, ...] = ()
        self.training_masses: tuple[float, ...] = ()
        self.history: pd.DataFrame | None = None

    def __repr__(self) -> str:
        state = f"{len(self.feature_names)} features" if self.fitted else "not fitted"
        return f"{type(self).__name__}({state})"

    @property
    def fitted(self) -> bool:
        return bool(self.feature_names)

    # training -----------------------------------------------------------------------------

    def fit(
        self, train: EventTable, *, seed: SeedLike, validation: EventTable | None = None
    ) -> Self:
        """Train on ``train`` honouring its event weights; returns ``self``.

        Raises:
            DataError: a training set without both classes, or negative weights with
                ``negative_weights: error``.
        """
        weight = self.event_weights(train)
        self._fit(train, weight, rng=as_generator(seed), validation=validation)
        self.feature_names = train.feature_names
        self.training_masses = tuple(float(m) for m in train.signal_masses)
        return self

    def event_weights(self, table: EventTable, *, where: str = "training data") -> np.ndarray:
        """The weights the model trains with, after the ``negative_weights`` policy."""
        present = np.unique(table.label)
        if len(present) < 2:
            only = "signal" if len(present) and present[0] == 1 else "background"
            raise DataError(
                f"the sample has only {only} events ({len(table)} events)",
                where=where,
                fix="a classifier needs both signal (label 1) and background (label 0) events",
            )
        weight = table.weight.astype(np.float32)
        negative = weight < 0
        if negative.any():
            policy = self.options.negative_weights
            if policy == "error":
                raise DataError(
                    f"{int(negative.sum())} events have negative weights "
                    f"(first at row {int(np.argmax(negative)) + 1})",
                    where=where,
                    fix="set model option negative_weights to 'zero' or 'abs'",
                )
            weight = np.abs(weight) if policy == "abs" else np.where(negative, 0, weight)
        for label, kind in ((1, "signal"), (0, "background")):
            if not weight[table.label == label].sum() > 0:
                raise DataError(
                    f"the {kind} events have no positive weight", where=where, fix="check weights"
                )
        return weight

    @abstractmethod
    def _fit(
        self,
        train: EventTable,
        weight: np.ndarray,
        *,
        rng: np.random.Generator,
        validation: EventTable | None,
    ) -> None: ...

    # scoring ------------------------------------------------------------------------------

    def predict(
        self, features: np.ndarray, mass: np.ndarray | float, *, batch_size: int = 65536
    ) -> np.ndarray:
        """Signal probabilities of events with ``features`` (n, f) at hypothesis ``mass`` (n,).

        Models that ignore the mass accept it for the common scorer interface.
        """
        if not self.fitted:
            raise ModelError(f"{type(self).__name__} is not trained", fix="call fit() first")
        x = np.asarray(features, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != len(self.feature_names):
            raise ModelError(
                f"got features of shape {x.shape}, the model was trained on "
                f"{len(self.feature_names)} features ({', '.join(self.feature_names)})",
                where=f"{self.name} model",
                fix="pass the same feature columns, in the same order",
            )
        m = np.broadcast_to(np.asarray(mass, dtype=np.float32), (len(x),))
        out = np.empty(len(x), np.float32)
        for start in range(0, len(x), batch_size):
            stop = start + batch_size
            out[start:stop] = self._predict(x[start:stop], m[start:stop])
        return out

    @abstractmethod
    def _predict(self, features: np.ndarray, mass: np.ndarray) -> np.ndarray: ...

    # saving -------------------------------------------------------------------------------

    def save(self, directory: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the model to ``directory`` (atomically, no pickle); returns the path."""
        if not self.fitted:
            raise ModelError(f"{type(self).__name__} is not trained", fix="call fit() first")
        with atomic_dir(directory, overwrite=overwrite, option="model directory") as tmp:
            extra = self._save_payload(tmp)
            meta = {
                "format": BASELINE_FORMAT,
                "format_version": _FORMAT_VERSION,
                "kind": self.name,
                "options": self.options.model_dump(mode="json"),
                "feature_names": list(self.feature_names),
                "training_masses": list(self.training_masses),
                "extra": extra,
            }
            (tmp / MODEL_CONFIG).write_text(json.dumps(meta, indent=2) + "\n")
        return Path(directory)

    @abstractmethod
    def _save_payload(self, directory: Path) -> dict[str, Any]:
        """Write the fitted state into ``directory``; return small JSON-able extras."""

    @abstractmethod
    def _load_payload(self, directory: Path, extra: dict[str, Any]) -> None:
        """Restore the fitted state written by :meth:`_save_payload`."""


def make_baseline(name: str, **options: Any) -> Baseline:
    """An untrained baseline by name (``knn``, ``bdt`` or ``pbdt``) with validated options.

    Example:
        >>> from hep_pnn.models.baselines import make_baseline
        >>> make_baseline("knn", n_neighbors=5)
        KNNBaseline(not fitted)
    """
    baseline_options(name, options)  # one clear error for an unknown name or a bad option
    return _REGISTRY[name](**options)


def _read_meta(directory: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((directory / MODEL_CONFIG).read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("format") == BASELINE_FORMAT else None


def is_baseline_model(directory: str | os.PathLike[str]) -> bool:
    """Whether ``directory`` holds a saved baseline (rather than a network).

    Example:
        >>> is_baseline_model("/nonexistent")
        False
    """
    return _read_meta(Path(directory)) is not None


def load_baseline(directory: str | os.PathLike[str]) -> Baseline:
    """Load a baseline written by :meth:`Baseline.save` (no pickle is involved).

    Raises:
        ModelError: the folder holds no baseline, or a damaged or unknown one.
    """
    directory = Path(directory)
    meta = _read_meta(directory)
    if meta is None:
        raise ModelError(
            "no saved baseline model here (model.json missing or not a baseline)",
            where=str(directory),
            fix="point to the model/ folder of a run trained with --model knn|bdt|pbdt",
        )
    kind = meta.get("kind")
    if kind not in _REGISTRY or meta.get("format_version") != _FORMAT_VERSION:
        raise ModelError(
            f"unknown baseline kind {kind!r} or format version {meta.get('format_version')!r}",
            where=str(directory / MODEL_CONFIG),
            fix="re-train the model with this version of hep-pnn",
        )
    model = _REGISTRY[kind](**meta["options"])
    model.feature_names = tuple(meta["feature_names"])
    model.training_masses = tuple(float(m) for m in meta["training_masses"])
    try:
        model._load_payload(directory, meta.get("extra") or {})
    except (OSError, ValueError, KeyError) as err:
        raise ModelError(
            f"cannot read the saved {kind} model: {err}",
            where=str(directory),
            fix="re-train the model; the files are damaged or incomplete",
        ) from None
    return model
