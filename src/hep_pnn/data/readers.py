"""``read_events``: one entry point for HEPMASS, HEPMASS-IMB, native and described files.

Without a description the layout is detected: the HEPMASS header, the HEPMASS-IMB
header, a native Parquet/ROOT file written by hep-pnn, or any file whose columns are
the native ones (features, ``label``, optional ``mass``, ``weight``, ``process``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hep_pnn.data.builder import Process, TableBuilder
from hep_pnn.data.cache import cached_read
from hep_pnn.data.chunks import (
    detect_format,
    iter_columns,
    list_columns,
    read_csv_header,
    require_file,
)
from hep_pnn.data.description import DataDescription
from hep_pnn.data.hepmass import (
    HEPMASS_COLUMNS,
    IMB_COLUMNS,
    read_hepmass,
    read_hepmass_imb_file,
)
from hep_pnn.data.native import NATIVE_META_COLUMNS, is_native, read_parquet
from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError, DataError

__all__ = ["read_events"]

PathLike = str | os.PathLike[str]
_IDENTIFIER = re.compile(r"`([^`]+)`|([A-Za-z_]\w*)")


def _selection_columns(expression: str, available: Sequence[str]) -> list[str]:
    names = {quoted or plain for quoted, plain in _IDENTIFIER.findall(expression)}
    return [column for column in available if column in names]


def _select(expression: str, chunk: Mapping[str, np.ndarray], where: str) -> np.ndarray:
    """Evaluate a selection with pandas' restricted expression grammar (no Python eval)."""
    import pandas as pd

    frame = pd.DataFrame(dict(chunk), copy=False)
    try:
        result = frame.eval(expression, engine="python", local_dict={}, global_dict={})
    except Exception as err:  # pandas raises many types for a bad expression
        raise ConfigError(
            f"cannot evaluate selection {expression!r}: {err}",
            where=where,
            fix="use column names, numbers, comparisons and and/or/not",
        ) from None
    mask = np.asarray(result)
    if mask.dtype != np.bool_ or mask.shape != (len(frame),):
        raise ConfigError(
            f"selection {expression!r} does not give true/false per event",
            where=where,
            fix="write a condition such as 'met > 20 and n_jets >= 4'",
        )
    return mask


def _numeric(chunk: Mapping[str, np.ndarray], name: str, path: Path) -> np.ndarray:
    values = chunk[name]
    if values.dtype.kind not in "biuf":
        raise DataError(
            f"column is not numeric (type {values.dtype})",
            where=f"file {path}, column {name}",
            fix="choose a numeric column in the data description",
        )
    return values


def _read_described(
    path: Path, description: DataDescription, *, process_names: Sequence[str] | None = None
) -> EventTable:
    settings = description.settings_for(path)
    needed = description.columns_for(path)
    available = list_columns(path, tree=description.tree, format=description.format)
    missing = [column for column in needed if column not in available]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}; the file has {available[:12]}",
            where=f"file {path}",
            fix=f"fix the column names in {description.source}",
        )
    selection = description.selection
    extra = _selection_columns(selection, available) if selection else []
    label_fixed = settings.label if settings.label is not None else description.label
    process_fixed = settings.process or description.process
    builder = TableBuilder(
        description.features,
        source=str(path),
        columns={
            "label": description.label_column or "label",
            "mass": description.mass_column or "mass",
            "weight": description.weight_column or "weight",
        },
    )
    offset = 0
    chunks = iter_columns(
        path,
        list(dict.fromkeys([*needed, *extra])),
        tree=description.tree,
        format=description.format,
    )
    for chunk in chunks:
        size = len(next(iter(chunk.values())))
        rows = None
        if selection:
            keep = _select(selection, chunk, f"{description.source}, key selection")
            rows = offset + 1 + np.flatnonzero(keep)
            chunk = {name: values[keep] for name, values in chunk.items()}
        offset += size
        label = (
            label_fixed
            if label_fixed is not None
            else _numeric(chunk, description.label_column, path)  # type: ignore[arg-type]
        )
        process: Process
        if process_fixed is not None:
            process = process_fixed
        elif description.process_column is not None:
            values = chunk[description.process_column]
            process = (process_names, values.astype(np.int64)) if process_names else values
        elif label_fixed is not None:
            process = "signal" if label_fixed == 1 else "background"
        else:
            process = np.where(np.asarray(label) == 1, "signal", "background")
        builder.append(
            [_numeric(chunk, name, path) for name in description.features],
            label=label,
            mass=settings.mass
            if settings.mass is not None
            else (chunk[description.mass_column] if description.mass_column else None),
            weight=chunk[description.weight_column] if description.weight_column else None,
            process=process,
            rows=rows,
        )
    return builder.finish()


