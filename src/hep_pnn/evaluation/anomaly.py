r"""Anomaly scores against a known anomaly: samples, metrics and the score-vs-mass plot.

An autoencoder trained on one class (the *normal* one) scores every event by its
reconstruction error; the other class is the anomaly. :func:`anomaly_samples` pairs the
anomaly of each group (each signal mass; each jet type) with the normal events as
:class:`~hep_pnn.evaluation.scoring.MassSample` (label 1: anomaly), so the usual metrics
(:func:`~hep_pnn.evaluation.metrics.binary_metrics`: ROC-AUC, rejection at 30/50/70 %
anomaly efficiency) and :func:`~hep_pnn.evaluation.plot_roc` apply unchanged.
:func:`plot_score_vs_mass` shows how far the score follows the protected mass — the
observation of Heimel et al. that an autoencoder largely learns the jet mass.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.axes import Axes

from hep_pnn.evaluation.metrics import binary_metrics
from hep_pnn.evaluation.plots import _styled, new_axes
from hep_pnn.evaluation.scoring import MassSample

__all__ = ["anomaly_metrics", "anomaly_samples", "plot_score_vs_mass"]


def anomaly_samples(
    score: np.ndarray,
    is_normal: np.ndarray,
    group: np.ndarray,
    *,
    weight: np.ndarray | None = None,
) -> dict[float, MassSample]:
    """For each group value of the anomalous events: those events (label 1) + all normal ones.

    Args:
        score: anomaly score of every event (higher: more anomalous).
        is_normal: True for the class the autoencoder was trained on.
        group: a number per event naming its group (e.g. the signal mass); only the
            anomalous events' groups are used.
        weight: event weights (default 1).

    Example:
        >>> s = anomaly_samples(np.array([0.1, 0.2, 0.9, 0.8]), np.array([1, 1, 0, 0]) == 1,
        ...                     np.array([0, 0, 500.0, 750.0]))
        >>> sorted(s), s[500.0].label.tolist()
        ([500.0, 750.0], [0, 0, 1])
    """
    score = np.asarray(score, dtype=np.float64)
    is_normal = np.asarray(is_normal, dtype=bool)
    group = np.asarray(group, dtype=np.float64)
    weight = np.ones(len(score)) if weight is None else np.asarray(weight, dtype=np.float64)
    samples = {}
    for value in np.unique(group[~is_normal]):
        keep = is_normal | (group == value)
        samples[float(value)] = MassSample(
            mass=float(value),
            score=score[keep],
            label=(~is_normal[keep]).astype(np.int8),
            weight=weight[keep],
        )
    return samples


def anomaly_metrics(samples: Mapping[float, MassSample]) -> dict[float, dict[str, float]]:
    """:func:`~hep_pnn.evaluation.metrics.binary_metrics` of each sample (anomaly = signal).

    Example:
        >>> s = MassSample(1.0, np.array([0.9, 0.1]), np.array([1, 0]), np.ones(2))
        >>> anomaly_metrics({1.0: s})[1.0]["roc_auc"]
        1.0

    References:
        Heimel, Kasieczka, Plehn, Thompson, arXiv:1808.08979; Finke, Krämer, Morandini,
        Mück, Oleksiyuk, arXiv:2104.09051 (both directions).
    """
    return {
        group: binary_metrics(sample.score, sample.label, sample.weight)
        for group, sample in samples.items()
    }


@_styled
def plot_score_vs_mass(
    score: np.ndarray,
    mass: np.ndarray,
    classes: Mapping[str, np.ndarray],
    *,
    bins: int = 20,
    xlabel: str = "m_WWbb (f26, standardised)",
    ax: Axes | None = None,
) -> Axes:
    """Median of the score in bins of the protected mass per class; 16–84 % band of the first.

    Args:
        score: anomaly score of every event.
        mass: the protected variable of every event.
        classes: name → boolean mask of the events of that class.

    Example:
        >>> rng = np.random.default_rng(0); m = rng.normal(size=500)
        >>> ax = plot_score_vs_mass(m**2, m, {"all": np.ones(500, bool)}, bins=5)
        >>> len(ax.lines)
        1
    """
    ax = ax or new_axes()
    score, mass = np.asarray(score, dtype=np.float64), np.asarray(mass, dtype=np.float64)
    low, high = np.quantile(mass, [0.01, 0.99])
    edges = np.linspace(float(low), float(high), bins + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    first = True
    for name, mask in classes.items():
        code = np.digitize(mass[mask], edges) - 1
        values = score[mask]
        bands = np.full((3, bins), np.nan)
        for b in range(bins):
            chosen = values[code == b]
            if len(chosen) >= 5:
                bands[:, b] = np.quantile(chosen, [0.16, 0.5, 0.84])
        (line,) = ax.plot(centres, bands[1], marker="o", markersize=3, label=f"{name} (median)")
        if first:  # one band keeps the plot readable
            ax.fill_between(centres, bands[0], bands[2], color=line.get_color(), alpha=0.2)
            first = False
    ax.set(xlabel=xlabel, ylabel="Reconstruction error", yscale="log")
    ax.legend(
        fontsize="xx-small",
        title=f"band: 16–84 % of {next(iter(classes), '')}",
        title_fontsize="xx-small",
        loc="lower right",
    )
    return ax
