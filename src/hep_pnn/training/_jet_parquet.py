"""A minimal reader of jet Parquet files in the top-tagging layout, used while
:func:`hep_pnn.data.jets.load_jets` is not available (it replaces this module)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from hep_pnn.data.jets.sample import MAX_CONSTITUENTS, JetSample
from hep_pnn.errors import DataError

__all__ = ["jet_frame", "read_jet_parquet"]

_COMPONENTS = ("E", "PX", "PY", "PZ")
_LABEL = "is_signal_new"


def read_jet_parquet(path: str | os.PathLike[str]) -> JetSample:
    """Columns ``E_i, PX_i, PY_i, PZ_i`` (i < 200) and ``is_signal_new``; every other
    column becomes a jet-level feature."""
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read jets ({err})", where=str(path)) from None
    names = [f"{c}_{i}" for i in range(MAX_CONSTITUENTS) for c in _COMPONENTS]
    missing = [n for n in (_LABEL, *names[:4]) if n not in frame.columns]
    if missing:
        raise DataError(
            f"not a jet file in the top-tagging layout (no {missing[0]} column)",
            where=str(path),
            fix="write it with pnn generate --process top-tagging",
        )
    present = [n for n in names if n in frame.columns]
    values = frame[present].to_numpy(np.float32).reshape(len(frame), -1, 4)
    constituents = np.zeros((len(frame), MAX_CONSTITUENTS, 4), np.float32)
    constituents[:, : values.shape[1]] = values
    bad = ~np.isfinite(constituents).all(axis=(1, 2))
    if bad.any():
        raise DataError(
            "non-finite constituent momenta",
            where=f"{path}, row {int(np.flatnonzero(bad)[0])}",
            fix="remove or regenerate these jets",
        )
    labels = frame[_LABEL].to_numpy()
    if not np.isin(labels, (0, 1)).all():
        raise DataError(f"{_LABEL} must be 0 or 1", where=str(path), fix="fix the labels")
    features = frame.drop(columns=[*present, _LABEL]).reset_index(drop=True)
    return JetSample(constituents, labels.astype(np.int8), features)


def jet_frame(jets: JetSample) -> pd.DataFrame:
    """``jets`` as one table in the layout :func:`read_jet_parquet` reads.

    Example:
        >>> from hep_pnn.data.jets.toy import toy_jets
        >>> frame = jet_frame(toy_jets(1, 1, seed=0))
        >>> frame.shape, list(frame.columns[:2]), "is_signal_new" in frame
        ((2, 807), ['E_0', 'PX_0'], True)
    """
    n, m, _ = jets.constituents.shape
    names = [f"{c}_{i}" for i in range(m) for c in _COMPONENTS]
    constituents = pd.DataFrame(jets.constituents.reshape(n, m * 4), columns=names)
    labels = pd.DataFrame({_LABEL: jets.labels})
    return pd.concat([constituents, labels, jets.features.reset_index(drop=True)], axis=1)
