"""What every jet tagger shares: one ``nn.Module`` interface, seeded initialisation, scoring.

A tagger turns constituents into its own inputs with :meth:`JetTagger.prepare` (numpy, done
once per sample) and maps a batch of those inputs, as tensors, to one logit per jet with
``forward``. Parametric taggers also take ``inputs["parameter"]`` (raw units, e.g. GeV).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict
from torch import Tensor, nn

from hep_pnn._random import spawn

if TYPE_CHECKING:
    from hep_pnn.data.jets.sample import JetSample

__all__ = ["JetModelConfig", "JetScorer", "JetTagger", "on_meta", "to_tensors"]


class JetScorer(Protocol):
    """What evaluation needs from a trained jet model: a :class:`JetTagger` or a jet-level
    baseline (:class:`~hep_pnn.models.jets.features.JetFeatureModel`)."""

    @property
    def parametric(self) -> bool:
        """Whether every jet needs a parameter value."""
        ...

    def predict(self, constituents: np.ndarray, parameter: np.ndarray | None = None) -> np.ndarray:
        """Probability that each jet of ``(n, m, 4)`` constituents is signal."""
        ...

    def predict_jets(self, jets: JetSample, parameter: np.ndarray | None = None) -> np.ndarray:
        """Probability that each jet of ``jets`` is signal (may use its jet-level features)."""
        ...


class JetModelConfig(BaseModel):
    """Base of the architecture configs: frozen, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@contextmanager
def on_meta() -> Iterator[None]:
    """Build layers without storage, so their default initialisation draws no random numbers
    from the global generator (the tagger initialises them from its own seed afterwards)."""
    with torch.device("meta"):
        yield


def to_tensors(
    arrays: Mapping[str, np.ndarray], index: np.ndarray | slice, device: torch.device | str
) -> dict[str, Tensor]:
    """Rows ``index`` of prepared inputs as tensors on ``device``.

    Example:
        >>> to_tensors({"a": np.zeros((4, 2), np.float32)}, slice(0, 3), "cpu")["a"].shape
        torch.Size([3, 2])
    """
    return {name: torch.as_tensor(values[index]).to(device) for name, values in arrays.items()}


class JetTagger(nn.Module):
    """Base class of the jet taggers.

    Subclasses set :attr:`kind` (their registry name), build their layers inside
    :func:`on_meta` and call :meth:`_materialise` at the end of ``__init__``.
    """

    kind: ClassVar[str]
    #: Whether ``forward`` needs ``inputs["parameter"]`` (the conditioning value per jet).
    parametric: ClassVar[bool] = False

    @property
    def score_batch_size(self) -> int:
        """Jets per forward pass when scoring (validation, :meth:`predict`): bounds the
        memory of inference whatever the number of jets."""
        return 512

    def __init__(self, config: JetModelConfig, *, seed: int) -> None:
        super().__init__()
        self.config = config
        self.seed = seed
        init_seed, dropout_seed = (int(s.generate_state(1)[0]) for s in spawn(seed, 2))
        self._init_seed = init_seed
        #: Source of dropout masks (never the global generator).
        self.generator = torch.Generator().manual_seed(dropout_seed)

    def _materialise(self) -> None:
        self.to_empty(device="cpu")
        self.reset_parameters(generator=torch.Generator().manual_seed(self._init_seed))

    def reset_parameters(self, *, generator: torch.Generator) -> None:
        """PyTorch's default initialisation of every layer, drawn from ``generator``."""
        for module in self.modules():
            if isinstance(module, nn.Linear | nn.Conv2d):
                fan_in = module.weight[0].numel()
                bound = fan_in**-0.5
                nn.init.uniform_(module.weight, -bound, bound, generator=generator)
                if module.bias is not None:
                    nn.init.uniform_(module.bias, -bound, bound, generator=generator)
            elif isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d):
                module.reset_parameters()
        self._reset_buffers()

    def _reset_buffers(self) -> None:
        """Set the tagger's own buffers (after :meth:`_materialise` left them empty)."""

    def dropout(self, h: Tensor, p: float) -> Tensor:
        """Inverted dropout with masks from :attr:`generator`; the identity in eval mode."""
        if not self.training or p <= 0:
            return h
        keep = torch.empty_like(h).bernoulli_(1 - p, generator=self._generator_on(h))
        return h * keep / (1 - p)

    def _generator_on(self, h: Tensor) -> torch.Generator | None:
        return self.generator if h.device.type == "cpu" else None

    def fit_parameter(self, values: np.ndarray) -> None:
        """Set the scaling of the parameter from its training values (parametric taggers)."""

    def prepare(self, constituents: np.ndarray) -> dict[str, np.ndarray]:
        """This tagger's inputs for ``(n, m, 4)`` constituents, one row per jet."""
        raise NotImplementedError

    def forward(self, inputs: Mapping[str, Tensor]) -> Tensor:
        """One logit per jet, shape ``(n,)``."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What :func:`~hep_pnn.models.jets.save_tagger` writes into ``model.json``."""
        return {"kind": self.kind, "config": self.config.model_dump(mode="json"), "seed": self.seed}

    def predict_jets(self, jets: JetSample, parameter: np.ndarray | None = None) -> np.ndarray:
        """:meth:`predict` on the constituents of ``jets``."""
        return self.predict(jets.constituents, parameter)

    @torch.no_grad()
    def predict(
        self,
        constituents: np.ndarray,
        parameter: np.ndarray | None = None,
        *,
        batch_size: int | None = None,
    ) -> np.ndarray:
        """Probability that each jet is signal (top), shape ``(n,)``, in eval mode.

        ``parameter`` (one value per jet, or None) is used by parametric taggers only;
        ``batch_size`` defaults to :attr:`score_batch_size`.
        """
        if batch_size is None:
            batch_size = self.score_batch_size
        was_training = self.training
        self.eval()
        try:
            device = next(self.parameters()).device
            scores = []
            for start in range(0, len(constituents), batch_size):
                arrays = self.prepare(constituents[start : start + batch_size])
                if self.parametric:
                    if parameter is None:
                        raise ValueError(f"{self.kind} needs a parameter value for every jet")
                    chunk = np.asarray(parameter, np.float32)[start : start + batch_size]
                    arrays["parameter"] = chunk
                logits = self(to_tensors(arrays, slice(None), device))
                scores.append(torch.sigmoid(logits).cpu().numpy())
            return np.concatenate(scores) if scores else np.zeros(0, np.float32)
        finally:
            self.train(was_training)
