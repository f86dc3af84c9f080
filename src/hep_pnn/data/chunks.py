"""Bounded-memory streaming of columns from CSV, Parquet and ROOT files.

Row numbers in error messages are 1-based *data* rows: the first row after the
header is row 1 (it is on line 2 of a CSV file).
"""

from __future__ import annotations

import csv
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from hep_pnn.errors import DataError

__all__ = [
    "csv_batches",
    "detect_format",
    "estimate_csv_rows",
    "iter_columns",
    "list_columns",
    "read_csv_header",
    "require_file",
]

Format = Literal["csv", "parquet", "root"]
_SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".gz": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".root": "root",
}
#: Bytes of CSV text parsed at a time: large enough for threads, small next to the data.
CSV_BLOCK_BYTES = 1 << 20


def require_file(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a Path, or raise DataError if it is missing or empty.

    Example:
        >>> require_file("/no/such/file.csv")
        Traceback (most recent call last):
        ...
        hep_pnn.errors.DataError: file /no/such/file.csv: file not found (check the path)
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", where=f"file {path}", fix="check the path")
    if path.stat().st_size == 0:
        raise DataError("file is empty", where=f"file {path}", fix="re-create or re-download it")
    return path


def detect_format(path: str | os.PathLike[str], format: Format | None = None) -> Format:
    """The file format: ``format`` if given, else guessed from the suffix.

    Example:
        >>> detect_format("all_train.csv.gz"), detect_format("x.root")
        ('csv', 'root')
    """
    if format is not None:
        return format
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise DataError(
            f"unknown file type {suffix!r}",
            where=f"file {path}",
            fix="use .csv, .csv.gz, .parquet or .root, or set 'format' in the data description",
        )
    return _SUFFIXES[suffix]


def read_csv_header(path: str | os.PathLike[str]) -> list[str]:
    """The column names on the first line of a ``.csv`` or ``.csv.gz`` file."""
    path = require_file(path)
    try:
        with pa.input_stream(path) as stream:
            first = stream.read(1 << 16).split(b"\n", 1)[0].decode("utf-8")
    except (pa.ArrowException, OSError, EOFError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read the file: {err}", where=f"file {path}") from None
    return [name.strip() for name in next(csv.reader([first.rstrip("\r")]), [])]


def list_columns(
    path: str | os.PathLike[str], *, tree: str | None = None, format: Format | None = None
) -> list[str]:
    """Column (or branch) names of a CSV, Parquet or ROOT file, in file order."""
    path = require_file(path)
    kind = detect_format(path, format)
    try:
        if kind == "csv":
            return read_csv_header(path)
        if kind == "parquet":
            import pyarrow.parquet as pq

            return list(pq.ParquetFile(path).schema_arrow.names)
        return list(_open_tree(path, tree).keys(recursive=False))
    except (pa.ArrowException, OSError, ValueError) as err:
        raise DataError(
            f"cannot read the {kind} file: {err}", where=f"file {path}", fix="check the file"
        ) from None


def _open_tree(path: Path, tree: str | None) -> Any:  # an uproot TTree (untyped)
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


def _locate_csv_problem(path: Path, error: Exception) -> DataError:
    """Re-scan a CSV that pyarrow refused, to name the first bad row and column."""
    import pandas as pd  # only on this error path: pandas is slow to import

    bad_rows: list[tuple[int, int, int]] = []

    def note(row: pacsv.InvalidRow) -> str:
        bad_rows.append((row.number, row.expected_columns, row.actual_columns))
        return "skip"

    names = read_csv_header(path)
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(use_threads=False, block_size=CSV_BLOCK_BYTES),
        parse_options=pacsv.ParseOptions(invalid_row_handler=note),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )
    offset = 0
    for batch in reader:
        if bad_rows:
            line, expected, actual = bad_rows[0]
            return DataError(
                f"{actual} fields where the header has {expected}",
                where=f"file {path}, row {line - 1} (line {line})",
                fix="every row needs one value per header column",
            )
        for name, column in zip(names, batch.columns, strict=True):
            text = column.to_numpy(zero_copy_only=False)
            # Empty fields are missing values, which the table builder reports.
            numbers = pd.to_numeric(pd.Series(text), errors="coerce").isna().to_numpy()
            numbers = numbers & (text != "")
            # Text columns (process names) are legitimately non-numeric everywhere.
            if numbers.any() and not numbers.all():
                row = int(np.argmax(numbers))
                return DataError(
                    f"non-numeric value {text[row]!r}",
                    where=f"file {path}, column {name}, row {offset + row + 1}",
                    fix="fix or remove the value",
                )
        offset += batch.num_rows
    return DataError(f"cannot parse the CSV file: {error}", where=f"file {path}")


def _text_blocks(path: Path, block_bytes: int) -> Iterator[bytes]:
    """Decompressed text of ``path`` in blocks of whole lines, without the header line."""
    with pa.input_stream(path) as stream:  # gzip is detected from the .gz suffix
        carry = b""
        header_done = False
        while True:
            data = stream.read(block_bytes)
            text = carry + data
            cut = text.rfind(b"\n") + 1 if data else len(text)
            if not header_done and cut:
                start = text.index(b"\n") + 1 if b"\n" in text else len(text)
                text, cut, header_done = text[start:], cut - start, True
            if cut > 0:
                yield text[:cut]
            carry = text[cut:]
            if not data:
                return


def _prefetch(items: Iterator[bytes], depth: int = 2) -> Iterator[bytes]:
    """Run ``items`` in a background thread, ``depth`` items ahead.

    Decompression (zlib releases the GIL) then overlaps with parsing and copying.
    """
    buffer: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(entry: tuple[str, object]) -> bool:
        while not stop.is_set():
            try:
                buffer.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer(("item", item)):
                    return
            offer(("end", None))
        except BaseException as err:  # handed to the consumer, which re-raises it
            offer(("error", err))

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    try:
        while True:
            kind, value = buffer.get()
            if kind == "end":
                return
            if kind == "error":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


def estimate_csv_rows(path: str | os.PathLike[str]) -> int:
    """A rough row count of a CSV file, from its first MB and its (uncompressed) size.

    For ``.gz`` files the size comes from the gzip trailer (exact below 4 GiB).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.suffix == ".gz":
            with open(path, "rb") as raw:
                raw.seek(-4, os.SEEK_END)
                size = max(int.from_bytes(raw.read(4), "little"), size)
        with pa.input_stream(path) as stream:
            sample = stream.read(1 << 20)
    except (OSError, pa.ArrowException):
        return 0  # a broken file is reported by the reader itself
    lines = max(sample.count(b"\n"), 1)
    return int(size / max(len(sample) / lines, 1)) + 1


def csv_batches(
    path: str | os.PathLike[str],
    *,
    column_names: Sequence[str] | None = None,
    column_types: dict[str, pa.DataType] | None = None,
    include: Sequence[str] | None = None,
    block_bytes: int = CSV_BLOCK_BYTES,
) -> Iterator[pa.RecordBatch]:
    """Stream a CSV file as Arrow record batches; parse errors become one DataError.

    The text is cut into blocks of whole lines and each block is parsed on its own
    (multi-threaded), so memory holds one block at a time; pyarrow's streaming reader
    reads far ahead of the consumer instead.

    Args:
        path: the ``.csv`` or ``.csv.gz`` file.
        column_names: names to use instead of those in the header line.
        column_types: Arrow types of some columns (others are inferred per block).
        include: only these columns, in this order.
        block_bytes: bytes of decompressed text parsed at a time.
    """
    path = require_file(path)
    names = list(column_names) if column_names is not None else read_csv_header(path)
    read_options = pacsv.ReadOptions(column_names=names)
    convert = pacsv.ConvertOptions(
        column_types=column_types or {}, include_columns=list(include or [])
    )
    try:
        for block in _prefetch(_text_blocks(path, block_bytes)):
            parsed = pacsv.read_csv(
                pa.BufferReader(block), read_options=read_options, convert_options=convert
            )
            yield from parsed.to_batches()
    except pa.ArrowInvalid as err:
        try:
            problem = _locate_csv_problem(path, err)
        except (pa.ArrowException, OSError):
            problem = DataError(f"cannot parse the CSV file: {err}", where=f"file {path}")
        raise problem from None
    except (OSError, EOFError) as err:
        raise DataError(
            f"cannot read the file: {err}", where=f"file {path}", fix="re-create or re-download it"
        ) from None


def _rechunk(batches: Iterator[pa.RecordBatch], size: int) -> Iterator[pa.RecordBatch]:
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        while count >= size:
            table = pa.Table.from_batches(pending).combine_chunks()
            yield from table.slice(0, size).to_batches()
            rest = table.slice(size)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield from pa.Table.from_batches(pending).combine_chunks().to_batches()


def _numpy_columns(batch: pa.RecordBatch, columns: Sequence[str]) -> dict[str, np.ndarray]:
    return {name: batch.column(name).to_numpy(zero_copy_only=False) for name in columns}


def iter_columns(
    path: str | os.PathLike[str],
    columns: Sequence[str],
    *,
    tree: str | None = None,
    chunk_size: int = 100_000,
    format: Format | None = None,
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
    kind = detect_format(path, format)
    if kind == "root":
        branches = _open_tree(path, tree)
        for arrays in branches.iterate(columns, step_size=chunk_size, library="np"):
            yield {name: np.asarray(arrays[name]) for name in columns}
        return
    if kind == "parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path, pre_buffer=False).iter_batches(
            batch_size=chunk_size, columns=columns
        ):
            yield _numpy_columns(batch, columns)
        return
    # Types are fixed from the first block so that a column is not int in one chunk
    # and float in the next.
    first = next(csv_batches(path, include=columns, block_bytes=1 << 16), None)
    if first is None:
        return
    types = {f.name: pa.float64() if pa.types.is_integer(f.type) else f.type for f in first.schema}
    batches = csv_batches(path, include=columns, column_types=types)
    for batch in _rechunk(batches, chunk_size):
        yield _numpy_columns(batch, columns)
