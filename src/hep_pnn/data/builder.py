"""Assemble an EventTable from streamed chunks, checking every value on the way.

Arrays grow with ``ndarray.resize`` (``realloc``, which Linux serves with
``mremap`` for large blocks), so the peak memory stays close to the final table
instead of holding the parsed file and a second copy at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hep_pnn.data.table import EventTable
from hep_pnn.errors import DataError

__all__ = ["Process", "TableBuilder"]

#: Process of a chunk: one name, an array of names, or ``(names, codes)``.
Process = str | np.ndarray | tuple[Sequence[str], np.ndarray]


class TableBuilder:
    r"""Collect chunks of events into one :class:`EventTable`, validating each chunk.

    Checks, each reported with the file, column and first offending 1-based data row:
    features and weights finite; labels 0 or 1; every signal row has a mass; masses
    positive. A background row without a mass (missing or NaN) keeps NaN, meaning
    "not assigned yet": training assigns background masses later.

    Args:
        feature_names: names of the feature columns.
        source: file name used in error messages.
        capacity: rows to reserve up front (e.g. from Parquet metadata).
        columns: names of the label, mass and weight columns in the file, for messages.

    Example:
        >>> import numpy as np
        >>> builder = TableBuilder(["a"], source="x.csv")
        >>> builder.append([np.array([0.5, 1.5])], label=np.array([1, 0]),
        ...                mass=np.array([500.0, np.nan]), process="mixed")
        >>> table = builder.finish()
        >>> table.label.tolist(), table.mass.tolist()
        ([1, 0], [500.0, nan])
    """

    def __init__(
        self,
        feature_names: Sequence[str],
        *,
        source: str,
        capacity: int = 0,
        columns: dict[str, str] | None = None,
    ) -> None:
        self.feature_names = tuple(feature_names)
        self.source = source
        self.columns = {"label": "label", "mass": "mass", "weight": "weight", **(columns or {})}
        self._features = np.empty((capacity, len(self.feature_names)), np.float32)
        self._meta: dict[str, np.ndarray] = {
            "label": np.empty(capacity, np.int8),
            "mass": np.empty(capacity, np.float32),
            "weight": np.empty(capacity, np.float32),
            "process": np.empty(capacity, np.int16),
        }
        self._process_names: dict[str, int] = {}
        self._rows = 0

    def __len__(self) -> int:
        return self._rows

    def reserve(self, rows: int) -> None:
        """Set aside room for ``rows`` events before the first chunk.

        The room comes from ``np.empty`` and is not touched until filled, so an
        overestimate costs address space, not memory; ``finish`` trims it.
        """
        if self._rows == 0 and rows > self._features.shape[0]:
            self._features = np.empty((rows, len(self.feature_names)), np.float32)
            self._meta = {key: np.empty(rows, column.dtype) for key, column in self._meta.items()}

    def _reserve(self, extra: int) -> None:
        need = self._rows + extra
        capacity = self._features.shape[0]
        if need <= capacity:
            return
        # Grow to exactly what is needed: resize zero-fills new space, so spare capacity
        # would cost resident memory, while realloc (mremap) makes growing cheap anyway.
        # refcheck=False is safe: these arrays are private until finish().
        capacity = need
        self._features.resize((capacity, len(self.feature_names)), refcheck=False)
        for column in self._meta.values():
            column.resize(capacity, refcheck=False)

    def _fail(self, what: str, column: str, row: int, rows: np.ndarray | None, fix: str) -> None:
        number = int(rows[row]) if rows is not None else self._rows + row + 1
        raise DataError(what, where=f"file {self.source}, column {column}, row {number}", fix=fix)

    def append(
        self,
        features: Sequence[np.ndarray],
        *,
        label: np.ndarray | int,
        mass: np.ndarray | float | None = None,
        weight: np.ndarray | None = None,
        process: Process,
        rows: np.ndarray | None = None,
    ) -> None:
        """Add one chunk: feature columns, label, mass, weight and process.

        ``process`` is one name for the whole chunk, an array of names, or a
        ``(names, codes)`` pair (e.g. a dictionary-encoded Arrow column).

        ``rows`` gives the 1-based data row of each event for messages (default: running count).
        """
        n = len(features[0]) if len(features) else len(np.atleast_1d(label))
        self._reserve(n)
        start, stop = self._rows, self._rows + n
        block = self._features[start:stop]
        for j, column in enumerate(features):
            block[:, j] = column
        if not np.isfinite(block).all():
            row, j = np.argwhere(~np.isfinite(block))[0]
            value = block[row, j]
            what = "missing or NaN value" if np.isnan(value) else f"infinite value {value}"
            self._fail(what, self.feature_names[j], row, rows, "fix or remove the row")
        label_values = np.broadcast_to(np.asarray(label, dtype=np.float64), (n,))
        bad = (label_values != 0) & (label_values != 1)
        if bad.any():
            row = int(np.argmax(bad))
            self._fail(
                f"label {label_values[row]:g} is not 0 or 1",
                self.columns["label"],
                row,
                rows,
                "use 1 for signal and 0 for background",
            )
        self._meta["label"][start:stop] = label_values
        self._set_mass(start, stop, mass, label_values, rows)
        self._set_weight(start, stop, weight, rows)
        self._set_process(start, stop, process)
        self._rows = stop

    def _set_mass(
        self,
        start: int,
        stop: int,
        mass: np.ndarray | float | None,
        label: np.ndarray,
        rows: np.ndarray | None,
    ) -> None:
        n = stop - start
        values = np.broadcast_to(np.asarray(np.nan if mass is None else mass, np.float32), (n,))
        name = self.columns["mass"]
        missing = np.isnan(values) & (label == 1)
        if missing.any():
            row = int(np.argmax(missing))
            self._fail(
                "signal row without a mass",
                name,
                row,
                rows,
                "give every signal event its mass hypothesis in GeV",
            )
        bad = np.isinf(values) | (values <= 0)
        if bad.any():
            row = int(np.argmax(bad))
            self._fail(
                f"mass {values[row]:g} is not a positive number of GeV",
                name,
                row,
                rows,
                "masses must be finite and > 0",
            )
        self._meta["mass"][start:stop] = values

    def _set_weight(
        self, start: int, stop: int, weight: np.ndarray | None, rows: np.ndarray | None
    ) -> None:
        if weight is None:
            self._meta["weight"][start:stop] = 1.0
            return
        values = np.asarray(weight, np.float32)
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.argmax(bad))
            self._fail(
                f"weight {values[row]} is not a finite number",
                self.columns["weight"],
                row,
                rows,
                "fix or remove the row",
            )
        self._meta["weight"][start:stop] = values

    def _code(self, name: str) -> int:
        if name not in self._process_names:
            self._process_names[name] = len(self._process_names)
        return self._process_names[name]

    def _set_process(self, start: int, stop: int, process: Process) -> None:
        if isinstance(process, str):
            self._meta["process"][start:stop] = self._code(process)
            return
        names: Sequence[str] | np.ndarray
        if isinstance(process, tuple):
            names, codes = process[0], np.asarray(process[1], dtype=np.intp)
        else:
            names, codes = np.unique(np.asarray(process).astype(str), return_inverse=True)
            codes = codes.reshape(-1)
        # Only names that occur get a code, so unused dictionary entries leave no trace.
        lookup = np.zeros(len(names), dtype=np.int16)
        for index in np.flatnonzero(np.bincount(codes, minlength=len(names))):
            lookup[index] = self._code(str(names[int(index)]))
        self._meta["process"][start:stop] = lookup[codes]

    def finish(self) -> EventTable:
        """The collected events (raises DataError if there are none)."""
        if self._rows == 0:
            raise DataError(
                "no events (a header but no data rows)",
                where=f"file {self.source}",
                fix="add events or remove the file",
            )
        self._reserve(0)
        self._features.resize((self._rows, len(self.feature_names)), refcheck=False)
        for column in self._meta.values():
            column.resize(self._rows, refcheck=False)
        return EventTable(
            features=self._features,
            feature_names=self.feature_names,
            process_names=tuple(self._process_names),
            **self._meta,
        )
