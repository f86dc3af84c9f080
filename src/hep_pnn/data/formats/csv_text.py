"""Comma-separated text, optionally gzip-compressed, parsed block by block."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from hep_pnn.data.chunks import csv_batches, read_csv_header, rechunk
from hep_pnn.data.formats._arrow import ArrowColumnWriter, numpy_columns
from hep_pnn.data.formats.registry import ColumnWriter, FileFormat, register_format
from hep_pnn.data.hepmass import HEPMASS_COLUMNS, IMB_COLUMNS, read_hepmass, read_hepmass_imb_file
from hep_pnn.data.table import EventTable
from hep_pnn.data.writers import write_hepmass_csv

__all__ = ["CsvFormat"]


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
            yield numpy_columns(batch, columns)

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
        return ArrowColumnWriter(
            columns, lambda schema: pacsv.CSVWriter(os.fspath(path), schema, write_options=options)
        )
