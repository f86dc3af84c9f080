"""Apache Parquet: streamed by record batches; hep-pnn's native layout is recognised."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from hep_pnn.data.formats._arrow import ArrowColumnWriter, numpy_columns
from hep_pnn.data.formats.registry import ColumnWriter, FileFormat, register_format
from hep_pnn.data.native import is_native, read_parquet, write_parquet
from hep_pnn.data.table import EventTable

__all__ = ["ParquetFormat"]


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
            yield numpy_columns(batch, columns)

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

        return ArrowColumnWriter(columns, lambda schema: pq.ParquetWriter(os.fspath(path), schema))
