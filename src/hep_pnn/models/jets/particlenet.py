r"""ParticleNet: EdgeConv blocks on the k nearest neighbours of each constituent.

Written in plain PyTorch: the neighbours come from ``topk`` on pairwise distances, in η–φ
for the first block and in the learnt feature space for the next ones (a dynamic graph).
Padded constituents take no part anywhere: they are never neighbours, the edge and point
layers (batch normalisation included) run on real constituents only, and pooling averages
over real constituents. So the output does not depend on how many padding rows a jet has,
nor on the order of its constituents.

References:
    Qu, Gouskos, "ParticleNet: Jet Tagging via Particle Clouds", Phys. Rev. D 101 (2020)
    056019, arXiv:1902.08570 (ParticleNet and ParticleNet-Lite);
    Wang, Sun, Liu, Sarma, Bronstein, Solomon, "Dynamic Graph CNN for Learning on Point
    Clouds", ACM Trans. Graph. 38 (2019) 146, arXiv:1801.07829 (EdgeConv).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn

from hep_pnn.data.jets.particles import PARTICLE_FEATURES, particle_inputs
from hep_pnn.models.jets.base import JetModelConfig, JetTagger, on_meta

__all__ = [
    "EdgeConv",
    "EdgeConvSpec",
    "ParticleNet",
    "ParticleNetConfig",
    "nearest_neighbours",
    "particle_net_lite",
]


class EdgeConvSpec(BaseModel):
    """One EdgeConv block: ``k`` neighbours and the widths of its edge layers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    k: int = Field(gt=0)
    channels: tuple[int, ...] = Field(min_length=1)


class ParticleNetConfig(JetModelConfig):
    """Blocks and head of :class:`ParticleNet` (defaults: ParticleNet-Lite's sizes)."""

    n_particles: int = Field(100, gt=0)
    edge_convs: tuple[EdgeConvSpec, ...] = (
        EdgeConvSpec(k=7, channels=(32, 32, 32)),
        EdgeConvSpec(k=7, channels=(64, 64, 64)),
    )
    fc: tuple[int, ...] = (128,)
    dropout: float = Field(0.1, ge=0, lt=1)


#: Floats in the largest intermediate tensor of one scoring pass (see
#: :attr:`ParticleNet.score_batch_size`).
SCORE_ELEMENTS = 2**26


def particle_net_lite() -> ParticleNetConfig:
    """ParticleNet-Lite (2 blocks, k = 7; 32 and 64 channels; 128 units).

    Example:
        >>> [spec.k for spec in particle_net_lite().edge_convs]
        [7, 7]
    """
    return ParticleNetConfig()


