"""A short text summary of an event file, for ``pnn inspect``."""

from __future__ import annotations

import os

from hep_pnn.data.description import DataDescription, load_description
from hep_pnn.data.readers import read_events
from hep_pnn.data.table import EventTable

__all__ = ["describe_table", "summarize"]


def describe_table(table: EventTable) -> str:
    """Events, signal/background counts, signal masses and events per process.

    Example:
        >>> import numpy as np
        >>> table = EventTable.from_arrays(np.zeros((3, 1)), label=[1, 0, 0], mass=[500] * 3,
        ...                                process=["signal", "ttbar", "ttbar"])
        >>> print(describe_table(table))
        events: 3 (signal 1, background 2)
        features: 1 (f0)
        signal masses [GeV]: 500 (1)
        processes: signal 1, ttbar 2
    """
    signal = table.signal()
    masses = ", ".join(f"{m:g} ({len(signal.signal(m))})" for m in table.signal_masses)
    counts = [int((table.process == code).sum()) for code in range(len(table.process_names))]
    processes = ", ".join(
        f"{name} {count}" for name, count in zip(table.process_names, counts, strict=True) if count
    )
    names = list(table.feature_names)
    shown = ", ".join(names if len(names) <= 6 else [*names[:3], "...", *names[-2:]])
    return "\n".join(
        [
            f"events: {len(table)} (signal {len(signal)}, background {len(table) - len(signal)})",
            f"features: {table.n_features} ({shown})",
            f"signal masses [GeV]: {masses or 'none'}",
            f"processes: {processes}",
        ]
    )


def summarize(
    path: str | os.PathLike[str],
    *,
    description: str | os.PathLike[str] | DataDescription | None = None,
    cache: bool = True,
) -> str:
    """Read an event file (any supported layout) and return :func:`describe_table` of it."""
    if description is not None and not isinstance(description, DataDescription):
        description = load_description(description)
    return describe_table(read_events(path, description=description, cache=cache))
