"""Shared by every model kind: input checks, feature-name checks and batched inference."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import Tensor

from hep_pnn._denormals import calling_thread_flushes, flush_denormals
from hep_pnn._memory import keep_freed_memory
from hep_pnn.errors import DataError, ModelError

__all__ = ["as_inputs", "batched", "check_feature_names", "inference_threads"]

#: Threads used by ``predict`` (the machines this targets have 2 cores).
INFERENCE_THREADS = 2


def inference_threads(n: int = INFERENCE_THREADS) -> contextlib.AbstractContextManager[None]:
    """Run a block with ``n`` torch threads (default 2), restoring the previous count after."""
    return torch_threads(n)


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run a block with ``n`` torch threads, restoring the previous count after.

    Denormal floats are flushed to zero in those threads (:mod:`hep_pnn._denormals`):
    every training and scoring path runs inside this block. The calling thread's own mode
    is restored on exit.
    """
    previous = torch.get_num_threads()
    was_flushing = calling_thread_flushes()
    torch.set_num_threads(n)
    flush_denormals()
    try:
        yield
    finally:
        torch.set_num_threads(previous)
        if not was_flushing:
            torch.set_flush_denormal(False)  # the calling thread only; the pool keeps it


def _shortlist(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


def check_feature_names(expected: Sequence[str], given: Sequence[str]) -> None:
    """Raise :class:`ModelError` naming missing, extra or reordered features.

    Example:
        >>> check_feature_names(["a", "b"], ["b", "a"])
        Traceback (most recent call last):
        ...
        hep_pnn.errors.ModelError: feature check: features are in a different order: position 0 is 'b', the model expects 'a' (select the model's columns in its order: a, b)
    """  # noqa: E501
    expected, given = list(expected), list(given)
    if expected == given:
        return
    missing = [name for name in expected if name not in given]
    extra = [name for name in given if name not in expected]
    if missing or extra:
        parts = [f"the model expects {len(expected)} features, the data has {len(given)}"]
        if missing:
            parts.append(f"missing: {_shortlist(missing)}")
        if extra:
            parts.append(f"not used by the model: {_shortlist(extra)}")
        what = "; ".join(parts)
    else:
        position = next(i for i, (a, b) in enumerate(zip(expected, given, strict=True)) if a != b)
        what = (
            f"features are in a different order: position {position} is {given[position]!r}, "
            f"the model expects {expected[position]!r}"
        )
    raise ModelError(
        what,
        where="feature check",
        fix=f"select the model's columns in its order: {_shortlist(expected)}",
    )


def as_inputs(
    features: np.ndarray, mass: np.ndarray | float | None, *, n_features: int, needs_mass: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate and convert ``predict`` inputs to float32 arrays (a scalar mass is broadcast)."""
    x = np.asarray(features, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != n_features:
        raise DataError(
            f"features have shape {x.shape}, the model expects (n, {n_features})",
            where="predict(features)",
            fix="pass one row per event and one column per model feature",
        )
    if mass is None:
        if needs_mass:
            raise DataError(
                "this model needs the mass hypothesis of every event",
                where="predict(mass)",
                fix="pass mass=... (an array with one value per event, or one number)",
            )
        return x, None
    m = np.asarray(mass, dtype=np.float32)
    if m.ndim == 0:
        m = np.full(x.shape[0], m, dtype=np.float32)
    if m.shape != (x.shape[0],):
        raise DataError(
            f"mass has shape {m.shape}, expected ({x.shape[0]},) to match the features",
            where="predict(mass)",
            fix="pass one mass per event, or a single number",
        )
    return x, m


def batched(
    function: Callable[[Tensor, Tensor | None], Tensor],
    features: np.ndarray,
    mass: np.ndarray | None,
    *,
    batch_size: int,
) -> np.ndarray:
    """Apply ``function`` to consecutive batches without gradients and stack the results."""
    if batch_size < 1:
        raise DataError(
            f"batch_size is {batch_size}", where="predict(batch_size)", fix="use a positive size"
        )
    # torch wants writable memory; pandas 3 hands out read-only views.
    features = features if features.flags.writeable else features.copy()
    mass = mass if mass is None or mass.flags.writeable else mass.copy()
    outputs = []
    keep_freed_memory()
    with torch.inference_mode(), inference_threads():
        # One call even for zero events, so the result keeps its trailing shape.
        for start in range(0, max(features.shape[0], 1), batch_size):
            stop = start + batch_size
            m = None if mass is None else torch.from_numpy(mass[start:stop])
            outputs.append(function(torch.from_numpy(features[start:stop]), m).numpy())
    return np.concatenate(outputs)
