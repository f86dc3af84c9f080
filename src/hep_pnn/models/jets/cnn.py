r"""A convolutional network on jet images, in the style of DeepTop.

References:
    Kasieczka, Plehn, Russell, Schell, "Deep-learning top taggers or the end of QCD?",
    JHEP 05 (2017) 006, arXiv:1701.08784 (DeepTop: 4 × 4 convolutions with 8 feature
    maps, max pooling, dense layers of 64 units on 40 × 40 top-jet images);
    de Oliveira, Kagan, Mackey, Nachman, Schwartzman, "Jet-images — deep learning edition",
    JHEP 07 (2016) 069, arXiv:1511.05190.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import torch
from pydantic import Field, model_validator
from torch import Tensor, nn

from hep_pnn.data.jets.images import IMAGE_EXTENT, IMAGE_SIZE, jet_images
from hep_pnn.models.jets.base import JetModelConfig, JetTagger, on_meta

__all__ = ["JetCNN", "JetCNNConfig"]


class JetCNNConfig(JetModelConfig):
    """Image size and layers of :class:`JetCNN` (defaults: the DeepTop layout)."""

    image_size: int = Field(IMAGE_SIZE, gt=3)
    extent: float = Field(IMAGE_EXTENT, gt=0)
    #: Feature maps of each convolution ("same" padding).
    channels: tuple[int, ...] = (8, 8, 8, 8)
    kernel_size: int = Field(4, gt=0)
    #: Max-pool (2 × 2) after these convolutions (1-based).
    pool_after: tuple[int, ...] = (2, 4)
    dense: tuple[int, ...] = (64, 64, 64)
    dropout: float = Field(0.0, ge=0, lt=1)

    @model_validator(mode="after")
    def _pools_exist(self) -> JetCNNConfig:
        if not self.channels or any(not 1 <= p <= len(self.channels) for p in self.pool_after):
            raise ValueError("channels must be non-empty and pool_after must name convolutions")
        if self.image_size // 2 ** len(self.pool_after) < 1:
            raise ValueError("too many poolings for the image size")
        return self


class JetCNN(JetTagger):
    """Convolutions + ReLU with max pooling, then dense ReLU layers, one logit per jet.

    Input ``inputs["image"]``: ``(n, size, size)`` images of :func:`jet_images`.

    Example:
        >>> net = JetCNN(JetCNNConfig(image_size=8, channels=(2,), pool_after=(1,), dense=(4,)))
        >>> net({"image": torch.zeros(3, 8, 8)}).shape
        torch.Size([3])

    References:
        Kasieczka et al., arXiv:1701.08784; de Oliveira et al., arXiv:1511.05190.
    """

    kind: ClassVar[str] = "jet_cnn"
    config: JetCNNConfig

    def __init__(self, config: JetCNNConfig | None = None, *, seed: int = 0) -> None:
        config = config or JetCNNConfig()
        super().__init__(config, seed=seed)
        with on_meta():
            convs: list[nn.Module] = []
            width, size = 1, config.image_size
            before = (config.kernel_size - 1) // 2
            # "same" size for even kernels too, without a padded copy inside conv2d
            padding = (before, config.kernel_size - 1 - before) * 2
            for index, channels in enumerate(config.channels, start=1):
                convs += [
                    nn.ZeroPad2d(padding),
                    nn.Conv2d(width, channels, config.kernel_size),
                    nn.ReLU(),
                ]
                if index in config.pool_after:
                    convs.append(nn.MaxPool2d(2))
                    size //= 2
                width = channels
            self.convolutions = nn.Sequential(*convs)
            dense: list[nn.Linear] = []
            width = width * size * size
            for units in config.dense:
                dense.append(nn.Linear(width, units))
                width = units
            self.dense = nn.ModuleList(dense)
            self.output = nn.Linear(width, 1)
        self._materialise()

    def prepare(self, constituents: np.ndarray) -> dict[str, np.ndarray]:
        images = jet_images(constituents, size=self.config.image_size, extent=self.config.extent)
        return {"image": images}

    def forward(self, inputs: Mapping[str, Tensor]) -> Tensor:
        image = inputs["image"]
        # pT fractions times the number of pixels: order-one inputs (a flat image is all ones)
        h = self.convolutions(image.unsqueeze(1) * image[0].numel()).flatten(1)
        for layer in self.dense:
            h = self.dropout(torch.relu(layer(h)), self.config.dropout)
        logits: Tensor = self.output(h).squeeze(1)
        return logits
