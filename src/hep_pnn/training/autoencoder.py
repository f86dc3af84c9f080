r"""Training an autoencoder on one class: Adam on the (weighted) reconstruction error.

Optionally with a DisCo term that decorrelates the reconstruction error from a protected
variable (the jet mass, m_WWbb) on the training class:
:math:`L = \langle w\,\mathrm{MSE} \rangle + \lambda\,\mathrm{dCorr}^2_w(\log \mathrm{MSE}, m)`
(Kasieczka & Shih, arXiv:2001.05310; the adversarial version for autoencoders is Heimel et
al., arXiv:1808.08979). The best epoch by validation loss is kept.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from hep_pnn._denormals import flush_denormals
from hep_pnn.models.autoencoder import Autoencoder
from hep_pnn.training.decorrelation import distance_correlation

__all__ = ["AutoencoderTraining", "AutoencoderTrainingConfig", "train_autoencoder"]


class AutoencoderTrainingConfig(BaseModel):
    """Options of :func:`train_autoencoder` (the ``training`` section of ``pnn anomaly``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    epochs: int = Field(20, gt=0)
    batch_size: int = Field(256, gt=1)
    learning_rate: float = Field(1e-3, gt=0)
    validation_fraction: float = Field(0.2, gt=0, lt=1)
    seed: int = 0
    #: λ of the DisCo term between log reconstruction error and ``protected`` (0: off).
    disco_strength: float = Field(0.0, ge=0)


@dataclass
class AutoencoderTraining:
    """The history (one row per epoch) and the best epoch of a training."""

    history: list[dict[str, float]]
    best_epoch: int


def _loss(
    model: Autoencoder,
    x: torch.Tensor,
    w: torch.Tensor,
    protected: torch.Tensor | None,
    strength: float,
) -> torch.Tensor:
    error = model.reconstruction_error(x)
    loss = (error * w).sum() / w.sum()
    if protected is not None and strength > 0 and len(x) > 1:
        loss = loss + strength * distance_correlation(torch.log(error + 1e-8), protected, w)
    return loss


def train_autoencoder(
    model: Autoencoder,
    inputs: np.ndarray,
    *,
    config: AutoencoderTrainingConfig | None = None,
    weight: np.ndarray | None = None,
    protected: np.ndarray | None = None,
    log: Callable[[str], None] = print,
) -> AutoencoderTraining:
    """Fit ``model`` to reconstruct ``inputs`` (one class only); loads the best epoch.

    Args:
        model: an autoencoder; its preprocessing is fitted on the training part here.
        inputs: ``(n, *model.input_shape)`` events of the class to learn.
        config: epochs, batch size, learning rate, seed, validation split, DisCo λ.
        weight: event weights (negative ones count as 0; default 1).
        protected: the variable to decorrelate the error from (needed when λ > 0).

    Example:
        >>> from hep_pnn.models.autoencoder import DenseAutoencoder
        >>> x = np.random.default_rng(0).normal(size=(300, 4)).astype(np.float32)
        >>> ae = DenseAutoencoder((4,), hidden=(8,), latent=2, seed=0)
        >>> run = train_autoencoder(ae, x, config=AutoencoderTrainingConfig(epochs=2),
        ...                         log=lambda line: None)
        >>> len(run.history), run.best_epoch in (1, 2)
        (2, True)
    """
    config = config or AutoencoderTrainingConfig()
    flush_denormals()
    if config.disco_strength > 0 and protected is None:
        raise ValueError("disco_strength > 0 needs the protected variable")
    rng = np.random.default_rng(config.seed)
    n = len(inputs)
    order = rng.permutation(n)
    n_val = max(1, round(config.validation_fraction * n))
    val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
    x = torch.as_tensor(np.ascontiguousarray(inputs, dtype=np.float32))
    w = torch.as_tensor(
        np.ones(n) if weight is None else np.clip(np.asarray(weight, dtype=np.float64), 0, None),
        dtype=torch.float32,
    )
    m = None if protected is None else torch.as_tensor(np.asarray(protected, dtype=np.float32))
    model.fit_preprocessing(inputs[train])
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    history: list[dict[str, float]] = []
    best_loss, best_epoch = math.inf, 0
    best_state = {k: v.clone() for k, v in model.state_dict().items()}
    for epoch in range(1, config.epochs + 1):
        start = time.perf_counter()
        model.train()
        total = 0.0
        batches = rng.permutation(train)
        for begin in range(0, len(batches), config.batch_size):
            rows = torch.from_numpy(batches[begin : begin + config.batch_size])
            protected_rows = None if m is None else m[rows]
            loss = _loss(model, x[rows], w[rows], protected_rows, config.disco_strength)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(rows)
        model.eval()
        with torch.no_grad():
            rows = torch.from_numpy(val)
            val_loss = float(_loss(model, x[rows], w[rows], None, 0.0))
        row = {
            "epoch": float(epoch),
            "train_loss": total / max(len(train), 1),
            "val_loss": val_loss,
            "seconds": time.perf_counter() - start,
        }
        history.append(row)
        log(f"epoch {epoch}: train loss {row['train_loss']:.4g}, validation loss {val_loss:.4g}")
        if val_loss < best_loss:
            best_loss, best_epoch = val_loss, epoch
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    model.eval()
    return AutoencoderTraining(history=history, best_epoch=best_epoch)
