"""``load_jets``: jets from the reference HDF5 files or from hep-pnn's Parquet, by suffix.

The public top-tagging files (``train.h5``, ``val.h5``, ``test.h5``) are pandas data
frames under the key ``table``: columns ``E_i, PX_i, PY_i, PZ_i`` for i < 200 and
``is_signal_new``. They are read with PyTables through pandas, in blocks of rows, and their
jet features are computed from the constituents (:mod:`hep_pnn.data.jets.substructure`).
Parquet files written by :func:`~hep_pnn.data.jets.layout.write_jets_parquet` carry the
features; any other Parquet file with the layout's columns gets them computed.

A new format is one reader function registered with :func:`register_jet_reader`.

References:
    Kasieczka et al., "The Machine Learning Landscape of Top Taggers", arXiv:1902.09914.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hep_pnn.data.chunks import require_file
from hep_pnn.data.jets.layout import LABEL_COLUMN, constituent_columns, constituents_from_frame
from hep_pnn.data.jets.sample import JET_FEATURES, JetSample
from hep_pnn.data.jets.substructure import jet_features
from hep_pnn.errors import DataError, PNNError

__all__ = ["JET_READERS", "load_jets", "register_jet_reader"]

JetReader = Callable[[Path, int | None, Sequence[str]], JetSample]
JET_READERS: dict[str, JetReader] = {}
"""Reader of each file suffix: ``reader(path, max_jets, columns) -> JetSample``."""

_BLOCK_ROWS = 50_000


def register_jet_reader(*suffixes: str) -> Callable[[JetReader], JetReader]:
    """Register a reader for files ending in ``suffixes`` (lower case, with the dot)."""

    def decorate(reader: JetReader) -> JetReader:
        for suffix in suffixes:
            JET_READERS[suffix] = reader
        return reader

    return decorate


def _labels(values: np.ndarray, source: str) -> np.ndarray:
    bad = ~np.isin(values, (0, 1))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"label {values[row].item()!r} is not 0 or 1",
            where=f"file {source}, row {row}, column {LABEL_COLUMN}",
            fix="use 1 for top jets and 0 for QCD jets",
        )
    return values.astype(np.int8)


def _check_not_empty(constituents: np.ndarray, source: str, offset: int) -> None:
    empty = constituents[:, 0, 0] <= 0
    if empty.any():
        raise DataError(
            "jet without constituents (E_0 is 0)",
            where=f"file {source}, row {offset + int(np.flatnonzero(empty)[0])}",
            fix="drop jets without constituents",
        )


def _missing_column(name: str, source: str) -> DataError:
    return DataError(
        f"no jet-level column {name!r}",
        where=f"file {source}",
        fix="add the column to the jet file or choose another data.parameter",
    )


def _sample_from_blocks(
    blocks: Iterator[pd.DataFrame], source: str, columns: Sequence[str] = ()
) -> JetSample:
    """One JetSample from frames with the layout's columns, computing missing features;
    the jet-level ``columns`` are added to the features as they are in the file."""
    parts: list[JetSample] = []
    offset = 0
    for frame in blocks:
        if LABEL_COLUMN not in frame.columns:
            raise DataError(
                f"no {LABEL_COLUMN} column",
                where=f"file {source}",
                fix="the top-tagging layout labels jets in is_signal_new (1 = top)",
            )
        for name in columns:
            if name not in frame.columns and name not in JET_FEATURES:
                raise _missing_column(name, source)
        constituents = constituents_from_frame(frame, source=source)
        _check_not_empty(constituents, source, offset)
        if all(name in frame.columns for name in JET_FEATURES):
            features = frame[list(JET_FEATURES)].reset_index(drop=True)
        else:
            features = jet_features(constituents)
        extra = [c for c in columns if c not in features.columns]
        if extra:
            extra_values = frame[extra].reset_index(drop=True)
            features = pd.concat([features.reset_index(drop=True), extra_values], axis=1)
        labels = _labels(frame[LABEL_COLUMN].to_numpy(), source)
        parts.append(JetSample(constituents, labels, features))
        offset += len(frame)
    if not parts:
        raise DataError(
            "the file holds no jets", where=f"file {source}", fix="use a non-empty file"
        )
    features = pd.concat([p.features for p in parts], ignore_index=True)
    return JetSample(
        np.concatenate([p.constituents for p in parts]),
        np.concatenate([p.labels for p in parts]),
        features.astype({"n_constituents": np.int32}),
    )


def _hdf_key(store: pd.HDFStore, source: str) -> str:
    keys = [key for key in store.keys() if key != "/"]
    if "/table" in keys:
        return "/table"
    if len(keys) == 1:
        return keys[0]
    raise DataError(
        f"no pandas frame under the key 'table' (keys: {keys[:6]})",
        where=f"file {source}",
        fix="use the top-tagging reference files (train.h5, val.h5, test.h5)",
    )


@register_jet_reader(".h5", ".hdf5", ".hdf")
def read_reference_hdf5(path: Path, max_jets: int | None, columns: Sequence[str] = ()) -> JetSample:
    """Read a top-tagging reference file (pandas frame in HDF5), ``max_jets`` at most."""
    try:
        import tables  # noqa: F401  (pandas needs it; a clear message if absent)
    except ImportError:
        raise PNNError(
            "reading HDF5 jet files needs PyTables",
            where=f"file {path}",
            fix="pip install tables (or hep-pnn[jets])",
        ) from None
    source = str(path)
    try:
        store = pd.HDFStore(path, mode="r")
    except Exception as err:  # PyTables raises HDF5ExtError, OSError, ValueError, ...
        # PyTables' message is the whole HDF5 error stack: keep one line
        raise DataError(
            f"not an HDF5 file ({type(err).__name__})",
            where=f"file {source}",
            fix="use a top-tagging reference file or a .parquet jet file",
        ) from None
    with store:
        key = _hdf_key(store, source)
        storer = store.get_storer(key)
        rows = int(storer.nrows if storer.is_table else storer.shape[0])
        rows = rows if max_jets is None else min(rows, max_jets)
        blocks = (
            store.select(key, start=start, stop=min(start + _BLOCK_ROWS, rows))
            for start in range(0, rows, _BLOCK_ROWS)
        )
        return _sample_from_blocks(blocks, source, columns)


@register_jet_reader(".parquet", ".pq")
def read_jets_parquet(path: Path, max_jets: int | None, columns: Sequence[str] = ()) -> JetSample:
    """Read jets from Parquet in the top-tagging layout (with or without the features)."""
    source = str(path)
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as err:
        raise DataError(f"not a Parquet file: {err}", where=f"file {source}") from None
    available = set(parquet.schema_arrow.names)
    standard = (*constituent_columns(), LABEL_COLUMN, *JET_FEATURES)
    wanted = [c for c in standard if c in available]
    wanted += [c for c in dict.fromkeys(columns) if c in available and c not in wanted]

    def blocks() -> Iterator[pd.DataFrame]:
        read = 0
        for batch in parquet.iter_batches(batch_size=_BLOCK_ROWS, columns=wanted):
            frame = batch.to_pandas()
            if max_jets is not None:
                frame = frame.iloc[: max_jets - read]
            read += len(frame)
            yield frame
            if max_jets is not None and read >= max_jets:
                return

    return _sample_from_blocks(blocks(), source, columns)


def load_jets(
    path: str | os.PathLike[str], *, max_jets: int | None = None, columns: Sequence[str] = ()
) -> JetSample:
    """Read jets from ``path``, choosing the reader by the file suffix (:data:`JET_READERS`).

    Args:
        path: a reference ``.h5`` file or a ``.parquet`` file written by hep-pnn.
        max_jets: read only the first ``max_jets`` jets.
        columns: jet-level columns of the file to keep among the features besides the
            standard ones (e.g. ``zprime_mass``); a missing one is a :class:`DataError`.

    Example:
        >>> load_jets("jets.csv")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        hep_pnn.errors.DataError: file jets.csv: not a jet file ...
    """
    path = Path(path)
    reader = JET_READERS.get(path.suffix.lower())
    if reader is None:
        raise DataError(
            f"not a jet file (suffix {path.suffix or 'none'!r})",
            where=f"file {path}",
            fix=f"use one of {', '.join(sorted(JET_READERS))}",
        )
    return reader(require_file(path), max_jets, tuple(columns))
