"""Mass hypotheses for background events during training (strategies: ``mass_strategies``)."""

from __future__ import annotations

import numpy as np

from hep_pnn._random import SeedLike, as_generator
from hep_pnn.errors import ConfigError
from hep_pnn.training.config import BackgroundMassConfig
from hep_pnn.training.mass_strategies import MASS_STRATEGIES

__all__ = ["BackgroundMasses"]


class BackgroundMasses:
    r"""Draws background masses following a :class:`BackgroundMassConfig`.

    Args:
        config: the strategy.
        signal_mass: masses of the training signal events (set and frequencies of the masses).
        n_events: length of the event table (for masses fixed ``once`` per event).
        seed: seed of the masses fixed ``once``.
        signal_weight: how much each of those signal events counts in the training loss as
            the sampler presents it; ``identical_weighting: sampler`` draws each mass in
            proportion to its total (default: every event counts once, i.e. the frequencies).
            The trainer passes equal totals per mass for balanced batches and the normalised
            training weights for plain ones, so the mass alone never tells signal from
            background.

    Example:
        >>> import numpy as np
        >>> masses = BackgroundMasses(BackgroundMassConfig(strategy="identical"),
        ...                           signal_mass=np.array([500.0, 500, 500, 1000]), n_events=4,
        ...                           seed=0)
        >>> draw = masses.draw(np.arange(4000) % 4, np.random.default_rng(1))
        >>> sorted(set(draw.tolist())), bool(abs((draw == 500).mean() - 0.75) < 0.03)
        ([500.0, 1000.0], True)
        >>> balanced = BackgroundMasses(BackgroundMassConfig(strategy="identical"),
        ...                             signal_mass=np.array([500.0, 500, 500, 1000]),
        ...                             signal_weight=np.array([1 / 3, 1 / 3, 1 / 3, 1]),
        ...                             n_events=4, seed=0)
        >>> balanced.probabilities.tolist()
        [0.5, 0.5]
    """

    def __init__(
        self,
        config: BackgroundMassConfig,
        *,
        signal_mass: np.ndarray,
        n_events: int,
        seed: SeedLike,
        signal_weight: np.ndarray | None = None,
    ) -> None:
        self.config = config
        signal_mass = np.asarray(signal_mass, dtype=np.float32)
        self.values, code, counts = np.unique(signal_mass, return_inverse=True, return_counts=True)
        if not len(self.values):
            raise ConfigError("no signal events to take background masses from", where="data")
        if config.identical_weighting == "uniform":
            self.probabilities = np.full(len(self.values), 1 / len(self.values))
        elif config.identical_weighting == "frequency" or signal_weight is None:
            self.probabilities = counts / counts.sum()
        else:
            self.probabilities = _shares(code.reshape(-1), signal_weight, len(self.values))
        low, high = config.range or (float(self.values.min()), float(self.values.max()))
        self.range = (low, high)
        self.strategy = MASS_STRATEGIES[config.strategy](
            self.values, self.probabilities, self.range
        )
        self.fixed: np.ndarray | None = None
        if not self.strategy.one_copy_per_mass and config.redraw == "once":
            self.fixed = self.strategy.fresh(n_events, as_generator(seed))

    @property
    def copies(self) -> int:
        """How many copies of each background event an epoch holds (``copy``: one per mass)."""
        return len(self.values) if self.strategy.one_copy_per_mass else 1

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` fresh masses from the strategy's distribution (``copy``: uniform over the set)."""
        return self.strategy.fresh(n, rng)

    def draw(
        self, event: np.ndarray, rng: np.random.Generator, *, copy: np.ndarray | None = None
    ) -> np.ndarray:
        """Masses for background ``event`` indices (``copy``: the copy number picks the mass)."""
        if self.strategy.one_copy_per_mass:
            if copy is None:
                raise ValueError("the copy strategy needs the copy number of every event")
            return self.values[copy]
        if self.fixed is not None:
            return self.fixed[event]
        return self.strategy.fresh(len(event), rng)


def _shares(code: np.ndarray, weight: np.ndarray, n: int) -> np.ndarray:
    """Each mass's share of the total ``weight`` of the signal events (mass index ``code``)."""
    totals = np.bincount(code, weights=np.asarray(weight, dtype=np.float64), minlength=n)
    if (totals <= 0).any():
        raise ConfigError(
            "a signal mass has a total training weight ≤ 0, so background masses cannot "
            "follow the signal mass distribution",
            where="training.background_mass.identical_weighting",
            fix="check the event weights, or set identical_weighting: uniform or frequency",
        )
    return totals / totals.sum()