def nearest_neighbours(points: Tensor, mask: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Indices ``(n, p, k)`` of each point's k nearest other real points, and their validity.

    Jets with fewer than ``k + 1`` real points get invalid entries (``valid == False``).

    Example:
        >>> points = torch.tensor([[[0.0], [1.0], [3.0], [0.0]]])
        >>> index, valid = nearest_neighbours(points, torch.tensor([[True, True, True, False]]), 1)
        >>> index[0, :3, 0].tolist(), valid[0, :, 0].tolist()
        ([1, 0, 1], [True, True, True, False])
    """
    n_points = points.shape[1]
    k = min(k, max(n_points - 1, 1))
    distance = torch.cdist(points, points).detach()
    excluded = ~(mask[:, :, None] & mask[:, None, :])
    excluded |= torch.eye(n_points, dtype=torch.bool, device=points.device)
    distance = distance.masked_fill(excluded, float("inf"))
    nearest, index = distance.topk(k, dim=2, largest=False)
    return index, torch.isfinite(nearest)


class EdgeConv(nn.Module):
    """``mean_j MLP(x_i, x_j - x_i)`` over the neighbours j of i, plus a shortcut of x_i.

    Operates on real points only, given as the rows where ``mask`` is True.

    Example:
        >>> block = EdgeConv(3, EdgeConvSpec(k=2, channels=(4, 5)))
        >>> x = torch.randn(2, 6, 3, generator=torch.Generator().manual_seed(0))
        >>> block(x, x, torch.ones(2, 6, dtype=torch.bool)).shape
        torch.Size([2, 6, 5])
    """

    def __init__(self, in_channels: int, spec: EdgeConvSpec) -> None:
        super().__init__()
        self.k = spec.k
        layers: list[nn.Module] = []
        width = 2 * in_channels
        for channels in spec.channels:
            layers += [nn.Linear(width, channels, bias=False), nn.BatchNorm1d(channels), nn.ReLU()]
            width = channels
        self.edge_mlp = nn.Sequential(*layers)
        self.shortcut = nn.Sequential(
            nn.Linear(in_channels, width, bias=False), nn.BatchNorm1d(width)
        )
        self.out_channels = width

    def forward(self, points: Tensor, features: Tensor, mask: Tensor) -> Tensor:
        """``points (n, p, d)`` for the neighbour search, ``features (n, p, c)``, ``mask (n, p)``
        → ``(n, p, out_channels)`` with zeros on padded rows."""
        n, p, c = features.shape
        index, valid = nearest_neighbours(points, mask, self.k)
        k = index.shape[2]
        edge = valid & mask[:, :, None]
        offset = torch.arange(n, device=features.device)[:, None, None] * p
        neighbours = features.reshape(n * p, c)[index + offset]
        centre = features[:, :, None, :].expand(n, p, k, c)
        edges = torch.cat([centre, neighbours - centre], dim=3)[edge]
        messages = features.new_zeros(n, p, k, self.out_channels)
        messages[edge] = self.edge_mlp(edges)
        count = edge.sum(dim=2, keepdim=True).clamp(min=1)
        aggregated = messages.sum(dim=2) / count
        out = features.new_zeros(n, p, self.out_channels)
        out[mask] = torch.relu(aggregated[mask] + self.shortcut(features[mask]))
        return out


class ParticleNet(JetTagger):
    """EdgeConv blocks, mean pooling over real constituents, a dense head, one logit per jet.

    Inputs (see :func:`~hep_pnn.data.jets.particles.particle_inputs`): ``coordinates
    (n, p, 2)``, ``features (n, p, 7)``, ``mask (n, p)`` bool.

    Example:
        >>> config = ParticleNetConfig(edge_convs=[{"k": 3, "channels": [8]}], fc=[8])
        >>> net = ParticleNet(config).eval()
        >>> inputs = net.prepare(np.random.default_rng(0).uniform(1, 2, (2, 10, 4)))
        >>> net({k: torch.as_tensor(v) for k, v in inputs.items()}).shape
        torch.Size([2])

    References:
        Qu, Gouskos, arXiv:1902.08570; Wang et al., arXiv:1801.07829.
    """

    kind: ClassVar[str] = "particlenet"
    config: ParticleNetConfig

    def __init__(self, config: ParticleNetConfig | None = None, *, seed: int = 0) -> None:
        config = config or ParticleNetConfig()
        super().__init__(config, seed=seed)
        with on_meta():
            self._build_layers(config)
        self._materialise()

    @property
    def score_batch_size(self) -> int:
        """Jets per scoring pass such that the largest EdgeConv tensor (jets × particles
        × k × channels) stays near 2²⁶ floats (256 MB): ≈ 1,500 jets for ParticleNet-Lite on
        100 constituents, ≈ 160 for ParticleNet."""
        widest = max(spec.k * max(spec.channels) for spec in self.config.edge_convs)
        return max(16, min(4096, SCORE_ELEMENTS // (self.config.n_particles * widest)))

    def _build_layers(self, config: ParticleNetConfig) -> None:
        width = len(PARTICLE_FEATURES)
        self.input_norm = nn.BatchNorm1d(width)
        blocks = []
        for spec in config.edge_convs:
            blocks.append(EdgeConv(width + self._extra_width(), spec))
            width = blocks[-1].out_channels
        self.blocks = nn.ModuleList(blocks)
        head: list[nn.Linear] = []
        width += self._extra_width()
        for units in config.fc:
            head.append(nn.Linear(width, units))
            width = units + self._extra_width()
        self.head = nn.ModuleList(head)
        self.output = nn.Linear(width, 1)

    def _extra_width(self) -> int:
        """Columns a conditioning appends to each layer's input (0 for the plain network)."""
        return 0

    def _condition(self, h: Tensor, parameter: Tensor | None, layer: int) -> Tensor:
        """Hook of the parametric subclass: ``h`` of rows with their parameter values."""
        return h

    def prepare(self, constituents: np.ndarray) -> dict[str, np.ndarray]:
        inputs = particle_inputs(constituents, n_particles=self.config.n_particles)
        return {"coordinates": inputs.coordinates, "features": inputs.features, "mask": inputs.mask}

    def forward(self, inputs: Mapping[str, Tensor]) -> Tensor:
        mask = inputs["mask"].bool()
        parameter = self._scaled_parameter(inputs)
        features = inputs["features"]
        points = inputs["coordinates"]
        # per-constituent parameter rows, for conditioning the point features
        per_point = None if parameter is None else parameter[:, None].expand(mask.shape)
        h = features.new_zeros(features.shape)
        h[mask] = self.input_norm(features[mask])
        for index, block in enumerate(self.blocks):
            if per_point is not None:
                h = self._conditioned_points(h, mask, per_point, index)
            h = block(points, h, mask)
            points = h
        count = mask.sum(dim=1, keepdim=True).clamp(min=1)
        pooled = h.sum(dim=1) / count
        for index, layer in enumerate(self.head):
            pooled = self._condition(pooled, parameter, len(self.blocks) + index)
            pooled = self.dropout(torch.relu(layer(pooled)), self.config.dropout)
        pooled = self._condition(pooled, parameter, len(self.blocks) + len(self.head))
        logits: Tensor = self.output(pooled).squeeze(1)
        return logits

    def _conditioned_points(self, h: Tensor, mask: Tensor, per_point: Tensor, layer: int) -> Tensor:
        conditioned = self._condition(h[mask], per_point[mask], layer)
        out = h.new_zeros(*h.shape[:2], conditioned.shape[1])
        out[mask] = conditioned
        return out

    def _scaled_parameter(self, inputs: Mapping[str, Tensor]) -> Tensor | None:
        return None
