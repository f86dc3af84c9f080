r"""Decorrelating a classifier from a protected variable (the mass): DisCo and an adversary.

A classifier that learned the resonance mass (m_WWbb, ``f26``; the jet mass for taggers)
sculpts the background: a cut on its score keeps background events near the signal mass and
carves a fake bump (:mod:`hep_pnn.evaluation.sculpting`). Both methods here add a term to the
classifier's loss, computed on the *background* events of each batch (their mass shape is
what a bump hunt fits), with strength :math:`\lambda`:

* ``disco``: :math:`L = L_\mathrm{clf} + \lambda\,\mathrm{dCorr}^2_w(s, m)`, the weighted
  squared distance correlation between the score :math:`s = \sigma(z)` and the protected
  variable (zero if and only if they are independent); Kasieczka & Shih, arXiv:2001.05310.
* ``adversary``: an adversary :math:`\Phi` reads the score and predicts the protected
  variable — a Gaussian mixture of ``adversary_components`` components for its full
  conditional density (0: a mean-squared-error regression); per batch it takes
  ``adversary_steps`` Adam steps on the detached scores, then the classifier minimises
  :math:`L = L_\mathrm{clf} - \lambda L_\mathrm{adv}`; Louppe, Kagan, Cranmer,
  arXiv:1611.01046.

``strength: 0`` switches the term off entirely (the plain training, bit for bit).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal, Protocol

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError
from hep_pnn.training.checkpoint import optimizer_from_flat, optimizer_to_flat

__all__ = [
    "DECORRELATIONS",
    "AdversaryPenalty",
    "DecorrelationConfig",
    "DecorrelationTerm",
    "DiscoPenalty",
    "MassAdversary",
    "decorrelation_term",
    "distance_correlation",
    "make_decorrelation",
]


class DecorrelationConfig(BaseModel):
    """``training.decorrelation``: which method, how strong, from which variable.

    Example:
        >>> DecorrelationConfig(method="disco", strength=10).variable
        'f26'
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["disco", "adversary"]
    #: λ, the weight of the decorrelation term (0: plain training).
    strength: float = Field(ge=0)
    #: The protected variable: a feature column of the training data (m_WWbb by default).
    variable: str = "f26"
    adversary_hidden: tuple[int, ...] = (32, 32)
    #: Gaussian components of the adversary's density (0: mean-squared-error regression).
    adversary_components: int = Field(5, ge=0)
    adversary_learning_rate: float = Field(1e-3, gt=0)
    #: Adversary updates per classifier update.
    adversary_steps: int = Field(5, gt=0)


