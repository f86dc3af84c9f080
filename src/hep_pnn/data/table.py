"""The in-memory event table used everywhere in hep-pnn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EventTable"]

META_COLUMNS = ("label", "mass", "weight", "process")


@dataclass(frozen=True, eq=False, repr=False)
class EventTable:
    r"""Events for training and evaluation: features, label, mass, weight and process.

    Attributes:
        features: ``(n, f)`` float32, C-contiguous feature matrix.
        feature_names: the ``f`` column names, in order.
        label: ``(n,)`` int8, 1 for signal and 0 for background.
        mass: ``(n,)`` float32 mass hypothesis in GeV; for background the assigned one.
        weight: ``(n,)`` float32 per-event weight (may be negative).
        process: ``(n,)`` int16 codes into ``process_names``.
        process_names: names of the processes, e.g. ``("signal", "ttbar")``.

    Example:
        >>> import numpy as np
        >>> t = EventTable.from_arrays(np.zeros((3, 2)), label=[1, 0, 0], mass=[500, 500, 750],
        ...                            process=["signal", "ttbar", "ttbar"])
        >>> len(t), t.signal_masses.tolist(), t.background().process_names
        (3, [500.0], ('signal', 'ttbar'))
    """

    features: np.ndarray
    feature_names: tuple[str, ...]
    label: np.ndarray
    mass: np.ndarray
    weight: np.ndarray
    process: np.ndarray
    process_names: tuple[str, ...] = field(default=("background", "signal"))

    def __post_init__(self) -> None:
        features = np.ascontiguousarray(self.features, dtype=np.float32)
        if features.ndim != 2:
            raise ValueError(f"features must be 2-D, got shape {features.shape}")
        n = features.shape[0]
        names = tuple(str(name) for name in self.feature_names)
        if len(names) != features.shape[1]:
            raise ValueError(f"{len(names)} feature names for {features.shape[1]} feature columns")
        columns: dict[str, np.ndarray] = {
            "label": np.ascontiguousarray(self.label, dtype=np.int8),
            "mass": np.ascontiguousarray(self.mass, dtype=np.float32),
            "weight": np.ascontiguousarray(self.weight, dtype=np.float32),
            "process": np.ascontiguousarray(self.process, dtype=np.int16),
        }
        for key, column in columns.items():
            if column.shape != (n,):
                raise ValueError(f"{key} has shape {column.shape}, expected ({n},)")
        process_names = tuple(str(name) for name in self.process_names)
        if n and (columns["process"].min() < 0 or columns["process"].max() >= len(process_names)):
            raise ValueError("process codes out of range of process_names")
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "feature_names", names)
        object.__setattr__(self, "process_names", process_names)
        for key, column in columns.items():
            object.__setattr__(self, key, column)

    # construction ---------------------------------------------------------------------------

    @classmethod
    def from_arrays(
        cls,
        features: np.ndarray,
        *,
        label: Sequence[int] | np.ndarray,
        mass: Sequence[float] | np.ndarray | None = None,
        weight: Sequence[float] | np.ndarray | None = None,
        process: Sequence[str] | np.ndarray | None = None,
        feature_names: Sequence[str] | None = None,
    ) -> EventTable:
        """Build a table from plain arrays; ``process`` may be strings (default: by label)."""
        features = np.asarray(features, dtype=np.float32)
        n = features.shape[0]
        label_array = np.asarray(label, dtype=np.int8)
        if process is None:
            process = np.where(label_array == 1, "signal", "background")
        names, codes = np.unique(np.asarray(process, dtype=str), return_inverse=True)
        return cls(
            features=features,
            feature_names=tuple(feature_names or (f"f{i}" for i in range(features.shape[1]))),
            label=label_array,
            mass=np.zeros(n, np.float32) if mass is None else np.asarray(mass),
            weight=np.ones(n, np.float32) if weight is None else np.asarray(weight),
            process=codes.reshape(-1).astype(np.int16),
            process_names=tuple(names.tolist()),
        )

    @classmethod
    def concat(cls, tables: Sequence[EventTable]) -> EventTable:
        """Stack tables with the same features; process codes are merged by name."""
        if not tables:
            raise ValueError("concat needs at least one table")
        names = tables[0].feature_names
        for table in tables[1:]:
            if table.feature_names != names:
                raise ValueError("cannot concatenate tables with different feature names")
        process_names = tuple(dict.fromkeys(p for t in tables for p in t.process_names))
        lookup = {name: code for code, name in enumerate(process_names)}
        processes = [
            np.array([lookup[p] for p in t.process_names], dtype=np.int16)[t.process]
            if len(t)
            else t.process
            for t in tables
        ]
        return cls(
            features=np.concatenate([t.features for t in tables]),
            feature_names=names,
            label=np.concatenate([t.label for t in tables]),
            mass=np.concatenate([t.mass for t in tables]),
            weight=np.concatenate([t.weight for t in tables]),
            process=np.concatenate(processes),
            process_names=process_names,
        )

    # basic properties -------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.features.shape[0])

    def __repr__(self) -> str:
        n_signal = int(self.is_signal.sum())
        masses = ", ".join(f"{m:g}" for m in self.signal_masses)
        return (
            f"EventTable({len(self)} events: {n_signal} signal, {len(self) - n_signal} background; "
            f"{self.n_features} features; signal masses [{masses}]; "
            f"processes {list(self.process_names)})"
        )

    @property
    def n_features(self) -> int:
        return int(self.features.shape[1])

    @property
    def is_signal(self) -> np.ndarray:
        return self.label == 1

    @property
    def signal_masses(self) -> np.ndarray:
        """Sorted distinct masses of the signal events."""
        return np.unique(self.mass[self.is_signal])

    @property
    def process_labels(self) -> np.ndarray:
        """Process name of every event, as a string array."""
        return np.asarray(self.process_names, dtype=object)[self.process]

    def processes(self, *, label: int | None = None) -> list[str]:
        """Names of the processes present (optionally only those with ``label``)."""
        codes = self.process if label is None else self.process[self.label == label]
        return [self.process_names[c] for c in np.unique(codes)]

    def column(self, name: str) -> np.ndarray:
        """One feature column by name (a view)."""
        try:
            return self.features[:, self.feature_names.index(name)]
        except ValueError:
            raise KeyError(
                f"no feature named {name!r}; features are {list(self.feature_names)}"
            ) from None

    # selections ---------------------------------------------------------------------------------

    def select(self, index: np.ndarray | slice) -> EventTable:
        """Rows chosen by a boolean mask, integer indices or a slice."""
        return EventTable(
            features=self.features[index],
            feature_names=self.feature_names,
            label=self.label[index],
            mass=self.mass[index],
            weight=self.weight[index],
            process=self.process[index],
            process_names=self.process_names,
        )

    def signal(self, mass: float | None = None, *, tolerance: float = 0.5) -> EventTable:
        """Signal events, optionally only those at ``mass`` (within ``tolerance`` GeV)."""
        mask = self.is_signal
        if mass is not None:
            mask = mask & (np.abs(self.mass - np.float32(mass)) <= tolerance)
        return self.select(mask)

    def background(self) -> EventTable:
        """Background events (label 0)."""
        return self.select(~self.is_signal)

    def where_process(self, *names: str) -> EventTable:
        """Events of the named processes."""
        unknown = [n for n in names if n not in self.process_names]
        if unknown:
            raise KeyError(f"unknown process {unknown}; known: {list(self.process_names)}")
        codes = [self.process_names.index(n) for n in names]
        return self.select(np.isin(self.process, codes))

    def with_mass(self, mass: np.ndarray | float) -> EventTable:
        """A copy whose mass column is replaced (e.g. background scored at one hypothesis)."""
        new_mass = np.broadcast_to(np.asarray(mass, dtype=np.float32), (len(self),)).copy()
        return self._replace(mass=new_mass)

    def with_weight(self, weight: np.ndarray | float) -> EventTable:
        """A copy whose weight column is replaced."""
        new_weight = np.broadcast_to(np.asarray(weight, dtype=np.float32), (len(self),)).copy()
        return self._replace(weight=new_weight)

    def _replace(self, **changes: np.ndarray) -> EventTable:
        values = {
            "features": self.features,
            "feature_names": self.feature_names,
            "label": self.label,
            "mass": self.mass,
            "weight": self.weight,
            "process": self.process,
            "process_names": self.process_names,
        }
        values.update(changes)
        return EventTable(**values)  # type: ignore[arg-type]

    # pandas ---------------------------------------------------------------------------------------

    def to_pandas(self) -> pd.DataFrame:
        """A DataFrame with the feature columns then ``label, mass, weight, process``."""
        import pandas as pd

        frame = pd.DataFrame(self.features, columns=list(self.feature_names), copy=False)
        frame["label"] = self.label
        frame["mass"] = self.mass
        frame["weight"] = self.weight
        frame["process"] = pd.Categorical.from_codes(
            self.process, categories=list(self.process_names)
        )
        return frame

    @classmethod
    def from_pandas(
        cls, frame: pd.DataFrame, *, feature_names: Sequence[str] | None = None
    ) -> EventTable:
        """Inverse of :meth:`to_pandas`; features default to every non-meta column."""
        names = list(feature_names or [c for c in frame.columns if c not in META_COLUMNS])
        process = frame["process"] if "process" in frame else None
        return cls.from_arrays(
            frame[names].to_numpy(dtype=np.float32),
            label=frame["label"].to_numpy(),
            mass=frame["mass"].to_numpy() if "mass" in frame else None,
            weight=frame["weight"].to_numpy() if "weight" in frame else None,
            process=None if process is None else process.astype(str).to_numpy(),
            feature_names=names,
        )
