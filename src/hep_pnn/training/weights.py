r"""Per-event training weights and the weighted binary cross-entropy.

Normalisations (``training.weights.normalise``), with :math:`N` the number of training events,
:math:`K` the number of signal masses and sums running over the training events only:

- ``none``: :math:`w'_i = w_i`.
- ``classes``: :math:`w'_i = w_i \cdot \frac{N/2}{\sum_{j:\,y_j = y_i} w_j}`
  (signal and background each have total weight :math:`N/2`).
- ``classes_per_mass``: background as in ``classes``; signal at mass :math:`m`:
  :math:`w'_i = w_i \cdot \frac{N/(2K)}{\sum_{j:\,y_j=1,\,m_j=m} w_j}`.

With ``use_event_weights: false`` every :math:`w_i = 1` before normalising.

With the ``balanced`` sampler the sampler sets the balance between groups (signal masses,
background processes), so the weights are then also rescaled to mean 1 within each sampled
group :math:`G`: :math:`w''_i = w'_i \cdot |G| / \sum_{j \in G} w'_j`; only the relative
weights inside a group act on the loss.
"""

from __future__ import annotations

import numpy as np
import torch

from hep_pnn.data.table import EventTable
from hep_pnn.errors import DataError

__all__ = ["training_weights", "unit_mean_per_group", "weighted_bce"]


def _scale_groups(
    weight: np.ndarray, group: np.ndarray, train_index: np.ndarray, targets: dict[int, float]
) -> np.ndarray:
    out = weight.copy()
    sums = np.bincount(group[train_index], weights=weight[train_index], minlength=len(targets))
    for key, target in targets.items():
        if sums[key] <= 0:
            raise DataError(
                f"the training weights of group {key} sum to {sums[key]:g} (≤ 0)",
                where="training.weights.normalise",
                fix="use normalise: none or check the event weights",
            )
        out[group == key] *= np.float32(target / sums[key])
    return out


def unit_mean_per_group(weight: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """Rescale ``weight`` so it has mean 1 over each group of event indices.

    Example:
        >>> import numpy as np
        >>> unit_mean_per_group(np.array([1.0, 3.0, 5.0], np.float32), [np.array([0, 1])]).tolist()
        [0.5, 1.5, 5.0]
    """
    out = weight.copy()
    for number, members in enumerate(groups):
        total = float(weight[members].sum(dtype=np.float64))
        if total <= 0:
            raise DataError(
                f"the training weights of sampling group {number} sum to {total:g} (≤ 0)",
                where="training.weights with training.sampler: balanced",
                fix="check the event weights or set training.weights.use_event_weights: false",
            )
        out[members] *= np.float32(len(members) / total)
    return out


def training_weights(
    table: EventTable,
    train_index: np.ndarray,
    *,
    use_event_weights: bool = True,
    normalise: str = "none",
) -> np.ndarray:
    """Loss weights of every event of ``table``, normalised on the ``train_index`` events.

    Example:
        >>> import numpy as np
        >>> t = EventTable.from_arrays(np.zeros((4, 1)), label=[1, 0, 0, 0], weight=[2, 1, 1, -1])
        >>> training_weights(t, np.arange(4), normalise="classes").tolist()
        [2.0, 2.0, 2.0, -2.0]
    """
    weight = table.weight.copy() if use_event_weights else np.ones(len(table), np.float32)
    n_train = len(train_index)
    if normalise == "none":
        return weight
    label = table.label.astype(np.int64)
    if normalise == "classes":
        return _scale_groups(weight, label, train_index, {0: n_train / 2, 1: n_train / 2})
    masses, mass_code = np.unique(table.mass, return_inverse=True)
    signal_masses = np.unique(table.mass[train_index][table.label[train_index] == 1])
    # group 0: background; group 1 + c: signal at mass code c
    group = np.where(label == 1, 1 + mass_code.reshape(-1), 0)
    codes = 1 + np.searchsorted(masses, signal_masses)
    targets = {0: n_train / 2, **{int(c): n_train / (2 * len(codes)) for c in codes}}
    return _scale_groups(weight, group, train_index, targets)


def weighted_bce(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    r"""Mean over the batch of :math:`w_i \cdot \mathrm{BCE}(\sigma(z_i), y_i)` (any sign of ``w``).

    Dividing by the batch size rather than by :math:`\sum w_i` keeps the loss finite when
    negative weights make the sum small.

    Example:
        >>> import torch
        >>> loss = weighted_bce(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 0.0]),
        ...                     torch.tensor([1.0, -1.0]))
        >>> float(loss)
        0.0
    """
    per_event = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, target, reduction="none"
    )
    return (per_event * weight).mean()
