"""The format registry: :class:`FileFormat`, :data:`FORMATS` and the lookups by name or suffix.

The formats themselves are one module each (:mod:`.parquet`, :mod:`.csv_text`,
:mod:`.root`), registered when :mod:`hep_pnn.data.formats` is imported.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar, Protocol

import numpy as np
import pyarrow as pa

from hep_pnn.data.chunks import require_file
from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError, DataError

__all__ = [
    "FORMATS",
    "ColumnWriter",
    "FileFormat",
    "detect_format",
    "format_for_writing",
    "format_named",
    "format_of",
    "iter_columns",
    "list_columns",
    "matching_suffix",
    "register_format",
    "score_format",
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
