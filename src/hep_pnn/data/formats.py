r"""File formats: one class per format, collected in a registry looked up by name or suffix.

A format knows its suffixes and how to list the columns of a file, stream them in
bounded chunks, count rows cheaply, recognise the tables hep-pnn writes, write an event
table and append score columns (``pnn apply``). Every reader and writer of the package
goes through :data:`FORMATS` (uproot's habit of one class per interpretation), so a new
format (HDF5, say) is one subclass of :class:`FileFormat` and one :func:`register_format`
line:

.. code-block:: python

    @register_format
    class Feather(FileFormat):
        name = "feather"
        suffixes = (".feather",)
        table_suffixes = (".feather",)

        def columns(self, path, *, tree=None): ...
        def chunks(self, path, columns, *, tree=None, chunk_size=100_000): ...

Example:
    >>> detect_format("all_train.csv.gz"), detect_format("x.root")
    ('csv', 'root')
    >>> format_for_writing("events.pq").name
    'parquet'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import pyarrow as pa

from hep_pnn.data.chunks import csv_batches, read_csv_header, rechunk, require_file
from hep_pnn.data.hepmass import HEPMASS_COLUMNS, IMB_COLUMNS, read_hepmass, read_hepmass_imb_file
from hep_pnn.data.native import is_native, read_parquet, write_parquet
from hep_pnn.data.table import EventTable
from hep_pnn.data.writers import ROOT_METADATA_KEY, write_hepmass_csv, write_root
from hep_pnn.errors import ConfigError, DataError

__all__ = [
    "FORMATS",
    "ColumnWriter",
    "CsvFormat",
    "FileFormat",
    "ParquetFormat",
    "RootFormat",
    "detect_format",
    "format_for_writing",
    "format_named",
    "format_of",
    "iter_columns",
    "list_columns",
    "matching_suffix",
    "register_format",
    "write_events",
]

PathLike = str | os.PathLike[str]


class ColumnWriter(Protocol):
    """Appends float32 columns chunk by chunk (:meth:`FileFormat.column_writer`)."""

    def write(self, arrays: dict[str, np.ndarray]) -> None: ...

    def close(self) -> None: ...


class FileFormat:
    """One file format. Subclasses set the class attributes and override what they offer.

    Attributes:
        name: the name in data descriptions and ``format=`` arguments.
        suffixes: suffixes read as this format (the last suffix of the file name).
        table_suffixes: endings an event table is written to (``write_events``).
        score_suffixes: endings score columns are written to (``pnn apply``).
        table_layout: what :meth:`write_table` writes: ``"native"`` (every column) or
            ``"hepmass"`` (the published CSV layout).
        cache_parsed: whether parsed tables are worth a Parquet cache (slow text formats).
        quiet_suffixes: endings accepted but not listed in error messages (aliases).
    """

    name: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]] = ()
    table_suffixes: ClassVar[tuple[str, ...]] = ()
    score_suffixes: ClassVar[tuple[str, ...]] = ()
    table_layout: ClassVar[str] = "native"
    cache_parsed: ClassVar[bool] = False
    quiet_suffixes: ClassVar[tuple[str, ...]] = ()

    def columns(self, path: Path, *, tree: str | None = None) -> list[str]:
        """Column (or branch) names, in file order."""
        raise NotImplementedError

    def chunks(
        self, path: Path, columns: Sequence[str], *, tree: str | None = None, chunk_size: int
    ) -> Iterator[dict[str, np.ndarray]]:
        """``{column: array}`` chunks of at most ``chunk_size`` rows, in file order."""
        raise NotImplementedError

    def count_rows(self, path: Path, *, tree: str | None = None) -> int | None:
        """The number of rows when cheap to know (a footer or header), else ``None``."""
        return None

    def read_known_layout(self, path: Path, *, cache: bool) -> EventTable | None:
        """The table if ``path`` is in a layout hep-pnn recognises without a description."""
        return None

    def process_names(self, path: Path) -> list[str] | None:
        """Process names stored next to integer process codes, if the file has them."""
        return None

    def write_table(self, table: EventTable, path: Path, *, overwrite: bool) -> Path:
        """Write an event table (atomically; refuses an existing file unless ``overwrite``)."""
        raise NotImplementedError

    def column_writer(
        self, path: Path, columns: Sequence[str], *, tree: str = "pnn_scores"
    ) -> ColumnWriter:
        """A writer appending float32 ``columns`` to a new file ``path``."""
        raise NotImplementedError


#: Formats by name, in the order they are listed in messages.
FORMATS: dict[str, FileFormat] = {}


def register_format(cls: type[FileFormat]) -> type[FileFormat]:
    """Class decorator: add one instance of ``cls`` to :data:`FORMATS` under ``cls.name``."""
    FORMATS[cls.name] = cls()
    return cls


def _listed(endings: Sequence[str]) -> str:
    """``".a, .b or .c"``."""
    return ", ".join(endings[:-1]) + f" or {endings[-1]}" if len(endings) > 1 else endings[0]


def _endings(attribute: str) -> list[str]:
    """The endings of every format for messages, aliases left out."""
    return [
        ending
        for fmt in FORMATS.values()
        for ending in getattr(fmt, attribute)
        if ending not in fmt.quiet_suffixes
    ]


def matching_suffix(path: PathLike, endings: Sequence[str]) -> str | None:
    """The longest of ``endings`` that the file name of ``path`` ends with (any case).

    Example:
        >>> matching_suffix("a.CSV.gz", [".csv", ".csv.gz"])
        '.csv.gz'
    """
    name = Path(path).name.lower()
    found = [ending for ending in endings if name.endswith(ending)]
    return max(found, key=len) if found else None


def format_named(name: str) -> FileFormat:
    """The registered format called ``name``.

    Example:
        >>> format_named("root").suffixes
        ('.root',)
    """
    if name not in FORMATS:
        raise ConfigError(
            f"unknown format {name!r}", where="format", fix=f"use one of {', '.join(FORMATS)}"
        )
    return FORMATS[name]


def format_of(path: PathLike, format: str | None = None) -> FileFormat:
    """The format of ``path`` for reading: ``format`` if given, else by the last suffix."""
    if format is not None:
        return format_named(format)
    suffix = Path(path).suffix.lower()
    for fmt in FORMATS.values():
        if suffix in fmt.suffixes:
            return fmt
    shown = _endings("table_suffixes")
    raise DataError(
        f"unknown file type {suffix!r}",
        where=f"file {path}",
        fix=f"use {_listed(shown)}, or set 'format' in the data description",
    )


def detect_format(path: PathLike, format: str | None = None) -> str:
    """The name of the file format: ``format`` if given, else guessed from the suffix."""
    return format_of(path, format).name


def format_for_writing(path: PathLike, format: str | None = None) -> FileFormat:
    """The format an event table is written in: ``format``, else by the file ending."""
    if format is not None:
        return format_named(format)
    for fmt in FORMATS.values():
        if matching_suffix(path, fmt.table_suffixes):
            return fmt
    raise ConfigError(
        f"cannot tell the output format of {path}",
        where="output path",
        fix=f"use a {_listed(_endings('table_suffixes'))} suffix, or pass format=",
    )


def score_format(path: PathLike) -> FileFormat:
    """The format score columns are written in, by the file ending of ``path``."""
    for fmt in FORMATS.values():
        if matching_suffix(path, fmt.score_suffixes):
            return fmt
    suffix = Path(path).suffix.lower()
    raise ConfigError(
        f"unknown output type {suffix or '(no suffix)'!r}",
        where=f"--output {path}",
        fix=f"name the output {_listed(_endings('score_suffixes'))}",
    )


def list_columns(
    path: PathLike, *, tree: str | None = None, format: str | None = None
) -> list[str]:
    """Column (or branch) names of a CSV, Parquet or ROOT file, in file order."""
    path = require_file(path)
    fmt = format_of(path, format)
    try:
        return fmt.columns(path, tree=tree)
    except (pa.ArrowException, OSError, ValueError) as err:
        raise DataError(
            f"cannot read the {fmt.name} file: {err}", where=f"file {path}", fix="check the file"
        ) from None


def iter_columns(
    path: PathLike,
    columns: Sequence[str],
    *,
    tree: str | None = None,
    chunk_size: int = 100_000,
    format: str | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    r"""Yield ``{column: array}`` chunks of at most ``chunk_size`` rows, in file order.

    Memory stays bounded by one chunk: Parquet is read by batches, ROOT with
    ``uproot.iterate`` and CSV block by block. Integer CSV columns come back as
    float64 so that every chunk has the same dtype. ``format`` overrides the suffix.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
        >>> _ = path.write_text("a,b\n1,2\n3,4\n5,6\n")
        >>> [chunk["b"].tolist() for chunk in iter_columns(path, ["b"], chunk_size=2)]
        [[2.0, 4.0], [6.0]]
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    path = require_file(path)
    columns = list(columns)
    available = list_columns(path, tree=tree, format=format)
    missing = [c for c in columns if c not in available]
    if missing:
        raise DataError(
            f"missing column(s) {missing}; the file has {available}",
            where=f"file {path}",
            fix="check the column names",
        )
    yield from format_of(path, format).chunks(path, columns, tree=tree, chunk_size=chunk_size)


