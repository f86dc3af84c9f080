"""The columns of the top-tagging layout and the Parquet file hep-pnn writes jets to.

Columns ``E_i, PX_i, PY_i, PZ_i`` for i < 200 (float32, GeV, constituents sorted by pT,
zero-padded), ``is_signal_new`` (1 for top jets), and here also the jet-level
:data:`~hep_pnn.data.jets.sample.JET_FEATURES`. The reference HDF5 files have the same
constituent and label columns (and a few truth columns hep-pnn does not use).

References:
    Kasieczka et al., "The Machine Learning Landscape of Top Taggers", arXiv:1902.09914.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hep_pnn._io import atomic_path
from hep_pnn.data.jets.sample import JET_FEATURES, MAX_CONSTITUENTS, JetSample
from hep_pnn.errors import DataError

__all__ = [
    "COMPONENTS",
    "LABEL_COLUMN",
    "constituent_columns",
    "constituents_from_frame",
    "write_jets_parquet",
]

COMPONENTS = ("E", "PX", "PY", "PZ")
"""Column prefixes of the four constituent components, in the order of the last axis."""

LABEL_COLUMN = "is_signal_new"
_ROW_GROUP_JETS = 20_000


def constituent_columns(n: int = MAX_CONSTITUENTS) -> list[str]:
    """``E_0, PX_0, PY_0, PZ_0, E_1, …`` for the first ``n`` constituents, the reference order.

    Example:
        >>> constituent_columns(2)
        ['E_0', 'PX_0', 'PY_0', 'PZ_0', 'E_1', 'PX_1', 'PY_1', 'PZ_1']
    """
    return [f"{component}_{i}" for i in range(n) for component in COMPONENTS]


def constituents_from_frame(frame: pd.DataFrame, *, source: str) -> np.ndarray:
    """``(n, 200, 4)`` float32 constituents from the ``E_i, PX_i, PY_i, PZ_i`` columns.

    Fewer than 200 constituents in the file are zero-padded; checks for missing columns
    and non-finite values name the file.
    """
    present = [i for i in range(MAX_CONSTITUENTS) if f"E_{i}" in frame.columns]
    count = len(present)
    if count == 0 or present != list(range(count)):
        raise DataError(
            "no constituent columns E_0, PX_0, PY_0, PZ_0, … (or a gap in their numbering)",
            where=f"file {source}",
            fix="write the top-tagging layout: E_i, PX_i, PY_i, PZ_i for i < 200",
        )
    names = constituent_columns(count)
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise DataError(
            f"missing constituent column(s) {', '.join(missing[:4])}",
            where=f"file {source}",
            fix="every constituent needs E_i, PX_i, PY_i and PZ_i",
        )
    values = frame[names].to_numpy(np.float32).reshape(len(frame), count, 4)
    if not np.isfinite(values).all():
        row, column = np.argwhere(~np.isfinite(values.reshape(len(frame), -1)))[0]
        raise DataError(
            "non-finite constituent momentum (NaN or inf)",
            where=f"file {source}, row {row}, column {names[column]}",
            fix="remove the jet or zero its missing constituents",
        )
    out = np.zeros((len(frame), MAX_CONSTITUENTS, 4), np.float32)
    out[:, :count] = values
    return out


def _jets_schema(extra: list[str]) -> pa.Schema:
    fields = [pa.field(name, pa.float32()) for name in constituent_columns()]
    fields.append(pa.field(LABEL_COLUMN, pa.int8()))
    fields += [
        pa.field(name, pa.int32() if name == "n_constituents" else pa.float32())
        for name in (*JET_FEATURES, *extra)
    ]
    return pa.schema(fields, metadata={b"hep_pnn_jets": b"top-tagging"})


def write_jets_parquet(
    jets: JetSample, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write ``jets`` to Parquet in the top-tagging layout plus the jet features, atomically.

    Feature columns beyond :data:`JET_FEATURES` (e.g. ``zprime_mass``) are written after
    them as float32. An existing ``path`` is refused unless ``overwrite``.

    Example:
        >>> import pathlib, tempfile
        >>> from hep_pnn.data.jets.reader import load_jets
        >>> constituents = np.zeros((1, 200, 4), np.float32)
        >>> constituents[0, 0] = [600.0, 600.0, 0.0, 0.0]
        >>> jets = JetSample(constituents, np.ones(1, np.int8),
        ...                  pd.DataFrame({name: [0.0] for name in JET_FEATURES}))
        >>> path = write_jets_parquet(jets, pathlib.Path(tempfile.mkdtemp()) / "jets.parquet")
        >>> load_jets(path).labels.tolist()
        [1]
    """
    schema = _jets_schema([c for c in jets.features.columns if c not in JET_FEATURES])
    flat = jets.constituents.reshape(len(jets), -1)
    with (
        atomic_path(path, overwrite=overwrite) as tmp,
        pq.ParquetWriter(tmp, schema, compression="zstd") as writer,
    ):
        for start in range(0, max(len(jets), 1), _ROW_GROUP_JETS):
            rows = slice(start, start + _ROW_GROUP_JETS)
            columns = [pa.array(flat[rows, j], pa.float32()) for j in range(flat.shape[1])]
            columns.append(pa.array(jets.labels[rows], pa.int8()))
            for field in list(schema)[len(columns) :]:
                values = jets.features[field.name].to_numpy()[rows]
                columns.append(pa.array(values.astype(field.type.to_pandas_dtype())))
            writer.write_batch(pa.record_batch(columns, schema=schema))
    return Path(path)
