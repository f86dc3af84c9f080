"""Helpers the Arrow-based formats (Parquet, CSV) share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["ArrowColumnWriter", "numpy_columns"]


def numpy_columns(batch: pa.RecordBatch, columns: Sequence[str]) -> dict[str, np.ndarray]:
    return {name: batch.column(name).to_numpy(zero_copy_only=False) for name in columns}


class ArrowColumnWriter:
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
