"""Per-mass evaluation (with optional bootstrap uncertainties) and AUC on a fine mass grid."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hep_pnn._random import SeedLike, as_generator
from hep_pnn.data.table import EventTable
from hep_pnn.evaluation.metrics import DEFAULT_EFFICIENCIES, binary_metrics
from hep_pnn.evaluation.scoring import (
    MassSample,
    ScoresLike,
    check_mass_range,
    mass_samples,
    mass_tuple,
)

__all__ = ["MassMetrics", "auc_vs_mass", "evaluate_masses"]


@dataclass(frozen=True)
class MassMetrics:
    """Metrics per mass hypothesis: one row per mass.

    Attributes:
        frame: columns ``mass, n_signal, n_background, roc_auc`` (unweighted, the
            headline), ``roc_auc_weighted, pr_auc, rejection_30, rejection_50,
            rejection_70, significance_ratio`` and, with a bootstrap, a ``<metric>_err``
            column (standard deviation over the replicas) for each metric.
        training_masses: masses the model was trained on (empty when unknown).
        samples: the scored events per mass (for plots); not serialised.
    """

    frame: pd.DataFrame
    training_masses: tuple[float, ...] = ()
    samples: dict[float, MassSample] = field(default_factory=dict, repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """A copy of the table of metrics."""
        return self.frame.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"training_masses": [...], "masses": [one record per mass]}``.

        Infinite rejections become the string ``"inf"`` so the JSON stays standard.
        """
        records = [
            {key: _json_number(value) for key, value in row.items()}
            for row in self.frame.to_dict(orient="records")
        ]
        return {"training_masses": list(self.training_masses), "masses": records}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MassMetrics:
        """Inverse of :meth:`to_dict`."""
        frame = pd.DataFrame(data["masses"]).replace({"inf": np.inf, None: np.nan})
        return cls(frame.infer_objects(), tuple(float(m) for m in data["training_masses"]))

    def to_markdown(self, *, digits: int = 4) -> str:
        """A GitHub-flavoured markdown table; ``±`` errors when bootstrapped.

        Example:
            >>> frame = pd.DataFrame({"mass": [500.0], "roc_auc": [0.91234]})
            >>> print(MassMetrics(frame).to_markdown(digits=3))
            | mass | roc_auc |
            |---:|---:|
            | 500 | 0.912 |
        """
        columns = [c for c in self.frame.columns if not c.endswith("_err")]
        lines = ["| " + " | ".join(columns) + " |", "|" + "---:|" * len(columns)]
        for _, row in self.frame.iterrows():
            cells = []
            for column in columns:
                text = _format(row[column], digits)
                if f"{column}_err" in row and np.isfinite(row[f"{column}_err"]):
                    text += f" ± {_format(row[f'{column}_err'], digits)}"
                cells.append(text)
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)