def write_events(
    table: EventTable, path: PathLike, *, format: str | None = None, overwrite: bool = False
) -> Path:
    """Write ``table`` choosing the format by ``format`` or the file ending.

    ``.parquet`` → native Parquet, ``.csv`` / ``.csv.gz`` → HEPMASS layout, ``.root`` → ROOT.
    """
    return format_for_writing(path, format).write_table(table, Path(path), overwrite=overwrite)


def _numpy_columns(batch: pa.RecordBatch, columns: Sequence[str]) -> dict[str, np.ndarray]:
    return {name: batch.column(name).to_numpy(zero_copy_only=False) for name in columns}


class _ArrowColumnWriter:
    """Score columns through a pyarrow writer (``write_batch`` / ``close``)."""

    def __init__(self, columns: Sequence[str], make: Callable[[pa.Schema], Any]) -> None:
        self.columns = list(columns)
        self.schema = pa.schema([(name, pa.float32()) for name in self.columns])
        self.handle = make(self.schema)

    def write(self, arrays: dict[str, np.ndarray]) -> None:
        batch = pa.record_batch([arrays[name] for name in self.columns], schema=self.schema)
        self.handle.write_batch(batch)

    def close(self) -> None:
        self.handle.close()


@register_format
class ParquetFormat(FileFormat):
    """Apache Parquet: streamed by record batches; hep-pnn's native layout is recognised."""

    name = "parquet"
    suffixes = (".parquet", ".pq")
    table_suffixes = (".parquet", ".pq")
    score_suffixes = (".parquet", ".pq")
    quiet_suffixes = (".pq",)

    def columns(self, path: Path, *, tree: str | None = None) -> list[str]:
        import pyarrow.parquet as pq

        return list(pq.ParquetFile(path).schema_arrow.names)

    def chunks(
        self, path: Path, columns: Sequence[str], *, tree: str | None = None, chunk_size: int
    ) -> Iterator[dict[str, np.ndarray]]:
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path, pre_buffer=False).iter_batches(
            batch_size=chunk_size, columns=list(columns)
        ):
            yield _numpy_columns(batch, columns)

    def count_rows(self, path: Path, *, tree: str | None = None) -> int:
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows

    def read_known_layout(self, path: Path, *, cache: bool) -> EventTable | None:
        return read_parquet(path) if is_native(path) else None

    def write_table(self, table: EventTable, path: Path, *, overwrite: bool) -> Path:
        return write_parquet(table, path, overwrite=overwrite)

    def column_writer(
        self, path: Path, columns: Sequence[str], *, tree: str = "pnn_scores"
    ) -> ColumnWriter:
        import pyarrow.parquet as pq

        return _ArrowColumnWriter(columns, lambda schema: pq.ParquetWriter(os.fspath(path), schema))