def _native_description(columns: Sequence[str], path: Path) -> DataDescription | None:
    if "label" not in columns:
        return None
    features = [c for c in columns if c not in NATIVE_META_COLUMNS]
    if not features:
        return None
    present = set(columns)
    return DataDescription(
        features=features,
        label_column="label",
        mass_column="mass" if "mass" in present else None,
        weight_column="weight" if "weight" in present else None,
        process_column="process" if "process" in present else None,
        source=f"native layout of {path}",
    )


def _root_metadata(path: Path) -> dict[str, Any] | None:
    import uproot

    with uproot.open(path) as file:
        if "hep_pnn" not in file:
            return None
        return json.loads(str(file["hep_pnn"]))


def _read_detected(path: Path, *, cache: bool) -> EventTable:
    kind = detect_format(path)
    process_names = None
    if kind == "csv":
        header = read_csv_header(path)
        if header == list(HEPMASS_COLUMNS):
            return read_hepmass(path, cache=cache)
        if header == list(IMB_COLUMNS):
            return read_hepmass_imb_file(path, cache=cache)
    elif kind == "parquet" and is_native(path):
        return read_parquet(path)
    elif kind == "root":
        process_names = (_root_metadata(path) or {}).get("processes")
    columns = list_columns(path)
    description = _native_description(columns, path)
    if description is None:
        raise DataError(
            f"unknown layout (columns {columns[:6]}...)",
            where=f"file {path}",
            fix="give a data description (--description data.yaml), see docs/data.md",
        )
    if kind == "csv":
        return _cached_described(path, description, cache=cache)
    return _read_described(path, description, process_names=process_names)


def _cached_described(path: Path, description: DataDescription, *, cache: bool) -> EventTable:
    digest = hashlib.sha256(description.model_dump_json().encode()).hexdigest()[:16]
    return cached_read(
        path, lambda: _read_described(path, description), kind=f"described-{digest}", enabled=cache
    )


def read_events(
    paths: PathLike | Sequence[PathLike],
    *,
    description: DataDescription | None = None,
    cache: bool = True,
) -> EventTable:
    """Read events from one or more CSV, Parquet or ROOT files into one table.

    Args:
        paths: a file or a list of files (tables are concatenated in order).
        description: how to interpret the columns; ``None`` detects a known layout.
        cache: keep a Parquet cache of parsed CSV files (see :mod:`hep_pnn.data.cache`).

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
        >>> _ = path.write_text("x,label,mass\\n0.5,1,500\\n0.7,0,\\n")
        >>> table = read_events(path, cache=False)
        >>> table.feature_names, table.label.tolist(), table.mass.tolist()
        (('x',), [1, 0], [500.0, nan])
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    if not paths:
        raise DataError("no input files given", fix="pass at least one file")
    tables = []
    for raw in paths:
        path = require_file(raw)
        if description is None:
            tables.append(_read_detected(path, cache=cache))
        elif detect_format(path, description.format) == "csv":
            tables.append(_cached_described(path, description, cache=cache))
        else:
            tables.append(_read_described(path, description))
    try:
        return EventTable.concat(tables)
    except ValueError as err:
        raise DataError(
            f"cannot combine the files: {err}", fix="read files with the same features together"
        ) from None
