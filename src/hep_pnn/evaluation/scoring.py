"""Turn a scorer or precomputed scores into per-mass samples: signal at m against background at m.

Every evaluation function accepts either a *scorer* (an object with
``predict(features, mass)``, or a plain callable ``f(features, mass)``) or precomputed
scores, so a BDT or an external model can be compared with a pNN:

* a 1-D array with one score per event of the table (a mass-independent model, or
  background scored once at its assigned mass), or
* a mapping ``{mass: array}`` giving, for each hypothesis ``m``, the score of every event
  of the table when scored at ``m``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hep_pnn.data.table import EventTable
from hep_pnn.errors import DataError
from hep_pnn.scorer import Scorer

__all__ = [
    "ExtrapolationWarning",
    "MassSample",
    "Scorer",
    "ScoresLike",
    "check_mass_range",
    "feature_matrix",
    "mass_samples",
    "mass_tuple",
    "score_table",
]


ScoresLike = Scorer | Callable[..., Any] | np.ndarray | Mapping[float, np.ndarray]


class ExtrapolationWarning(UserWarning):
    """A mass hypothesis outside the range of masses the model was trained on."""


@dataclass(frozen=True)
class MassSample:
    """The events that enter the metrics at one mass hypothesis.

    Attributes:
        mass: the hypothesis in GeV.
        score: classifier output of every event (background scored at ``mass``).
        label: 1 for signal, 0 for background.
        weight: event weights.
    """

    mass: float
    score: np.ndarray
    label: np.ndarray
    weight: np.ndarray

    @property
    def is_signal(self) -> np.ndarray:
        return self.label == 1


def feature_matrix(scorer: Any, table: EventTable, *, where: str = "evaluation data") -> np.ndarray:
    """The table's columns in the scorer's feature order; a clear error naming missing ones."""
    names = getattr(scorer, "feature_names", None)
    if names is None or tuple(names) == table.feature_names:
        return table.features
    missing = [name for name in names if name not in table.feature_names]
    if missing:
        raise DataError(
            f"the data lacks {len(missing)} feature(s) the model needs: {', '.join(missing)}",
            where=where,
            fix="pass data with the model's feature columns "
            f"({', '.join(names[:5])}{', …' if len(names) > 5 else ''})",
        )
    return table.features[:, [table.feature_names.index(name) for name in names]]


def score_table(scorer: Scorer | Callable[..., Any], table: EventTable) -> np.ndarray:
    """Scores of every event of ``table`` at its own mass column.

    Example:
        >>> import numpy as np
        >>> t = EventTable.from_arrays(np.array([[1.0], [3.0]]), label=[1, 0], mass=[1, 1])
        >>> score_table(lambda x, m: x[:, 0] - m, t).tolist()
        [0.0, 2.0]
    """
    features = feature_matrix(scorer, table)
    predict = scorer.predict if isinstance(scorer, Scorer) else scorer
    scores = np.asarray(predict(features, table.mass), dtype=np.float64).reshape(-1)
    if scores.shape != (len(table),):
        raise DataError(
            f"the model returned {scores.shape[0]} scores for {len(table)} events",
            where="model output",
            fix="the scorer must return one score per event",
        )
    return scores


def mass_tuple(masses: Iterable[float] | None) -> tuple[float, ...]:
    """Masses as a tuple of floats (``None`` gives an empty tuple)."""
    return () if masses is None else tuple(float(m) for m in np.asarray(masses).reshape(-1))


def check_mass_range(masses: Iterable[float], training_masses: Iterable[float] | None) -> None:
    """Warn (:class:`ExtrapolationWarning`) about masses outside the trained range."""
    trained = np.asarray(mass_tuple(training_masses), dtype=float)
    if trained.size == 0:
        return
    low, high = trained.min(), trained.max()
    outside = [float(m) for m in masses if m < low or m > high]
    if outside:
        listed = ", ".join(f"{m:g}" for m in outside)
        warnings.warn(
            f"extrapolation: mass {listed} GeV is outside the trained range "
            f"{low:g}–{high:g} GeV; the model has never seen it",
            ExtrapolationWarning,
            stacklevel=3,
        )


def _scores_at(
    scorer_or_scores: ScoresLike, table: EventTable, mass: float, subset: np.ndarray
) -> np.ndarray:
    """Scores of the events ``subset`` of ``table`` at hypothesis ``mass``."""
    if isinstance(scorer_or_scores, Mapping):
        for key, value in scorer_or_scores.items():
            if np.isclose(float(key), mass):
                scores = np.asarray(value, dtype=np.float64).reshape(-1)
                break
        else:
            raise DataError(
                f"no precomputed scores for mass {mass:g} GeV",
                where="scores mapping",
                fix="add scores for that mass or leave it out of masses",
            )
    elif isinstance(scorer_or_scores, np.ndarray | list | tuple):
        scores = np.asarray(scorer_or_scores, dtype=np.float64).reshape(-1)
    else:
        return score_table(scorer_or_scores, table.select(subset).with_mass(mass))
    if scores.shape != (len(table),):
        raise DataError(
            f"{scores.shape[0]} precomputed scores for {len(table)} events",
            where=f"scores at mass {mass:g} GeV",
            fix="give one score per event of the table",
        )
    return scores[subset]


def mass_samples(
    scorer_or_scores: ScoresLike,
    table: EventTable,
    *,
    masses: Iterable[float] | None = None,
    tolerance: float = 0.5,
) -> dict[float, MassSample]:
    """Signal at each mass ``m`` with all background, everything scored at ``m``.

    Raises :class:`~hep_pnn.errors.DataError` when a mass has no signal or no background
    (with positive total weight): its metrics would be undefined, so evaluation cannot go on.

    Example:
        >>> import numpy as np
        >>> t = EventTable.from_arrays(np.array([[2.0], [1.0], [0.0]]), label=[1, 1, 0],
        ...                            mass=[500, 750, 500])
        >>> samples = mass_samples(lambda x, m: x[:, 0] + m / 1000, t)
        >>> sorted(samples), samples[750.0].score.tolist(), samples[750.0].label.tolist()
        ([500.0, 750.0], [1.75, 0.75], [1, 0])
    """
    masses = table.signal_masses if masses is None else masses
    masses = [float(m) for m in masses]
    if not masses:
        raise DataError(
            "the evaluation data has no signal events",
            where="evaluation data",
            fix="pass data with signal (label 1) at the masses to evaluate",
        )
    is_background = ~table.is_signal
    samples = {}
    for mass in masses:
        is_signal = table.is_signal & (np.abs(table.mass - mass) <= tolerance)
        for name, mask in (("signal", is_signal), ("background", is_background)):
            if not mask.any() or table.weight[mask].sum() <= 0:
                raise DataError(
                    f"no {name} events (with positive total weight) at mass {mass:g} GeV: "
                    "metrics need both classes",
                    where="evaluation data",
                    fix=f"add {name} events or leave {mass:g} out of the masses to evaluate",
                )
        subset = is_signal | is_background
        scores = _scores_at(scorer_or_scores, table, mass, subset)
        if not np.isfinite(scores).all():
            raise DataError(
                f"the model gave {int((~np.isfinite(scores)).sum())} non-finite scores",
                where=f"scores at mass {mass:g} GeV",
                fix="check the inputs for NaN or infinite values",
            )
        samples[mass] = MassSample(
            mass=mass,
            score=scores,
            label=table.label[subset].astype(np.int8),
            weight=table.weight[subset].astype(np.float64),
        )
    return samples
