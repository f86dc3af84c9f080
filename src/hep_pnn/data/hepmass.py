"""Readers for the published HEPMASS and HEPMASS-IMB CSV files.

Masses within 0.001 GeV of an integer are snapped to it: the published files store
500 GeV as ``499.999969`` (a float32 rounding artefact), and every published mass is
an integer number of GeV. Other masses (e.g. uniformly drawn background masses) are
kept as written. Row numbers in errors are 1-based data rows (line 2 is row 1).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from hep_pnn.data.builder import TableBuilder
from hep_pnn.data.cache import cached_read
from hep_pnn.data.chunks import csv_batches, estimate_csv_rows, read_csv_header, require_file
from hep_pnn.data.features import FEATURE_NAMES
from hep_pnn.data.table import EventTable
from hep_pnn.errors import DataError

__all__ = [
    "HEPMASS_COLUMNS",
    "IMB_COLUMNS",
    "read_hepmass",
    "read_hepmass_imb",
    "read_hepmass_imb_file",
    "snap_masses",
]

#: Header of the published HEPMASS files.
HEPMASS_COLUMNS: tuple[str, ...] = ("# label", *FEATURE_NAMES, "mass")
#: Header of the HEPMASS-IMB files.
IMB_COLUMNS: tuple[str, ...] = ("type", *FEATURE_NAMES, "mass", "name", "weight")


def snap_masses(mass: np.ndarray, *, tolerance: float = 1e-3) -> np.ndarray:
    """Snap masses within ``tolerance`` GeV of an integer to that integer.

    Example:
        >>> snap_masses(np.array([499.999969, 812.25], np.float32)).tolist()
        [500.0, 812.25]
    """
    nearest = np.round(mass)
    return np.where(np.abs(mass - nearest) < tolerance, nearest, mass).astype(np.float32)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_header(path: Path, expected: Sequence[str], layout: str) -> None:
    """Raise DataError unless the first line of ``path`` is exactly ``expected``."""
    header = read_csv_header(path)
    if header == list(expected):
        return
    wanted = ",".join(expected[:3]) + ",...," + ",".join(expected[-2:])
    fix = f"the first line of a {layout} file must be '{wanted}'"
    if all(_is_number(field) for field in header):
        raise DataError("missing header line", where=f"file {path}, line 1", fix=fix)
    missing = [name for name in expected if name not in header]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}", where=f"file {path}, header", fix=fix
        )
    raise DataError(
        f"wrong header: {len(header)} columns {header[:3]}... where {len(expected)} are expected",
        where=f"file {path}, line 1",
        fix=fix,
    )


def _read_layout(path: Path, columns: Sequence[str], layout: str) -> EventTable:
    check_header(path, columns, layout)
    numeric = [c for c in columns if c != "name"]
    types: dict[str, pa.DataType] = dict.fromkeys(numeric, pa.float32())
    if "name" in columns:
        types["name"] = pa.dictionary(pa.int32(), pa.string())
    label, has_weight = columns[0], "weight" in columns
    builder = TableBuilder(FEATURE_NAMES, source=str(path), columns={"label": label})
    # 10% headroom: then the arrays never grow and never copy.
    builder.reserve(int(1.1 * estimate_csv_rows(path)))
    for batch in csv_batches(path, column_names=columns, column_types=types):
        if "name" in columns:
            names = batch.column("name")
            process = (names.dictionary.to_pylist(), np.asarray(names.indices.fill_null(0)))
        else:
            is_background = batch.column(label).to_numpy(zero_copy_only=False) != 1
            process = (("signal", "ttbar"), is_background.astype(np.int8))
        builder.append(
            [batch.column(name).to_numpy(zero_copy_only=False) for name in FEATURE_NAMES],
            label=batch.column(label).to_numpy(zero_copy_only=False),
            mass=snap_masses(batch.column("mass").to_numpy(zero_copy_only=False)),
            weight=batch.column("weight").to_numpy(zero_copy_only=False) if has_weight else None,
            process=process,
        )
    return builder.finish()


def read_hepmass(path: str | os.PathLike[str], *, cache: bool = True) -> EventTable:
    r"""Read a published HEPMASS file (``.csv`` or ``.csv.gz``, header ``# label,f0..f26,mass``).

    Label 1 becomes process ``"signal"`` and label 0 ``"ttbar"``; weights are 1; masses
    are snapped as described in the module docstring. With ``cache`` the parsed table is
    kept in a Parquet file next to the source (see :mod:`hep_pnn.data.cache`).

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.csv"
        >>> row = ",".join(["0.5"] * 27)
        >>> _ = path.write_text(f"# label,{','.join(FEATURE_NAMES)},mass\n"
        ...                     f"1,{row},499.999969\n0,{row},1000.000000\n")
        >>> table = read_hepmass(path, cache=False)
        >>> table.mass.tolist(), table.processes()
        ([500.0, 1000.0], ['signal', 'ttbar'])
    """
    path = require_file(path)
    return cached_read(
        path, lambda: _read_layout(path, HEPMASS_COLUMNS, "HEPMASS"), kind="hepmass", enabled=cache
    )


def read_hepmass_imb(
    signal_path: str | os.PathLike[str],
    background_path: str | os.PathLike[str],
    *,
    cache: bool = True,
) -> EventTable:
    """Read the HEPMASS-IMB pair (columns ``type,f0..f26,mass,name,weight``).

    ``type`` is the label, ``name`` the process and ``weight`` is kept as given. Each
    file is cached on its own.
    """
    paths = (require_file(signal_path), require_file(background_path))
    return EventTable.concat([read_hepmass_imb_file(path, cache=cache) for path in paths])


def read_hepmass_imb_file(path: str | os.PathLike[str], *, cache: bool = True) -> EventTable:
    """Read one HEPMASS-IMB file (signal or background)."""
    path = require_file(path)
    return cached_read(
        path,
        lambda: _read_layout(path, IMB_COLUMNS, "HEPMASS-IMB"),
        kind="hepmass-imb",
        enabled=cache,
    )
