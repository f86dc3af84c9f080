"""The hep-pnn native Parquet layout: feature columns, then label, mass, weight, process.

Features, mass and weight are float32, label is int8 and process is a
dictionary-encoded string column. The schema metadata key ``hep_pnn`` records the
feature names, so a native file is recognised without a data description.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from hep_pnn._io import atomic_path
from hep_pnn.data.builder import TableBuilder
from hep_pnn.data.chunks import require_file
from hep_pnn.data.table import EventTable
from hep_pnn.errors import DataError

__all__ = ["NATIVE_META_COLUMNS", "is_native", "read_parquet", "write_parquet"]

NATIVE_META_COLUMNS = ("label", "mass", "weight", "process")
_METADATA_KEY = b"hep_pnn"
#: Rows per Parquet row group: the unit of streaming and of extra memory while writing.
ROW_GROUP_ROWS = 50_000


def _schema(table: EventTable, extra: dict[str, str] | None) -> pa.Schema:
    fields = [pa.field(name, pa.float32()) for name in table.feature_names]
    fields += [
        pa.field("label", pa.int8()),
        pa.field("mass", pa.float32()),
        pa.field("weight", pa.float32()),
        pa.field("process", pa.dictionary(pa.int16(), pa.string())),
    ]
    metadata = {_METADATA_KEY: json.dumps({"features": list(table.feature_names)}).encode()}
    metadata.update({key.encode(): value.encode() for key, value in (extra or {}).items()})
    return pa.schema(fields, metadata=metadata)


def write_parquet(
    table: EventTable,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    metadata: dict[str, str] | None = None,
    compression: str = "snappy",
) -> Path:
    """Write ``table`` as native Parquet, atomically; refuse an existing file unless ``overwrite``.

    Rows are written in groups of 50,000, so writing needs little memory beyond the table.
    ``metadata`` adds schema metadata; ``compression`` is any Parquet codec or ``"none"``.

    Example:
        >>> import numpy as np, pathlib, tempfile
        >>> table = EventTable.from_arrays(np.ones((2, 3)), label=[1, 0], mass=[500, 500])
        >>> path = write_parquet(table, pathlib.Path(tempfile.mkdtemp()) / "events.parquet")
        >>> len(read_parquet(path))
        2
    """
    schema = _schema(table, metadata)
    names = pa.array(table.process_names, pa.string())
    # Dictionary-encoding float columns is slow and makes them larger: only process gets it.
    with (
        atomic_path(path, overwrite=overwrite) as tmp,
        pq.ParquetWriter(
            tmp, schema, use_dictionary=["process"], compression=compression
        ) as writer,
    ):
        for start in range(0, max(len(table), 1), ROW_GROUP_ROWS):
            rows = slice(start, start + ROW_GROUP_ROWS)
            columns = [pa.array(table.features[rows, j]) for j in range(table.n_features)]
            columns += [
                pa.array(table.label[rows]),
                pa.array(table.mass[rows]),
                pa.array(table.weight[rows]),
                pa.DictionaryArray.from_arrays(pa.array(table.process[rows]), names),
            ]
            writer.write_batch(pa.record_batch(columns, schema=schema))
    return Path(path)


def _native_features(schema: pa.Schema) -> list[str] | None:
    raw = (schema.metadata or {}).get(_METADATA_KEY)
    return None if raw is None else list(json.loads(raw)["features"])


def is_native(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a native Parquet file (written by :func:`write_parquet`)."""
    try:
        return _native_features(pq.read_schema(path)) is not None
    except (pa.ArrowException, OSError):
        return False


def read_parquet(path: str | os.PathLike[str], *, source: str | None = None) -> EventTable:
    """Read a native Parquet file, row group by row group, into preallocated arrays.

    Args:
        path: the Parquet file.
        source: name used in error messages (default: ``path``).
    """
    path = require_file(path)
    source = source or str(path)
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as err:
        raise DataError(f"not a Parquet file: {err}", where=f"file {source}") from None
    features = _native_features(parquet.schema_arrow)
    if features is None:
        raise DataError(
            "not a hep-pnn Parquet file (no 'hep_pnn' metadata)",
            where=f"file {source}",
            fix="read it with a data description",
        )
    builder = TableBuilder(features, source=source, capacity=parquet.metadata.num_rows)
    for group in range(parquet.num_row_groups):
        # Column by column: decoding a whole row group (or iter_batches, which reads far
        # ahead) keeps several copies in Arrow's pool and doubles the peak memory.
        def column(name: str, group: int = group) -> pa.ChunkedArray:
            return parquet.read_row_group(group, columns=[name], use_threads=False).column(0)

        process = column("process").combine_chunks()
        builder.append(
            [column(name).to_numpy() for name in features],
            label=column("label").to_numpy(),
            mass=column("mass").to_numpy(),
            weight=column("weight").to_numpy(),
            process=(process.dictionary.to_pylist(), np.asarray(process.indices)),
        )
    return builder.finish()
