"""Writers for Parquet, HEPMASS CSV, HEPMASS-IMB CSV and ROOT; all atomic, none overwrite.

:func:`hep_pnn.data.formats.write_events` picks one of them by the file ending.

Every writer writes to a temporary file next to the target and renames it into place,
and refuses an existing target unless ``overwrite=True``.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np

from hep_pnn._io import atomic_path, check_writable
from hep_pnn.data._csv import format_rows
from hep_pnn.data.hepmass import HEPMASS_COLUMNS, IMB_COLUMNS
from hep_pnn.data.native import write_parquet
from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ROOT_METADATA_KEY",
    "write_hepmass_csv",
    "write_hepmass_imb",
    "write_parquet",
    "write_root",
]

#: Name of the TObjString holding feature and process names in ROOT files we write.
ROOT_METADATA_KEY = "hep_pnn"
_CHUNK_ROWS = 100_000


def _open_text(target: Path, tmp: Path) -> IO[str]:
    """Open the temporary file ``tmp``, gzip-compressed if the final ``target`` ends in .gz.

    Level 1: HEPMASS-like CSV text compresses at ≈ 40 MB/s to 2.4× smaller, against
    ≈ 9 MB/s and 2.8× at gzip's default 6 (docs/benchmarks.md); any level reads the same.
    """
    if target.suffix == ".gz":
        return gzip.open(tmp, "wt", compresslevel=1, encoding="utf-8", newline="\n")
    return open(tmp, "w", encoding="utf-8", newline="\n")


def _check_hepmass_features(table: EventTable, layout: str) -> None:
    if table.feature_names != tuple(HEPMASS_COLUMNS[1:-1]):
        raise ConfigError(
            f"the {layout} layout needs features f0..f26, the table has "
            f"{list(table.feature_names)[:4]}...",
            where="table",
            fix="write it with write_parquet or write_root instead",
        )


def write_hepmass_csv(
    table: EventTable, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write ``table`` in the published HEPMASS layout (``# label,f0..f26,mass``, ``%.6f``).

    The file is gzip-compressed when ``path`` ends in ``.gz``. Weights and process names
    are not part of this layout and are dropped; a NaN mass is written as ``nan``.

    Example:
        >>> import numpy as np, pathlib, tempfile
        >>> from hep_pnn.data.hepmass import read_hepmass
        >>> table = EventTable.from_arrays(np.ones((2, 27)), label=[1, 0], mass=[500, 750],
        ...                                process=["signal", "ttbar"])
        >>> path = write_hepmass_csv(table, pathlib.Path(tempfile.mkdtemp()) / "t.csv.gz")
        >>> read_hepmass(path, cache=False).mass.tolist()
        [500.0, 750.0]
    """
    _check_hepmass_features(table, "HEPMASS")
    target = Path(path)
    with atomic_path(target, overwrite=overwrite) as tmp, _open_text(target, tmp) as stream:
        stream.write(",".join(HEPMASS_COLUMNS) + "\n")
        for start in range(0, len(table), _CHUNK_ROWS):
            rows = slice(start, start + _CHUNK_ROWS)
            block = np.column_stack([table.label[rows], table.features[rows], table.mass[rows]])
            stream.write(format_rows(block))
    return target


def _imb_frame(table: EventTable) -> pd.DataFrame:
    frame = table.to_pandas()
    frame.insert(0, "type", frame.pop("label"))
    frame["name"] = frame.pop("process").astype(str)
    frame["weight"] = frame.pop("weight")
    return frame[list(IMB_COLUMNS)]


def write_hepmass_imb(
    table: EventTable,
    signal_path: str | os.PathLike[str],
    background_path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
) -> tuple[Path, Path]:
    """Write the HEPMASS-IMB pair: signal rows to ``signal_path``, background to the other.

    Columns ``type,f0..f26,mass,name,weight``; ``name`` is the process name.
    """
    _check_hepmass_features(table, "HEPMASS-IMB")
    targets = (Path(signal_path), Path(background_path))
    for target in targets:  # refuse before writing either file
        check_writable(target, overwrite=overwrite)
    for target, part in zip(targets, (table.signal(), table.background()), strict=True):
        with atomic_path(target, overwrite=overwrite) as tmp, _open_text(target, tmp) as stream:
            _imb_frame(part).to_csv(stream, index=False, lineterminator="\n")
    return targets


def write_root(
    table: EventTable,
    path: str | os.PathLike[str],
    *,
    tree: str = "events",
    overwrite: bool = False,
) -> Path:
    """Write ``table`` as a ROOT TTree (one branch per column) with uproot.

    ``process`` is stored as integer codes; the feature and process names go in a
    ``hep_pnn`` TObjString, so :func:`~hep_pnn.data.read_events` reads the file back as is.
    """
    import uproot

    branches = {name: table.features[:, j] for j, name in enumerate(table.feature_names)}
    branches.update(label=table.label, mass=table.mass, weight=table.weight, process=table.process)
    names = {"features": list(table.feature_names), "processes": list(table.process_names)}
    with atomic_path(path, overwrite=overwrite) as tmp, uproot.recreate(tmp) as file:
        # mktree: assigning a dict would write an RNTuple, not the TTree analyses expect.
        output = file.mktree(tree, {name: values.dtype for name, values in branches.items()})
        for start in range(0, len(table), _CHUNK_ROWS):
            rows = slice(start, start + _CHUNK_ROWS)
            output.extend({name: np.ascontiguousarray(v[rows]) for name, v in branches.items()})
        file[ROOT_METADATA_KEY] = json.dumps(names)
    return Path(path)
