"""Mass sculpting: does a cut on the classifier reshape the background m_WWbb spectrum?

A classifier that learned the resonance mass from ``f26`` (m_WWbb) keeps background events
near the hypothesised mass and so carves a fake peak into the background. We compare the
normalised, weighted background ``f26`` histogram before and after the cut ``score >= t``
where ``t`` keeps a given signal efficiency (50% by default), and summarise the change as the
Jensen–Shannon divergence in bits (base 2, so it lies in [0, 1]; 0 means unchanged shape):
``scipy.spatial.distance.jensenshannon(before, after, base=2) ** 2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import jensenshannon

from hep_pnn.data.features import MWWBB_FEATURE
from hep_pnn.data.table import EventTable
from hep_pnn.errors import DataError
from hep_pnn.evaluation.metrics import threshold_at_efficiency
from hep_pnn.evaluation.scoring import MassSample, ScoresLike, mass_samples

__all__ = ["SculptingResult", "sculpting", "sculpting_from_sample"]


@dataclass(frozen=True)
class SculptingResult:
    """Background shape of one feature before and after a cut at one mass hypothesis.

    Attributes:
        mass: the hypothesis (GeV) at which the background was scored.
        feature: the feature histogrammed (``f26``, m_WWbb, by default).
        threshold: the cut ``score >= threshold``.
        signal_efficiency: signal weight fraction passing the cut.
        background_efficiency: background weight fraction passing the cut.
        bin_edges: histogram bin edges.
        before: normalised background histogram before the cut.
        after: normalised background histogram after the cut.
        js_divergence: Jensen–Shannon divergence between ``before`` and ``after`` (bits).
    """

    mass: float
    feature: str
    threshold: float
    signal_efficiency: float
    background_efficiency: float
    bin_edges: np.ndarray
    before: np.ndarray
    after: np.ndarray
    js_divergence: float

    def summary(self) -> dict[str, float | str]:
        """The scalar fields, JSON-ready."""
        return {
            "mass": self.mass,
            "feature": self.feature,
            "threshold": self.threshold,
            "signal_efficiency": self.signal_efficiency,
            "background_efficiency": self.background_efficiency,
            "js_divergence": self.js_divergence,
        }


def _normalised_histogram(values: np.ndarray, weight: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges, weights=weight)
    counts = np.clip(counts, 0.0, None)  # negative weights can leave a bin below zero
    total = counts.sum()
    return counts / total if total > 0 else counts


def sculpting(
    scorer_or_scores: ScoresLike,
    table: EventTable,
    *,
    mass: float,
    signal_efficiency: float = 0.5,
    feature: str = MWWBB_FEATURE,
    bins: int = 40,
) -> SculptingResult:
    """Background ``feature`` shape before/after the cut keeping ``signal_efficiency``.

    Args:
        scorer_or_scores: a scorer, a callable or precomputed scores (as for
            :func:`~hep_pnn.evaluation.evaluate_masses`).
        table: test events with signal at ``mass`` (to place the cut) and background.
        mass: hypothesis at which the background is scored.
        signal_efficiency: fraction of signal weight the cut keeps.
        feature: the feature whose background shape is compared.
        bins: number of bins, equal-width between the 0.5% and 99.5% quantiles of the
            background (overflow goes to the outer bins).

    Example:
        >>> rng = np.random.default_rng(1)
        >>> x = rng.normal(size=(4000, 2))
        >>> t = EventTable.from_arrays(x, label=np.repeat([1, 0], 2000), mass=np.full(4000, 1),
        ...                            feature_names=["a", "f26"])
        >>> independent = sculpting(lambda f, m: f[:, 0], t, mass=1)
        >>> itself = sculpting(lambda f, m: f[:, 1], t, mass=1)
        >>> bool(independent.js_divergence < 0.02 < itself.js_divergence)
        True

    References:
        Mass sculpting by a cut and its removal: Louppe, Kagan, Cranmer, arXiv:1611.01046;
        Kasieczka, Shih, PRL 125 (2020) 122001, arXiv:2001.05310.
    """
    if feature not in table.feature_names:
        raise DataError(
            f"no feature {feature!r} to check sculpting on",
            where="evaluation data",
            fix=f"pass data with a {feature} column or choose another feature",
        )
    sample = mass_samples(scorer_or_scores, table, masses=[mass])[float(mass)]
    values = table.select(~table.is_signal).column(feature)
    return sculpting_from_sample(
        sample, values, feature=feature, signal_efficiency=signal_efficiency, bins=bins
    )


def sculpting_from_sample(
    sample: MassSample,
    background_values: np.ndarray,
    *,
    feature: str = MWWBB_FEATURE,
    signal_efficiency: float = 0.5,
    bins: int = 40,
) -> SculptingResult:
    """:func:`sculpting` on already scored events; ``background_values`` is the feature of
    the sample's background events, in the sample's order."""
    mass = sample.mass
    is_signal = sample.is_signal
    threshold = threshold_at_efficiency(
        sample.score[is_signal], sample.weight[is_signal], signal_efficiency
    )
    passing = sample.score >= threshold
    values = np.asarray(background_values, dtype=np.float64)
    weight = sample.weight[~is_signal]
    low, high = np.quantile(values, [0.005, 0.995])
    edges = np.linspace(low, high, bins + 1)
    before = _normalised_histogram(values, weight, edges)
    after = _normalised_histogram(values[passing[~is_signal]], weight[passing[~is_signal]], edges)
    divergence = float(jensenshannon(before, after, base=2) ** 2) if after.sum() > 0 else np.nan
    return SculptingResult(
        mass=float(mass),
        feature=feature,
        threshold=threshold,
        signal_efficiency=float(
            sample.weight[is_signal & passing].sum() / sample.weight[is_signal].sum()
        ),
        background_efficiency=float(weight[passing[~is_signal]].sum() / weight.sum()),
        bin_edges=edges,
        before=before,
        after=after,
        js_divergence=divergence,
    )
