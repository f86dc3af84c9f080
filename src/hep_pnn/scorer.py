"""The one thing every trained model is to the rest of the package: a :class:`Scorer`.

It lives here, outside ``training`` and ``evaluation``, so both can name it without
importing each other.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Scorer"]


@runtime_checkable
class Scorer(Protocol):
    """What evaluation and ``pnn apply`` need from a trained model: a score per event at a mass.

    Example:
        >>> class Constant:
        ...     def predict(self, features, mass):
        ...         return np.full(len(features), 0.5)
        >>> isinstance(Constant(), Scorer)
        True
    """

    def predict(self, features: np.ndarray, mass: np.ndarray) -> np.ndarray: ...