@register_format
class CsvFormat(FileFormat):
    """Comma-separated text, optionally gzip-compressed: parsed block by block; the
    HEPMASS and HEPMASS-IMB headers are recognised; tables are written in the HEPMASS
    layout."""

    name = "csv"
    suffixes = (".csv", ".gz", ".txt")
    table_suffixes = (".csv", ".csv.gz")
    score_suffixes = (".csv",)
    table_layout = "hepmass"
    cache_parsed = True

    def columns(self, path: Path, *, tree: str | None = None) -> list[str]:
        return read_csv_header(path)

    def chunks(
        self, path: Path, columns: Sequence[str], *, tree: str | None = None, chunk_size: int
    ) -> Iterator[dict[str, np.ndarray]]:
        # Types are fixed from the first block so that a column is not int in one chunk
        # and float in the next.
        first = next(csv_batches(path, include=columns, block_bytes=1 << 16), None)
        if first is None:
            return
        types = {
            f.name: pa.float64() if pa.types.is_integer(f.type) else f.type for f in first.schema
        }
        batches = csv_batches(path, include=columns, column_types=types)
        for batch in rechunk(batches, chunk_size):
            yield _numpy_columns(batch, columns)

    def read_known_layout(self, path: Path, *, cache: bool) -> EventTable | None:
        header = read_csv_header(path)
        if header == list(HEPMASS_COLUMNS):
            return read_hepmass(path, cache=cache)
        if header == list(IMB_COLUMNS):
            return read_hepmass_imb_file(path, cache=cache)
        return None

    def write_table(self, table: EventTable, path: Path, *, overwrite: bool) -> Path:
        return write_hepmass_csv(table, path, overwrite=overwrite)

    def column_writer(
        self, path: Path, columns: Sequence[str], *, tree: str = "pnn_scores"
    ) -> ColumnWriter:
        import pyarrow.csv as pacsv

        # Column names are identifiers and values numbers: no quotes needed anywhere.
        options = pacsv.WriteOptions(quoting_style="none", quoting_header="none")
        return _ArrowColumnWriter(
            columns, lambda schema: pacsv.CSVWriter(os.fspath(path), schema, write_options=options)
        )


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
