"""Mass hypotheses for background events during training (``identical``, ``uniform``, ``copy``)."""

from __future__ import annotations

import numpy as np

from hep_pnn._random import SeedLike, as_generator
from hep_pnn.errors import ConfigError
from hep_pnn.training.config import BackgroundMassConfig

__all__ = ["BackgroundMasses"]


class BackgroundMasses:
    r"""Draws background masses following a :class:`BackgroundMassConfig`.

    Args:
        config: the strategy.
        signal_mass: masses of the training signal events (set and frequencies of the masses).
        n_events: length of the event table (for masses fixed ``once`` per event).
        seed: seed of the masses fixed ``once``.

    Example:
        >>> import numpy as np
        >>> masses = BackgroundMasses(BackgroundMassConfig(strategy="identical"),
        ...                           signal_mass=np.array([500.0, 500, 500, 1000]), n_events=4,
        ...                           seed=0)
        >>> draw = masses.draw(np.arange(4000) % 4, np.random.default_rng(1))
        >>> sorted(set(draw.tolist())), bool(abs((draw == 500).mean() - 0.75) < 0.03)
        ([500.0, 1000.0], True)
    """

    def __init__(
        self,
        config: BackgroundMassConfig,
        *,
        signal_mass: np.ndarray,
        n_events: int,
        seed: SeedLike,
    ) -> None:
        self.config = config
        signal_mass = np.asarray(signal_mass, dtype=np.float32)
        self.values, counts = np.unique(signal_mass, return_counts=True)
        if not len(self.values):
            raise ConfigError("no signal events to take background masses from", where="data")
        if config.identical_weighting == "frequency":
            self.probabilities = counts / counts.sum()
        else:
            self.probabilities = np.full(len(self.values), 1 / len(self.values))
        low, high = config.range or (float(self.values.min()), float(self.values.max()))
        self.range = (low, high)
        self.fixed: np.ndarray | None = None
        if config.strategy != "copy" and config.redraw == "once":
            self.fixed = self._fresh(n_events, as_generator(seed))

    @property
    def copies(self) -> int:
        """How many copies of each background event an epoch holds (``copy``: one per mass)."""
        return len(self.values) if self.config.strategy == "copy" else 1

    def _fresh(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.config.strategy == "uniform":
            return rng.uniform(*self.range, size=n).astype(np.float32)
        return rng.choice(self.values, size=n, p=self.probabilities).astype(np.float32)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` fresh masses from the strategy's distribution (``copy``: uniform over the set)."""
        if self.config.strategy == "copy":
            return rng.choice(self.values, size=n)
        return self._fresh(n, rng)

    def draw(
        self, event: np.ndarray, rng: np.random.Generator, *, copy: np.ndarray | None = None
    ) -> np.ndarray:
        """Masses for background ``event`` indices (``copy``: the copy number picks the mass)."""
        if self.config.strategy == "copy":
            if copy is None:
                raise ValueError("the copy strategy needs the copy number of every event")
            return self.values[copy]
        if self.fixed is not None:
            return self.fixed[event]
        return self._fresh(len(event), rng)
