"""Streaming writers of score columns: Parquet, CSV or a ROOT tree, one chunk at a time.

Each writer gets the chunks in input order and appends them, so the output has one row
per input entry in the same order. The ROOT tree is meant to be a *friend* of the input
tree: ``tree.AddFriend("pnn_scores", "scores.root")`` in ROOT.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hep_pnn.data.formats import format_named, score_format

__all__ = ["ScoreWriter", "output_format"]


def output_format(path: str | os.PathLike[str]) -> str:
    """The name of the output format chosen by the file suffix
    (:data:`~hep_pnn.data.formats.FORMATS` with score suffixes).

    Example:
        >>> output_format("scores.root"), output_format("out/scores.parquet")
        ('root', 'parquet')
    """
    return score_format(path).name


class ScoreWriter:
    """Append float32 score columns chunk by chunk to a file of a registered format.

    Args:
        path: the file to write (usually the temporary path of ``atomic_path``).
        columns: the score column names, in order.
        format: a format name: ``"parquet"``, ``"csv"`` or ``"root"``.
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
        format: str,
        tree: str = "pnn_scores",
    ) -> None:
        self.columns = list(columns)
        self.format = format
        self.rows = 0
        self._writer = format_named(format).column_writer(Path(path), self.columns, tree=tree)

    def write(self, scores: dict[str, np.ndarray]) -> None:
        """Append one chunk: ``{column: array}`` with the same length for every column."""
        arrays = {name: np.asarray(scores[name], dtype=np.float32) for name in self.columns}
        self._writer.write(arrays)
        self.rows += len(arrays[self.columns[0]]) if self.columns else 0

    def close(self) -> None:
        """Finish the file (footer, ROOT keys)."""
        self._writer.close()

    def __enter__(self) -> ScoreWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
