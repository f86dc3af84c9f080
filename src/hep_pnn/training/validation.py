"""Per-epoch validation: weighted loss and unweighted ROC AUC per signal mass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from hep_pnn.evaluation.metrics import roc_auc
from hep_pnn.models.folding import FOLDED_BATCH, Foldable
from hep_pnn.training.weights import weighted_bce

__all__ = ["ValidationResult", "batched_logits", "logits_at_mass", "validate"]


@dataclass(frozen=True)
class ValidationResult:
    """Validation loss (event weights) and the ROC AUC at every signal mass (unweighted, the
    publications' metric and the one that picks the best epoch)."""

    loss: float
    auc: dict[float, float]
    #: Weighted fraction classified right at probability 0.5 (background averaged over masses).
    accuracy: float = float("nan")

    @property
    def auc_mean(self) -> float:
        return float(np.mean(list(self.auc.values()))) if self.auc else float("nan")


def batched_logits(
    model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    features: torch.Tensor,
    index: torch.Tensor,
    mass: torch.Tensor,
    *,
    batch_size: int,
) -> torch.Tensor:
    """Logits of the rows ``index`` of ``features`` fed with ``mass`` (one value or one per row)."""
    out = torch.empty(len(index), dtype=torch.float32)
    mass = mass.expand(len(index)) if mass.dim() == 0 else mass
    with torch.inference_mode():
        for start in range(0, len(index), batch_size):
            rows = slice(start, start + batch_size)
            out[rows] = model(features.index_select(0, index[rows]), mass[rows])
    return out


def logits_at_mass(
    model: torch.nn.Module,
    features: torch.Tensor,
    index: torch.Tensor,
    mass: float,
    *,
    batch_size: int,
) -> torch.Tensor:
    """Logits of the rows ``index`` of ``features`` all at one ``mass``.

    A model that can fold itself into a plain MLP at one mass (the
    :class:`~hep_pnn.models.folding.Foldable` capability, e.g.
    :class:`~hep_pnn.models.ParametricNet`) is scored that way, ≈ 5× faster, in batches of
    :data:`~hep_pnn.models.folding.FOLDED_BATCH`; any other as it is.
    """
    at_mass = torch.tensor(float(mass))
    if not isinstance(model, Foldable):
        return batched_logits(model, features, index, at_mass, batch_size=batch_size)
    mlp = model.folded(float(mass))
    return batched_logits(lambda x, _: mlp(x), features, index, at_mass, batch_size=FOLDED_BATCH)


def validate(
    model: torch.nn.Module,
    *,
    features: torch.Tensor,
    label: np.ndarray,
    mass: np.ndarray,
    weight: np.ndarray,
    index: np.ndarray,
    batch_size: int = 65536,
) -> ValidationResult:
    """Score the validation events ``index`` and compute the loss and AUC per signal mass.

    At each signal mass ``m`` the AUC compares the validation signal at ``m`` with *all*
    validation background scored at ``m``. The loss averages the background over the masses.

    Example:
        >>> import numpy as np, torch
        >>> class Cut(torch.nn.Module):
        ...     def forward(self, x, m):
        ...         return x[:, 0]
        >>> x = torch.tensor([[2.0], [3.0], [1.0], [0.0]])
        >>> r = validate(Cut(), features=x, label=np.array([1, 1, 0, 0]),
        ...              mass=np.array([500.0, 1000, 0, 0], np.float32), weight=np.ones(4),
        ...              index=np.arange(4))
        >>> r.auc, r.auc_mean, r.accuracy
        ({500.0: 1.0, 1000.0: 1.0}, 1.0, 0.75)
    """
    was_training = model.training
    model.eval()
    index = np.asarray(index, dtype=np.int64)
    is_signal = label[index] == 1
    signal, background = index[is_signal], index[~is_signal]
    signal_mass = mass[signal].astype(np.float32)
    masses = np.unique(signal_mass)
    signal_logits = torch.empty(len(signal), dtype=torch.float32)
    for value in masses:
        at = np.flatnonzero(signal_mass == value)
        signal_logits[at] = logits_at_mass(
            model, features, torch.from_numpy(signal[at]), float(value), batch_size=batch_size
        )
    background_t = torch.from_numpy(background)
    w_signal = torch.as_tensor(weight[signal], dtype=torch.float32)
    w_background = torch.as_tensor(weight[background], dtype=torch.float32)
    loss_sum = float(weighted_bce(signal_logits, torch.ones(len(signal)), w_signal)) * len(signal)
    auc: dict[float, float] = {}
    background_loss = 0.0
    right_signal = float((w_signal * (signal_logits > 0)).sum())
    right_background = 0.0
    for value in masses:
        logits = logits_at_mass(model, features, background_t, float(value), batch_size=batch_size)
        background_loss += float(weighted_bce(logits, torch.zeros(len(background)), w_background))
        right_background += float((w_background * (logits <= 0)).sum())
        at_mass = signal_mass == value
        scores = np.concatenate([signal_logits.numpy()[at_mass], logits.numpy()])
        target = np.concatenate([np.ones(at_mass.sum()), np.zeros(len(background))])
        # NaN, not an error, when a class is missing (a tiny validation split)
        both = at_mass.any() and len(background) > 0
        auc[float(value)] = roc_auc(scores, target) if both else float("nan")
    loss_sum += background_loss / max(len(masses), 1) * len(background)
    total_weight = float(w_signal.sum() + w_background.sum())
    right = right_signal + right_background / max(len(masses), 1)
    model.train(was_training)
    return ValidationResult(
        loss=loss_sum / max(len(index), 1),
        auc=auc,
        accuracy=right / total_weight if total_weight else float("nan"),
    )