def _json_number(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return None if math.isnan(value) else float(value)
    return value.item() if isinstance(value, np.generic) else value


def _format(value: Any, digits: int) -> str:
    if isinstance(value, float | np.floating) and not float(value).is_integer():
        # Fixed decimals for AUC-like numbers in [0.01, 10), significant digits otherwise.
        return f"{value:.{digits}f}" if 0.01 <= abs(float(value)) < 10 else f"{value:.{digits}g}"
    return f"{value:g}" if isinstance(value, float | np.floating) else str(value)


def _bootstrap_errors(
    sample: MassSample, *, replicas: int, rng: np.random.Generator, efficiencies: Sequence[float]
) -> dict[str, float]:
    """Standard deviation of each metric over resamplings of signal and background separately."""
    signal = np.flatnonzero(sample.is_signal)
    background = np.flatnonzero(~sample.is_signal)
    values: dict[str, list[float]] = {}
    for _ in range(replicas):
        index = np.concatenate(
            [rng.choice(signal, signal.size), rng.choice(background, background.size)]
        )
        metrics = binary_metrics(
            sample.score[index],
            sample.label[index],
            sample.weight[index],
            efficiencies=efficiencies,
        )
        for key, value in metrics.items():
            values.setdefault(key, []).append(value)
    errors = {}
    for key, replica_values in values.items():
        finite = np.asarray(replica_values)[np.isfinite(replica_values)]
        errors[f"{key}_err"] = float(finite.std(ddof=1)) if finite.size > 1 else float("nan")
    return errors


def evaluate_masses(
    scorer_or_scores: ScoresLike,
    table: EventTable,
    *,
    masses: Iterable[float] | None = None,
    training_masses: Iterable[float] | None = None,
    bootstrap: int = 0,
    seed: SeedLike = 0,
    efficiencies: Sequence[float] = DEFAULT_EFFICIENCIES,
) -> MassMetrics:
    """Metrics at each mass: test signal at ``m`` against all test background scored at ``m``.

    Args:
        scorer_or_scores: a scorer, a callable ``f(features, mass)`` or precomputed scores
            (see :mod:`hep_pnn.evaluation.scoring`).
        table: test events (signal and background, with weights).
        masses: hypotheses to evaluate; default: every signal mass in ``table``.
        training_masses: trained masses (default: ``scorer.training_masses`` if present);
            masses outside their range raise an ``ExtrapolationWarning``.
        bootstrap: number of bootstrap replicas for uncertainties (0: none).
        seed: seed of the bootstrap.
        efficiencies: signal efficiencies of the background rejections.

    Raises:
        DataError: a mass without signal or without background, or bad precomputed scores.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(400, 1)) + np.repeat([1.0, 0.0], 200)[:, None]
        >>> t = EventTable.from_arrays(x, label=np.repeat([1, 0], 200), mass=np.full(400, 500))
        >>> m = evaluate_masses(lambda f, m: f[:, 0], t)
        >>> m.frame[["mass", "n_signal"]].values.tolist(), bool(0.7 < m.frame.roc_auc[0] < 0.8)
        ([[500.0, 200.0]], True)

    References:
        The per-mass evaluation of Baldi et al., arXiv:1601.07913, and Anzalone,
        Diotalevi, Bonacorsi, MLST 3 (2022) 035017, arXiv:2202.00424.
    """
    if training_masses is None:
        training_masses = getattr(scorer_or_scores, "training_masses", None)
    trained = mass_tuple(training_masses)
    samples = mass_samples(scorer_or_scores, table, masses=masses)
    check_mass_range(samples, trained)
    rng = as_generator(seed)
    rows = []
    for mass, sample in samples.items():
        row: dict[str, float] = {
            "mass": mass,
            "n_signal": float(sample.is_signal.sum()),
            "n_background": float((~sample.is_signal).sum()),
        }
        row.update(
            binary_metrics(sample.score, sample.label, sample.weight, efficiencies=efficiencies)
        )
        if bootstrap:
            row.update(
                _bootstrap_errors(sample, replicas=bootstrap, rng=rng, efficiencies=efficiencies)
            )
        rows.append(row)
    return MassMetrics(pd.DataFrame(rows), trained, samples)


def auc_vs_mass(
    scorer: ScoresLike,
    *,
    masses: Iterable[float],
    signal_factory: Callable[[float], EventTable],
    background: EventTable,
    training_masses: Iterable[float] | None = None,
) -> pd.DataFrame:
    """Metrics on a fine mass grid, with fresh signal made at each mass by ``signal_factory``.

    The background (its label-0 events) is scored at each grid mass. With the built-in
    generator: ``signal_factory = lambda m: generate(masses=[m], n_signal_per_mass=5000,
    n_background=0, seed=1)``.

    Returns:
        One row per mass: the columns of :func:`evaluate_masses` plus ``training``
        (the mass was trained on) and ``extrapolation`` (outside the trained range).

    Example:
        >>> bkg = EventTable.from_arrays(np.zeros((50, 1)), label=np.zeros(50))
        >>> def signal(m):
        ...     return EventTable.from_arrays(np.full((50, 1), m / 1000), label=np.ones(50))
        >>> grid = auc_vs_mass(lambda f, m: f[:, 0] - 0.75, masses=[500, 750],
        ...                    signal_factory=signal, background=bkg, training_masses=[500, 1000])
        >>> grid[["mass", "roc_auc", "training", "extrapolation"]].values.tolist()
        [[500.0, 1.0, True, False], [750.0, 1.0, False, False]]

    References:
        Interpolation to masses not trained on: Baldi et al., arXiv:1601.07913;
        Anzalone, Diotalevi, Bonacorsi, arXiv:2202.00424.
    """
    if training_masses is None:
        training_masses = getattr(scorer, "training_masses", None)
    trained = np.asarray(mass_tuple(training_masses), dtype=float)
    masses = [float(m) for m in masses]
    check_mass_range(masses, trained)
    background = background.background()
    rows = []
    for mass in masses:
        signal = signal_factory(mass).signal().with_mass(mass)
        table = EventTable.concat([signal, background])
        row = evaluate_masses(scorer, table, masses=[mass], training_masses=()).frame.iloc[0]
        rows.append(row.to_dict())
    frame = pd.DataFrame(rows)
    on_grid = frame["mass"].to_numpy()[:, None]
    frame["training"] = np.isclose(on_grid, trained[None, :]).any(axis=1) if trained.size else False
    frame["extrapolation"] = (
        (frame["mass"] < trained.min()) | (frame["mass"] > trained.max()) if trained.size else False
    )
    return frame
