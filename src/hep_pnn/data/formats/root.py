"""CERN ROOT TTrees through uproot."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hep_pnn.data.formats.registry import ColumnWriter, FileFormat, register_format
from hep_pnn.data.table import EventTable
from hep_pnn.data.writers import ROOT_METADATA_KEY, write_root
from hep_pnn.errors import DataError

__all__ = ["RootFormat"]


class _RootColumnWriter:
    """Score columns as branches of a new ROOT tree."""

    def __init__(self, path: Path, columns: Sequence[str], tree: str) -> None:
        import uproot

        self.columns = list(columns)
        self.file = uproot.recreate(os.fspath(path))
        self.tree = self.file.mktree(tree, dict.fromkeys(self.columns, np.float32))

    def write(self, arrays: dict[str, np.ndarray]) -> None:
        self.tree.extend({name: arrays[name] for name in self.columns})

    def close(self) -> None:
        self.file.close()


def _open_tree(path: Path, tree: str | None) -> Any:
    import uproot

    file = uproot.open(path)
    trees = [key.split(";")[0] for key, cls in file.classnames().items() if cls == "TTree"]
    name = tree or (trees[0] if len(trees) == 1 else None)
    if name is None or name not in trees:
        raise DataError(
            f"tree {tree!r} not found; trees are {sorted(set(trees))}",
            where=f"file {path}",
            fix="set 'tree' in the data description",
        )
    return file[name]


@register_format
class RootFormat(FileFormat):
    """CERN ROOT TTrees through uproot: streamed with ``uproot.iterate``; tables hep-pnn
    writes carry their feature and process names in a ``hep_pnn`` TObjString."""

    name = "root"
    suffixes = (".root",)
    table_suffixes = (".root",)
    score_suffixes = (".root",)

    def columns(self, path: Path, *, tree: str | None = None) -> list[str]:
        return list(_open_tree(path, tree).keys(recursive=False))

    def chunks(
        self, path: Path, columns: Sequence[str], *, tree: str | None = None, chunk_size: int
    ) -> Iterator[dict[str, np.ndarray]]:
        branches = _open_tree(path, tree)
        for arrays in branches.iterate(list(columns), step_size=chunk_size, library="np"):
            yield {name: np.asarray(arrays[name]) for name in columns}

    def count_rows(self, path: Path, *, tree: str | None = None) -> int | None:
        if tree is None:
            return None
        import uproot

        with uproot.open(path) as file:
            return int(file[tree].num_entries)

    def process_names(self, path: Path) -> list[str] | None:
        import json

        import uproot

        with uproot.open(path) as file:
            if ROOT_METADATA_KEY not in file:
                return None
            return json.loads(str(file[ROOT_METADATA_KEY])).get("processes")

    def write_table(self, table: EventTable, path: Path, *, overwrite: bool) -> Path:
        return write_root(table, path, overwrite=overwrite)

    def column_writer(
        self, path: Path, columns: Sequence[str], *, tree: str = "pnn_scores"
    ) -> ColumnWriter:
        return _RootColumnWriter(path, columns, tree)
