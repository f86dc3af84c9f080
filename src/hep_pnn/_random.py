"""Explicit randomness: every random choice takes a seed or a generator."""

from __future__ import annotations

import numpy as np

__all__ = ["SeedLike", "as_generator", "child_seed", "spawn"]

SeedLike = int | np.random.Generator | np.random.SeedSequence


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Return a numpy ``Generator`` for ``seed`` (an int, a SeedSequence or a Generator).

    Example:
        >>> bool(as_generator(1).integers(10) == as_generator(1).integers(10))
        True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer | np.random.SeedSequence):
        raise TypeError(
            f"seed must be an int, SeedSequence or numpy Generator, not {type(seed).__name__}"
        )
    return np.random.default_rng(seed)


def spawn(seed: int | np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """Independent child seed sequences, stable for a given ``seed`` and ``n``."""
    sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return sequence.spawn(n)


def child_seed(seed: int, *key: int) -> int:
    """An integer seed for the stream ``key`` under ``seed``, independent of the others.

    Example:
        >>> child_seed(0, 4) == child_seed(0, 4) != child_seed(0, 5)
        True
    """
    return int(np.random.SeedSequence(seed, spawn_key=key).generate_state(1)[0])
