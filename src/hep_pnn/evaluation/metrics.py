r"""Binary-classification metrics on one sample (signal against background).

Conventions:

* ROC-AUC, the headline metric (``roc_auc``): **unweighted**, every event counts once, as
  the publications compute it on HEPMASS (Baldi et al. arXiv:1601.07913; Anzalone et al.
  arXiv:2202.00424). ``roc_auc_weighted`` is the same with the event weights.

The other metrics sum event weights (physical yields), so weighted and unweighted data are
treated alike:

* Weighted ROC-AUC: :func:`sklearn.metrics.roc_auc_score` with ``sample_weight``. With negative
  weights (which sklearn rejects) the same quantity — the weighted probability that a signal
  event outscores a background one, ties counting half — is the trapezoid area under the
  cut scan below.
* PR-AUC: weighted average precision, :func:`sklearn.metrics.average_precision_score`.
* A *cut* keeps events with ``score >= threshold``. Cuts never split events with equal
  scores, so every cut is one a physicist could actually apply.
* Background rejection at signal efficiency ε: :math:`1/\varepsilon_b` at the tightest cut
  that keeps at least a fraction ε of the signal weight (``inf`` when no background passes).
* Significance ratio: :math:`\max_t \frac{s(t)}{\sqrt{s(t)+b(t)}} / \sqrt{N_s}` where
  :math:`s(t)`, :math:`b(t)` are the signal and background weight passing cut ``t`` and
  :math:`N_s` the total signal weight. It is 1 for a perfect classifier and
  :math:`\sqrt{N_s/(N_s+N_b)}` for no cut at all. Cuts with :math:`s+b \le 0` (possible with
  negative weights) are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

__all__ = [
    "DEFAULT_EFFICIENCIES",
    "background_rejection",
    "binary_metrics",
    "cut_scan",
    "roc_auc",
    "significance_ratio",
    "threshold_at_efficiency",
]

#: Signal efficiencies at which background rejection is reported.
DEFAULT_EFFICIENCIES: tuple[float, ...] = (0.3, 0.5, 0.7)


def cut_scan(
    score: np.ndarray, label: np.ndarray, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every distinct cut ``score >= t``, tightest first, with the passing signal and background.

    One weighted cumulative sum over the scores sorted in descending order; only the last
    event of each group of equal scores ends a cut, so ties are never split.

    Returns:
        ``(thresholds, signal_weight_passing, background_weight_passing)``.

    Example:
        >>> t, s, b = cut_scan(np.array([0.9, 0.5, 0.5, 0.1]), np.array([1, 1, 0, 0]))
        >>> t.tolist(), s.tolist(), b.tolist()
        ([0.9, 0.5, 0.1], [1.0, 2.0, 2.0], [0.0, 1.0, 2.0])

    References:
        Cut scans behind the significance and rejection figures of Anzalone, Diotalevi,
        Bonacorsi, MLST 3 (2022) 035017, arXiv:2202.00424.
    """
    score = np.asarray(score, dtype=np.float64)
    is_signal = np.asarray(label) == 1
    weight = np.ones_like(score) if weight is None else np.asarray(weight, dtype=np.float64)
    order = np.argsort(-score, kind="stable")
    sorted_score = score[order]
    signal_passing = np.cumsum(np.where(is_signal, weight, 0.0)[order])
    background_passing = np.cumsum(np.where(is_signal, 0.0, weight)[order])
    group_end = np.flatnonzero(np.append(sorted_score[1:] != sorted_score[:-1], True))
    return sorted_score[group_end], signal_passing[group_end], background_passing[group_end]


def significance_ratio(
    score: np.ndarray, label: np.ndarray, weight: np.ndarray | None = None
) -> tuple[float, float]:
    """Best ``s/sqrt(s+b)/sqrt(N_s)`` over all cuts, and the threshold that reaches it.

    Example:
        >>> ratio, cut = significance_ratio(np.array([0.9, 0.8, 0.2]), np.array([1, 1, 0]))
        >>> round(ratio, 6), cut
        (1.0, 0.8)

    References:
        The significance ratio max over cuts of s/√(s+b) / √N_s as used by Anzalone,
        Diotalevi, Bonacorsi, MLST 3 (2022) 035017, arXiv:2202.00424.
    """
    thresholds, s, b = cut_scan(score, label, weight)
    total_signal = s[-1]
    valid = (s + b > 0) & (s > 0)
    if not valid.any() or total_signal <= 0:
        return float("nan"), float("nan")
    ratio = np.full_like(s, -np.inf)
    ratio[valid] = s[valid] / np.sqrt(s[valid] + b[valid]) / np.sqrt(total_signal)
    best = int(np.argmax(ratio))
    return float(ratio[best]), float(thresholds[best])


