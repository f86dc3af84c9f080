r"""A parametric ParticleNet: every block conditioned on a physics parameter (e.g. a Z′ mass).

The input of each EdgeConv block (per constituent), of each dense layer and of the output
layer goes through one of the project's conditioning layers
(:data:`~hep_pnn.models.conditioning.CONDITIONINGS`: ``concat``, ``bias``, ``scale``,
``affine``), fed the parameter standardised with the training sample's mean and spread.

References:
    Baldi, Cranmer, Faucett, Sadowski, Whiteson, "Parameterized neural networks for
    high-energy physics", Eur. Phys. J. C 76 (2016) 235, arXiv:1601.07913;
    Anzalone, Diotalevi, Bonacorsi, MLST 3 (2022) 035017, arXiv:2202.00424 (conditioning);
    Qu, Gouskos, arXiv:1902.08570 (ParticleNet).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from pydantic import field_validator
from torch import Tensor, nn

from hep_pnn.models.conditioning import CONDITIONINGS, Conditioning
from hep_pnn.models.jets.particlenet import ParticleNet, ParticleNetConfig

__all__ = ["ParametricParticleNet", "ParametricParticleNetConfig"]


class ParametricParticleNetConfig(ParticleNetConfig):
    """:class:`ParticleNetConfig` plus the conditioning mechanism's name."""

    conditioning: str = "affine"

    @field_validator("conditioning")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in CONDITIONINGS:
            raise ValueError(
                f"unknown conditioning {name!r}: use one of {', '.join(CONDITIONINGS)}"
            )
        return name


class ParametricParticleNet(ParticleNet):
    """ParticleNet whose blocks and head are conditioned on ``inputs["parameter"]`` ``(n,)``.

    Call :meth:`fit_parameter` on the training values first (the default scaling is none).

    Example:
        >>> config = ParametricParticleNetConfig(edge_convs=[{"k": 3, "channels": [8]}], fc=[8])
        >>> net = ParametricParticleNet(config).eval()
        >>> inputs = net.prepare(np.random.default_rng(0).uniform(1, 2, (2, 10, 4)))
        >>> inputs["parameter"] = np.array([500.0, 1000.0], np.float32)
        >>> net({k: torch.as_tensor(v) for k, v in inputs.items()}).shape
        torch.Size([2])

    References:
        Baldi et al., arXiv:1601.07913; Anzalone et al., arXiv:2202.00424; Qu, Gouskos,
        arXiv:1902.08570.
    """

    kind: ClassVar[str] = "parametric_particlenet"
    parametric: ClassVar[bool] = True
    config: ParametricParticleNetConfig
    parameter_offset: Tensor
    parameter_divisor: Tensor

    def __init__(self, config: ParametricParticleNetConfig | None = None, *, seed: int = 0) -> None:
        config = config or ParametricParticleNetConfig()
        self._make = CONDITIONINGS[config.conditioning]
        super().__init__(config, seed=seed)

    def _build_layers(self, config: ParticleNetConfig) -> None:
        super()._build_layers(config)
        widths = [len(self.input_norm.weight)]
        widths += [block.out_channels for block in self.blocks]  # type: ignore[misc]
        widths = [*widths[: len(self.blocks)], widths[-1], *config.fc]
        self.conditionings = nn.ModuleList([self._make(width) for width in widths])
        self.register_buffer("parameter_offset", torch.zeros(()))
        self.register_buffer("parameter_divisor", torch.ones(()))

    def _extra_width(self) -> int:
        return self._make.extra_width

    def _reset_buffers(self) -> None:
        with torch.no_grad():
            self.parameter_offset.fill_(0.0)
            self.parameter_divisor.fill_(1.0)

    def fit_parameter(self, values: np.ndarray) -> None:
        """Standardise the parameter with the mean and standard deviation of ``values``."""
        values = np.asarray(values, np.float64)
        with torch.no_grad():
            self.parameter_offset.fill_(float(values.mean()))
            self.parameter_divisor.fill_(max(float(values.std()), 1e-6))

    def _scaled_parameter(self, inputs: Mapping[str, Tensor]) -> Tensor:
        if "parameter" not in inputs:
            raise ValueError(f"{self.kind} needs inputs['parameter'], one value per jet")
        parameter = inputs["parameter"].to(self.parameter_offset.dtype)
        return (parameter - self.parameter_offset) / self.parameter_divisor

    def _condition(self, h: Tensor, parameter: Tensor | None, layer: int) -> Tensor:
        assert parameter is not None
        conditioning: Conditioning = self.conditionings[layer]  # type: ignore[assignment]
        return conditioning(h, parameter[:, None])

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "parameter_scaling": [float(self.parameter_offset), float(self.parameter_divisor)],
        }