def distance_correlation(
    x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    r"""Weighted squared distance correlation :math:`\mathrm{dCorr}^2(x, y)` in [0, 1].

    With weights :math:`w` normalised to mean 1 and distance matrices double-centred with
    them, :math:`\mathrm{dCov}^2(x, y) = \langle w_i w_j A_{ij} B_{ij} \rangle` and
    :math:`\mathrm{dCorr}^2 = \mathrm{dCov}^2(x, y) / \sqrt{\mathrm{dCov}^2(x, x)\,
    \mathrm{dCov}^2(y, y)}`; O(n²) memory, meant for batches. Differentiable in both.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.randn(500, generator=g)
        >>> independent = distance_correlation(x, torch.randn(500, generator=g))
        >>> dependent = distance_correlation(x, x**2)
        >>> bool(independent < 0.05 < 0.3 < dependent), float(distance_correlation(x, 3 * x))
        (True, 1.0)

    References:
        Székely, Rizzo, Bakirov, Ann. Statist. 35 (2007) 2769; the weighted form used as a
        loss: Kasieczka, Shih, PRL 125 (2020) 122001, arXiv:2001.05310.
    """
    w = torch.ones_like(x) if weight is None else weight / weight.mean()

    def centred(values: torch.Tensor) -> torch.Tensor:
        distance = (values[:, None] - values[None, :]).abs()
        row = (distance * w[None, :]).mean(dim=1)
        return distance - row[:, None] - row[None, :] + (row * w).mean()

    a, b = centred(x), centred(y)
    pair = w[:, None] * w[None, :]

    def covariance(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        return (p * q * pair).mean()

    denominator = torch.sqrt(covariance(a, a) * covariance(b, b))
    return covariance(a, b) / denominator.clamp_min(1e-12)


class DecorrelationTerm(Protocol):
    """What the training loop asks of a decorrelation method.

    ``data_parallel``: whether the term may run in every process of a data-parallel
    training on that process's share of the batch (False: state that would diverge).
    """

    data_parallel: bool

    def term(
        self,
        logits: torch.Tensor,
        protected: torch.Tensor,
        target: torch.Tensor,
        weight: torch.Tensor,
    ) -> torch.Tensor:
        """The term added to the classifier's loss on one batch (may update itself first)."""
        ...

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Tensors and JSON state to checkpoint (empty for a stateless term)."""
        ...

    def load_state(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        """Restore what :meth:`state` returned."""
        ...


def _background(
    logits: torch.Tensor, protected: torch.Tensor, target: torch.Tensor, weight: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    keep = target < 0.5
    return torch.sigmoid(logits[keep]), protected[keep], weight[keep].clamp_min(0.0)


class DiscoPenalty:
    r""":math:`\lambda\,\mathrm{dCorr}^2_w(\sigma(z), m)` on the batch's background events.

    Example:
        >>> penalty = DiscoPenalty(strength=2.0)
        >>> z = torch.linspace(-1, 1, 8)
        >>> round(float(penalty.term(z, z, torch.zeros(8), torch.ones(8))), 2)
        2.0

    References:
        Kasieczka, Shih, "Robust jet classifiers through distance correlation",
        PRL 125 (2020) 122001, arXiv:2001.05310.
    """

    data_parallel = True

    def __init__(self, *, strength: float) -> None:
        self.strength = strength

    def term(
        self,
        logits: torch.Tensor,
        protected: torch.Tensor,
        target: torch.Tensor,
        weight: torch.Tensor,
    ) -> torch.Tensor:
        score, mass, w = _background(logits, protected, target, weight)
        if len(score) < 2 or float(w.sum()) <= 0:
            return logits.sum() * 0.0
        return self.strength * distance_correlation(score, mass, w)

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return {}, {}

    def load_state(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        return None


class MassAdversary(nn.Module):
    r"""Φ: the density (or mean) of the standardised protected variable given the score.

    ``components > 0``: a Gaussian mixture whose weights, means and widths are functions of
    the score; ``components == 0``: a regression with unit-width Gaussian (MSE up to a
    constant). :meth:`loss` returns the per-event negative log-likelihood.

    Example:
        >>> phi = MassAdversary(components=3, generator=torch.Generator().manual_seed(0))
        >>> phi.loss(torch.rand(4), torch.randn(4)).shape
        torch.Size([4])

    References:
        Louppe, Kagan, Cranmer, "Learning to pivot with adversarial networks",
        arXiv:1611.01046 (a mixture density network as adversary).
    """

    def __init__(
        self,
        *,
        hidden: Sequence[int] = (32, 32),
        components: int = 5,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        self.components = components
        layers: list[nn.Module] = []
        width = 1
        for units in hidden:
            layers += [nn.Linear(width, units), nn.ReLU()]
            width = units
        layers.append(nn.Linear(width, 3 * components if components else 1))
        self.net = nn.Sequential(*layers)
        with torch.no_grad():
            for parameter in self.parameters():
                bound = 1.0 / math.sqrt(parameter.shape[-1])
                parameter.uniform_(-bound, bound, generator=generator)

    def loss(self, score: torch.Tensor, protected: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of ``protected`` (standardised) given ``score``, per event."""
        out = self.net(score[:, None])
        if not self.components:
            return 0.5 * (out[:, 0] - protected) ** 2
        logit, mean, log_width = out.chunk(3, dim=1)
        log_width = log_width.clamp(-5.0, 5.0)
        z = (protected[:, None] - mean) / log_width.exp()
        log_density = -0.5 * z**2 - log_width - 0.5 * math.log(2 * math.pi)
        return -torch.logsumexp(torch.log_softmax(logit, dim=1) + log_density, dim=1)


class AdversaryPenalty:
    r""":math:`-\lambda L_\mathrm{adv}` after ``steps`` updates of the adversary on the batch.

    The protected variable is standardised with the weighted mean and width of the training
    background (``centre``, ``scale``); the adversary has its own Adam optimiser.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> penalty = AdversaryPenalty(MassAdversary(components=2, generator=g), strength=1.0,
        ...                            centre=0.0, scale=1.0)
        >>> z, m = torch.randn(64, generator=g), torch.randn(64, generator=g)
        >>> float(penalty.term(z, m, torch.zeros(64), torch.ones(64))) < 0
        True

    References:
        Louppe, Kagan, Cranmer, arXiv:1611.01046; the mass-decorrelated jet-image autoencoder
        of Heimel, Kasieczka, Plehn, Thompson, arXiv:1808.08979.
    """

    data_parallel = False  # each process would train its own adversary

    def __init__(
        self,
        adversary: MassAdversary,
        *,
        strength: float,
        centre: float,
        scale: float,
        learning_rate: float = 1e-3,
        steps: int = 1,
    ) -> None:
        self.adversary, self.strength, self.steps = adversary, strength, steps
        self.centre, self.scale = centre, scale
        self.optimizer = torch.optim.Adam(adversary.parameters(), lr=learning_rate)

    def _mean_loss(self, score: torch.Tensor, mass: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return (self.adversary.loss(score, mass) * w).sum() / w.sum()

    def term(
        self,
        logits: torch.Tensor,
        protected: torch.Tensor,
        target: torch.Tensor,
        weight: torch.Tensor,
    ) -> torch.Tensor:
        score, mass, w = _background(logits, protected, target, weight)
        if len(score) < 2 or float(w.sum()) <= 0:
            return logits.sum() * 0.0
        mass = (mass - self.centre) / self.scale
        detached = score.detach()
        for _ in range(self.steps):
            self.optimizer.zero_grad(set_to_none=True)
            self._mean_loss(detached, mass, w).backward()
            self.optimizer.step()
        self.adversary.requires_grad_(False)  # the classifier's step must not move Φ
        try:
            return -self.strength * self._mean_loss(score, mass, w)
        finally:
            self.adversary.requires_grad_(True)

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        optimizer_tensors, optimizer_state = optimizer_to_flat(self.optimizer)
        tensors = {f"adversary.{k}": v for k, v in self.adversary.state_dict().items()}
        return {**tensors, **optimizer_tensors}, {"optimizer": optimizer_state}

    def load_state(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        prefix = "adversary."
        self.adversary.load_state_dict(
            {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        )
        optimizer_from_flat(self.optimizer, tensors, state["optimizer"])


def _disco(config: DecorrelationConfig, **_: Any) -> DecorrelationTerm:
    return DiscoPenalty(strength=config.strength)


def _adversary(
    config: DecorrelationConfig, *, centre: float, scale: float, seed: int
) -> DecorrelationTerm:
    adversary = MassAdversary(
        hidden=config.adversary_hidden,
        components=config.adversary_components,
        generator=torch.Generator().manual_seed(seed),
    )
    return AdversaryPenalty(
        adversary,
        strength=config.strength,
        centre=centre,
        scale=scale,
        learning_rate=config.adversary_learning_rate,
        steps=config.adversary_steps,
    )


#: ``training.decorrelation.method`` → builder of its loss term.
DECORRELATIONS: dict[str, Any] = {"disco": _disco, "adversary": _adversary}


def decorrelation_term(
    config: DecorrelationConfig,
    background: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    seed: int,
) -> DecorrelationTerm:
    """The loss term of ``config``, standardised on the training background's protected
    values ``background`` (with their ``weight``; default 1); for data without an
    :class:`~hep_pnn.data.table.EventTable` (jets).

    Example:
        >>> term = decorrelation_term(DecorrelationConfig(method="adversary", strength=1),
        ...                           np.array([80.0, 120.0, 160.0]), seed=0)
        >>> type(term).__name__, round(term.centre, 1), round(term.scale, 1)
        ('AdversaryPenalty', 120.0, 32.7)
    """
    values = np.asarray(background, dtype=np.float64)
    weight = np.ones(len(values)) if weight is None else np.asarray(weight, dtype=np.float64)
    weight = np.clip(weight, 0.0, None)
    weight = weight if weight.sum() > 0 else np.ones(len(values))
    centre = float(np.average(values, weights=weight))
    spread = math.sqrt(float(np.average((values - centre) ** 2, weights=weight)))
    builder = DECORRELATIONS[config.method]
    term: DecorrelationTerm = builder(
        config, centre=centre, scale=spread if spread > 0 else 1.0, seed=seed
    )
    return term


def make_decorrelation(
    config: DecorrelationConfig | None,
    table: EventTable,
    train_index: np.ndarray,
    *,
    seed: int,
) -> tuple[DecorrelationTerm, torch.Tensor] | None:
    """The loss term and the protected variable of every event, or ``None`` (switched off).

    Raises:
        ConfigError: the protected variable is not a column of ``table``.

    Example:
        >>> t = EventTable.from_arrays(np.ones((4, 2)), label=[1, 0, 1, 0], mass=[1.0] * 4,
        ...                            feature_names=["a", "f26"])
        >>> term, protected = make_decorrelation(
        ...     DecorrelationConfig(method="disco", strength=1), t, np.arange(4), seed=0)
        >>> type(term).__name__, protected.shape
        ('DiscoPenalty', torch.Size([4]))
    """
    if config is None or config.strength == 0:
        return None
    if config.variable not in table.feature_names:
        raise ConfigError(
            f"the protected variable {config.variable!r} is not a column of the training data",
            where="training.decorrelation.variable",
            fix=f"choose one of {', '.join(table.feature_names)}",
        )
    values = table.column(config.variable).astype(np.float32)
    rows = train_index[table.label[train_index] == 0]
    if len(rows) == 0:
        raise ConfigError(
            "decorrelation needs background events in the training data",
            where="training.decorrelation",
            fix="train on signal and background, or remove training.decorrelation",
        )
    term = decorrelation_term(config, values[rows], table.weight[rows], seed=seed)
    return term, torch.from_numpy(np.ascontiguousarray(values))