def threshold_at_efficiency(
    signal_score: np.ndarray, signal_weight: np.ndarray | None, efficiency: float
) -> float:
    """The tightest cut ``score >= t`` keeping at least ``efficiency`` of the signal weight.

    Example:
        >>> threshold_at_efficiency(np.array([0.1, 0.4, 0.6, 0.9]), None, 0.5)
        0.6

    References:
        Working points at fixed signal efficiency as in Anzalone, Diotalevi, Bonacorsi,
        MLST 3 (2022) 035017, arXiv:2202.00424.
    """
    if not 0 < efficiency <= 1:
        raise ValueError(f"efficiency must be in (0, 1], got {efficiency}")
    signal_score = np.asarray(signal_score, dtype=np.float64)
    thresholds, kept, _ = cut_scan(
        signal_score, np.ones(signal_score.shape, np.int8), signal_weight
    )
    fraction = kept / kept[-1]
    # The tolerance keeps 0.5 reachable when weights sum to it only up to rounding.
    return float(thresholds[np.argmax(fraction >= efficiency - 1e-12)])


def background_rejection(
    score: np.ndarray, label: np.ndarray, weight: np.ndarray | None = None, *, efficiency: float
) -> float:
    """``1 / background efficiency`` at the cut keeping ``efficiency`` of the signal.

    Example:
        >>> background_rejection(np.array([0.9, 0.7, 0.8, 0.1, 0.2, 0.3]),
        ...                      np.array([1, 1, 0, 0, 0, 0]), efficiency=0.5)
        inf

    References:
        Background rejection at fixed signal efficiency as in Anzalone, Diotalevi,
        Bonacorsi, MLST 3 (2022) 035017, arXiv:2202.00424.
    """
    score = np.asarray(score, dtype=np.float64)
    is_signal = np.asarray(label) == 1
    weight = np.ones_like(score) if weight is None else np.asarray(weight, dtype=np.float64)
    cut = threshold_at_efficiency(score[is_signal], weight[is_signal], efficiency)
    background = ~is_signal
    passing = weight[background & (score >= cut)].sum() / weight[background].sum()
    return float(np.inf) if passing <= 0 else float(1.0 / passing)


def roc_auc(score: np.ndarray, label: np.ndarray, weight: np.ndarray | None = None) -> float:
    """ROC-AUC, weighted by ``weight`` when given (negative weights allowed).

    Example:
        >>> roc_auc(np.array([0.9, 0.8, 0.5, 0.1]), np.array([1, 1, 0, 0]),
        ...         np.array([1.0, 1.0, 2.0, -0.5]))
        1.0

    References:
        ROC-AUC per mass hypothesis as in Baldi et al., arXiv:1601.07913, and
        Anzalone, Diotalevi, Bonacorsi, MLST 3 (2022) 035017, arXiv:2202.00424.
    """
    if weight is None or (np.asarray(weight) >= 0).all():
        return float(roc_auc_score(label, score, sample_weight=weight))
    _, signal_passing, background_passing = cut_scan(score, label, weight)
    true_positive = np.r_[0.0, signal_passing / signal_passing[-1]]
    false_positive = np.r_[0.0, background_passing / background_passing[-1]]
    return float(np.trapezoid(true_positive, false_positive))


def binary_metrics(
    score: np.ndarray,
    label: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    efficiencies: Sequence[float] = DEFAULT_EFFICIENCIES,
) -> dict[str, float]:
    """ROC-AUC (unweighted and weighted), PR-AUC, background rejections and significance ratio.

    Keys: ``roc_auc`` (unweighted: the publications' metric), ``roc_auc_weighted``,
    ``pr_auc``, ``rejection_<percent>`` for each efficiency, ``significance_ratio``; all but
    ``roc_auc`` use ``weight``.

    Example:
        >>> m = binary_metrics(np.array([0.9, 0.6, 0.7, 0.1]), np.array([1, 1, 0, 0]),
        ...                    np.array([1.0, 1.0, 3.0, 1.0]))
        >>> m["roc_auc"], m["roc_auc_weighted"], m["rejection_50"]
        (0.75, 0.625, inf)

    References:
        ROC-AUC per mass: Baldi et al., EPJC 76 (2016) 235, arXiv:1601.07913; PR-AUC,
        rejections and the significance ratio: Anzalone, Diotalevi, Bonacorsi, MLST 3 (2022)
        035017, arXiv:2202.00424.
    """
    label = np.asarray(label)
    metrics = {
        "roc_auc": roc_auc(score, label),
        "roc_auc_weighted": roc_auc(score, label, weight),
        "pr_auc": float(average_precision_score(label, score, sample_weight=weight)),
    }
    for efficiency in efficiencies:
        key = f"rejection_{round(100 * efficiency)}"
        metrics[key] = background_rejection(score, label, weight, efficiency=efficiency)
    metrics["significance_ratio"] = significance_ratio(score, label, weight)[0]
    return metrics
