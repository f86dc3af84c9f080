r"""Metrics of jet taggers, as in the top-tagging comparison: AUC, accuracy and background
rejection :math:`1/\varepsilon_B` at signal efficiencies :math:`\varepsilon_S` = 0.3 and 0.5.

References:
    Kasieczka et al., "The Machine Learning Landscape of Top Taggers", SciPost Phys. 7
    (2019) 014, arXiv:1902.09914.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hep_pnn.evaluation.metrics import background_rejection, roc_auc

__all__ = ["TAGGING_EFFICIENCIES", "pixel_correlation", "tagger_metrics"]

#: Signal efficiencies of the rejections (the top-tagging comparison's working points).
TAGGING_EFFICIENCIES: tuple[float, ...] = (0.3, 0.5)


def tagger_metrics(
    score: np.ndarray,
    label: np.ndarray,
    *,
    efficiencies: Sequence[float] = TAGGING_EFFICIENCIES,
) -> dict[str, float]:
    """``auc``, ``accuracy`` (cut at 0.5), ``rejection_<percent>`` and the jet counts.

    Example:
        >>> m = tagger_metrics(np.array([0.9, 0.8, 0.6, 0.2, 0.1]), np.array([1, 1, 0, 0, 1]))
        >>> m["auc"], m["accuracy"], m["rejection_30"]
        (0.6666666666666666, 0.6, inf)

    References:
        Kasieczka et al., arXiv:1902.09914.
    """
    score, label = np.asarray(score, np.float64), np.asarray(label)
    metrics = {
        "auc": roc_auc(score, label),
        "accuracy": float(((score >= 0.5) == (label == 1)).mean()),
    }
    for efficiency in efficiencies:
        metrics[f"rejection_{round(100 * efficiency)}"] = background_rejection(
            score, label, efficiency=efficiency
        )
    metrics["n_signal"] = float((label == 1).sum())
    metrics["n_background"] = float((label != 1).sum())
    return metrics


def pixel_correlation(images: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Pearson correlation of every pixel of ``images (n, h, w)`` with ``score (n,)``;
    0 where a pixel never varies.

    Example:
        >>> images = np.zeros((4, 1, 2)); images[:, 0, 0] = [0, 1, 2, 3]
        >>> pixel_correlation(images, np.array([0.0, 1.0, 2.0, 3.0])).round(6).tolist()
        [[1.0, 0.0]]

    References:
        de Oliveira et al., "Jet-images — deep learning edition", arXiv:1511.05190
        (correlation of the network output with pixel intensities).
    """
    pixels = images.reshape(len(images), -1).astype(np.float64)
    pixels = pixels - pixels.mean(axis=0)
    centred = np.asarray(score, np.float64) - np.mean(score)
    spread = np.sqrt((pixels**2).sum(axis=0) * (centred**2).sum())
    covariance = pixels.T @ centred
    correlation = np.divide(covariance, spread, out=np.zeros_like(covariance), where=spread > 0)
    return correlation.reshape(images.shape[1:])
