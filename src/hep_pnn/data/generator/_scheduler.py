r"""Which blocks of which samples run next: a bounded window in flight, taken in order.

The generator fills samples one after the other, each from consecutive blocks of 4,096
generated events, until it has its count of selected events. :class:`BlockQueue` keeps
up to ``window`` blocks running in a thread pool: first the blocks the current sample is
still expected to need (from its selection efficiency so far), then the first blocks of
the following samples — only as many as they surely need (one block yields at most 4,096
selected events) — so the threads do not wait at a sample boundary and no block is
simulated for nothing but the few the current sample may overshoot by.

Example:
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(2) as pool:
    ...     queue = BlockQueue(pool, lambda s, b: (s, b), sizes=[10, 20], block=8, window=3)
    ...     queue.top_up(0, still_needed=10, efficiency=1.0)
    ...     queue.take(0), queue.take(0), queue.take(1)
    ((0, (0, 0)), (1, (0, 1)), (0, (1, 0)))
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from typing import Any

__all__ = ["BlockQueue"]


class BlockQueue:
    """Blocks of samples ``0 … len(sizes) - 1`` submitted to ``pool`` as ``run(sample,
    block)``, at most ``window`` at a time; ``sizes`` are the selected events wanted, and
    ``discard`` receives the results of blocks run but not needed."""

    def __init__(
        self,
        pool: Executor,
        run: Callable[[int, int], Any],
        *,
        sizes: Sequence[int],
        block: int,
        window: int,
        discard: Callable[[Any], None] | None = None,
    ) -> None:
        self._pool, self._run, self._block, self._window = pool, run, block, window
        self._discard = discard
        self._sure = [math.ceil(size / block) for size in sizes]
        self._pending: list[deque[tuple[int, Future[Any]]]] = [deque() for _ in sizes]
        self._next = [0] * len(sizes)

    def _in_flight(self) -> int:
        return sum(len(pending) for pending in self._pending)

    def _submit(self, sample: int) -> None:
        index = self._next[sample]
        self._pending[sample].append((index, self._pool.submit(self._run, sample, index)))
        self._next[sample] += 1

    def top_up(self, sample: int, *, still_needed: int, efficiency: float) -> None:
        """Fill the window: blocks of ``sample`` until those in flight are expected to
        yield ``still_needed`` events at ``efficiency`` (always at least one), then the
        first blocks of the following samples."""
        per_block = self._block * max(efficiency, 1e-3)
        expected = len(self._pending[sample]) * per_block
        while not self._pending[sample] or (
            self._in_flight() < self._window and expected < still_needed
        ):
            self._submit(sample)
            expected += per_block
        later = sample + 1
        while self._in_flight() < self._window and later < len(self._sure):
            if self._next[later] < self._sure[later]:
                self._submit(later)
            else:
                later += 1

    def take(self, sample: int) -> tuple[int, Any]:
        """The next block of ``sample`` (its index and result), waiting for it."""
        index, future = self._pending[sample].popleft()
        return index, future.result()

    def finish(self, sample: int) -> None:
        """Drop the blocks of ``sample`` still in flight (it has all its events); those
        already running are handed to ``discard`` when they end."""
        for _, future in self._pending[sample]:
            if not future.cancel() and self._discard is not None:
                future.add_done_callback(self._drop)
        self._pending[sample].clear()

    def _drop(self, future: Future[Any]) -> None:
        discard = self._discard  # set: finish() adds this callback only then
        if discard is not None and future.exception() is None:
            discard(future.result())
