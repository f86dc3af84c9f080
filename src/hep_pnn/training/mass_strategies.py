"""Background-mass strategies: how a background event gets a mass hypothesis in training.

One class per strategy in :data:`MASS_STRATEGIES`, looked up by the name in
``training.background_mass.strategy``; adding one is a class and a
:func:`register_mass_strategy` line (docs/architecture.md).

References:
    Baldi et al., EPJC 76 (2016) 235, arXiv:1601.07913 (background at random signal masses);
    Anzalone, Diotalevi, Bonacorsi, MLST 3 (2022) 035017, arXiv:2202.00424 (identical vs
    uniform assignment); CMS HIG-21-002 (every background event at every mass).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

__all__ = [
    "MASS_STRATEGIES",
    "Copy",
    "Identical",
    "MassStrategy",
    "Uniform",
    "register_mass_strategy",
]


class MassStrategy:
    """Draws background masses from the training signal masses.

    Args:
        values: the distinct training signal masses (float32, sorted).
        probabilities: how often each is drawn (``identical_weighting``).
        mass_range: ``(low, high)`` for continuous strategies.

    ``one_copy_per_mass``: every background event appears once per signal mass in an epoch,
    its weight divided by their number, and the copy number picks the mass (``copy``).
    """

    one_copy_per_mass: ClassVar[bool] = False

    def __init__(
        self, values: np.ndarray, probabilities: np.ndarray, mass_range: tuple[float, float]
    ) -> None:
        self.values, self.probabilities, self.range = values, probabilities, mass_range

    def fresh(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` masses from the strategy's distribution (float32)."""
        raise NotImplementedError


class Identical(MassStrategy):
    """A signal mass, drawn with ``probabilities`` (the signal's as the sampler feeds it).

    Example:
        >>> s = Identical(np.float32([500, 1000]), np.array([0.5, 0.5]), (500.0, 1000.0))
        >>> sorted(set(s.fresh(100, np.random.default_rng(0)).tolist()))
        [500.0, 1000.0]
    """

    def fresh(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.choice(self.values, size=n, p=self.probabilities).astype(np.float32)


class Uniform(MassStrategy):
    """Uniform in ``range`` (default: the signal mass range).

    Example:
        >>> s = Uniform(np.float32([500, 1000]), np.array([0.5, 0.5]), (600.0, 900.0))
        >>> bool((s.fresh(100, np.random.default_rng(0)) >= 600).all())
        True
    """

    def fresh(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(*self.range, size=n).astype(np.float32)


class Copy(MassStrategy):
    """Every background event at every signal mass (one copy each); fresh draws, used to fit
    the preprocessing, are uniform over the masses.

    Example:
        >>> Copy.one_copy_per_mass
        True
    """

    one_copy_per_mass = True

    def fresh(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.choice(self.values, size=n)


#: Strategy name → class (``training.background_mass.strategy``).
MASS_STRATEGIES: dict[str, type[MassStrategy]] = {}


def register_mass_strategy(name: str, strategy: type[MassStrategy]) -> type[MassStrategy]:
    """Make ``strategy`` available as ``training.background_mass.strategy: name``."""
    if name in MASS_STRATEGIES:
        raise ValueError(f"a background-mass strategy named {name!r} exists already")
    MASS_STRATEGIES[name] = strategy
    return strategy


for _name, _strategy in (("identical", Identical), ("uniform", Uniform), ("copy", Copy)):
    register_mass_strategy(_name, _strategy)
