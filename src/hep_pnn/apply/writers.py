"""Streaming writers of score columns: Parquet, CSV or a ROOT tree, one chunk at a time.

Each writer gets the chunks in input order and appends them, so the output has one row
per input entry in the same order. The ROOT tree is meant to be a *friend* of the input
tree: ``tree.AddFriend("pnn_scores", "scores.root")`` in ROOT.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from hep_pnn.errors import ConfigError

__all__ = ["OUTPUT_FORMATS", "ScoreWriter", "output_format"]

OutputFormat = Literal["parquet", "csv", "root"]
OUTPUT_FORMATS: dict[str, OutputFormat] = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".root": "root",
}


def output_format(path: str | os.PathLike[str]) -> OutputFormat:
    """The output format chosen by the file suffix.

    Example:
        >>> output_format("scores.root"), output_format("out/scores.parquet")
        ('root', 'parquet')
    """
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise ConfigError(
            f"unknown output type {suffix or '(no suffix)'!r}",
            where=f"--output {path}",
            fix="name the output .parquet, .csv or .root",
        )
    return OUTPUT_FORMATS[suffix]


class ScoreWriter:
    """Append float32 score columns chunk by chunk to a Parquet, CSV or ROOT file.

    Args:
        path: the file to write (usually the temporary path of ``atomic_path``).
        columns: the score column names, in order.
        format: ``"parquet"``, ``"csv"`` or ``"root"``.
        tree: name of the ROOT tree.

    Example:
        >>> import tempfile, pathlib, numpy as np, pandas as pd
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
        >>> with ScoreWriter(path, ["score_m500"], format="csv") as writer:
        ...     writer.write({"score_m500": np.array([0.25, 0.5])})
        >>> pd.read_csv(path)["score_m500"].tolist()
        [0.25, 0.5]
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        columns: Sequence[str],
        *,
        format: OutputFormat,
        tree: str = "pnn_scores",
    ) -> None:
        self.columns = list(columns)
        self.format = format
        self.rows = 0
        self._schema = pa.schema([(name, pa.float32()) for name in self.columns])
        self._handle: Any
        if format == "parquet":
            import pyarrow.parquet as pq

            self._handle = pq.ParquetWriter(os.fspath(path), self._schema)
        elif format == "csv":
            import pyarrow.csv as pacsv

            # Column names are identifiers and values numbers: no quotes needed anywhere.
            options = pacsv.WriteOptions(quoting_style="none", quoting_header="none")
            self._handle = pacsv.CSVWriter(os.fspath(path), self._schema, write_options=options)
        else:
            import uproot

            self._file = uproot.recreate(os.fspath(path))
            self._handle = self._file.mktree(tree, dict.fromkeys(self.columns, np.float32))

    def write(self, scores: dict[str, np.ndarray]) -> None:
        """Append one chunk: ``{column: array}`` with the same length for every column."""
        arrays = [np.asarray(scores[name], dtype=np.float32) for name in self.columns]
        if self.format == "root":
            self._handle.extend(dict(zip(self.columns, arrays, strict=True)))
        else:
            self._handle.write_batch(pa.record_batch(arrays, schema=self._schema))
        self.rows += len(arrays[0]) if arrays else 0

    def close(self) -> None:
        """Finish the file (footer, ROOT keys)."""
        if self.format == "root":
            self._file.close()
        else:
            self._handle.close()

    def __enter__(self) -> ScoreWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
