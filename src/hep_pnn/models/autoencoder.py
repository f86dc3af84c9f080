r"""Autoencoders for anomaly detection: the reconstruction error is the anomaly score.

Trained on one class only (background: QCD jets, SM tt̄), an autoencoder reconstructs what
it saw well and anything else worse. Two architectures share one interface
(:class:`Autoencoder`): a dense one on any fixed-shape array per event (jet-level or
HEPMASS features ``(n, f)``, constituents ``(n, 200, 4)``), and a convolutional one on
square images (jet images ``(n, 40, 40)``). Inputs are standardised inside the model
(buffers fitted on training data by :meth:`Autoencoder.fit_preprocessing`), so both take raw
arrays. Saved as ``autoencoder.json`` + ``autoencoder.safetensors`` (no pickle).
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from hep_pnn._io import atomic_dir
from hep_pnn.errors import ModelError

__all__ = [
    "AUTOENCODERS",
    "Autoencoder",
    "ConvAutoencoder",
    "DenseAutoencoder",
    "build_autoencoder",
    "load_autoencoder",
    "save_autoencoder",
]

CONFIG_FILE = "autoencoder.json"
WEIGHTS_FILE = "autoencoder.safetensors"


def _init(module: nn.Module, generator: torch.Generator) -> None:
    """Glorot-uniform weights, zero biases, drawn from ``generator`` (no global state)."""
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.Linear | nn.Conv2d):
                fan_out, fan_in = layer.weight.shape[0], layer.weight[0].numel()
                receptive = layer.weight[0, 0].numel()
                bound = math.sqrt(6.0 / (fan_in + fan_out * receptive))
                layer.weight.uniform_(-bound, bound, generator=generator)
                if layer.bias is not None:
                    layer.bias.zero_()


class Autoencoder(nn.Module):
    """What every autoencoder offers: ``reconstruction_error(x) -> (n,)`` on raw inputs."""

    kind: str = ""
    offset: torch.Tensor
    feature_scale: torch.Tensor

    def __init__(self, input_shape: Sequence[int], options: dict[str, Any]) -> None:
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)
        self.options = dict(options)
        self.register_buffer("offset", torch.zeros(self.input_shape))
        self.register_buffer("feature_scale", torch.ones(self.input_shape))

    def fit_preprocessing(self, inputs: np.ndarray) -> None:
        """Per-input-cell mean and width from training data (cells that never vary keep 1)."""
        data = np.asarray(inputs, dtype=np.float64).reshape(len(inputs), *self.input_shape)
        width = data.std(axis=0)
        self.offset.copy_(torch.from_numpy(data.mean(axis=0)))
        self.feature_scale.copy_(torch.from_numpy(np.where(width > 0, width, 1.0)))

    def standardise(self, inputs: torch.Tensor) -> torch.Tensor:
        inputs = inputs.reshape(len(inputs), *self.input_shape).to(self.offset.dtype)
        return (inputs - self.offset) / self.feature_scale

    def reconstruct(self, standardised: torch.Tensor) -> torch.Tensor:
        """The reconstruction of standardised inputs (same shape)."""
        raise NotImplementedError

    def reconstruction_error(self, inputs: torch.Tensor) -> torch.Tensor:
        """Mean squared error per event in standardised units: the anomaly score."""
        x = self.standardise(inputs)
        return (self.reconstruct(x) - x).pow(2).flatten(1).mean(dim=1)

    def score(self, inputs: np.ndarray, *, batch_size: int = 65536) -> np.ndarray:
        """:meth:`reconstruction_error` of a numpy array, in batches, without gradients."""
        self.eval()
        parts = []
        with torch.no_grad():
            for start in range(0, len(inputs), batch_size):
                batch = torch.as_tensor(np.asarray(inputs[start : start + batch_size]))
                parts.append(self.reconstruction_error(batch).numpy())
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


class DenseAutoencoder(Autoencoder):
    r"""Dense encoder ``hidden`` → ``latent`` and mirrored decoder on flattened inputs.

    Example:
        >>> ae = DenseAutoencoder((27,), hidden=(16,), latent=4, seed=0)
        >>> ae.reconstruction_error(torch.zeros(5, 27)).shape
        torch.Size([5])
        >>> DenseAutoencoder((200, 4), latent=8, seed=0).score(np.zeros((3, 200, 4))).shape
        (3,)

    References:
        Farina, Nakai, Shih, arXiv:1808.08992; Heimel, Kasieczka, Plehn, Thompson,
        SciPost Phys. 6 (2019) 030, arXiv:1808.08979.
    """

    kind = "dense"

    def __init__(
        self,
        input_shape: Sequence[int],
        *,
        hidden: Sequence[int] = (64, 32),
        latent: int = 6,
        seed: int = 0,
    ) -> None:
        super().__init__(input_shape, {"hidden": list(hidden), "latent": latent, "seed": seed})
        width = int(np.prod(self.input_shape))
        sizes = [width, *hidden, latent]
        encoder: list[nn.Module] = []
        decoder: list[nn.Module] = []
        for a, b in itertools.pairwise(sizes):
            encoder += [nn.Linear(a, b), nn.ReLU()]
        for a, b in itertools.pairwise(sizes[::-1]):
            decoder += [nn.Linear(a, b), nn.ReLU()]
        self.encoder = nn.Sequential(*encoder[:-1])  # a linear bottleneck
        self.decoder = nn.Sequential(*decoder[:-1])  # a linear output
        _init(self, torch.Generator().manual_seed(seed))

    def reconstruct(self, standardised: torch.Tensor) -> torch.Tensor:
        flat = standardised.flatten(1)
        return self.decoder(self.encoder(flat)).reshape(standardised.shape)


class ConvAutoencoder(Autoencoder):
    r"""Convolutional autoencoder on square images (side divisible by 4), e.g. 40 × 40 jets.

    Two 3×3 convolutions with 2×2 average pooling, a dense bottleneck of ``latent``
    units, and the mirror image with nearest-neighbour upsampling.

    Example:
        >>> ae = ConvAutoencoder((40, 40), channels=(4, 8), latent=8, seed=0)
        >>> ae.reconstruction_error(torch.rand(2, 40, 40)).shape
        torch.Size([2])

    References:
        Heimel, Kasieczka, Plehn, Thompson, "QCD or What?", SciPost Phys. 6 (2019) 030,
        arXiv:1808.08979; Farina, Nakai, Shih, arXiv:1808.08992.
    """

    kind = "conv"

    def __init__(
        self,
        input_shape: Sequence[int] = (40, 40),
        *,
        channels: Sequence[int] = (10, 5),
        latent: int = 32,
        seed: int = 0,
    ) -> None:
        super().__init__(input_shape, {"channels": list(channels), "latent": latent, "seed": seed})
        if len(self.input_shape) != 2 or self.input_shape[0] % 4 or self.input_shape[1] % 4:
            raise ModelError(
                f"the convolutional autoencoder needs square-ish images with sides divisible "
                f"by 4, got shape {self.input_shape}",
                where="ConvAutoencoder input_shape",
                fix="use 40 × 40 jet images (or pad/crop to a multiple of 4)",
            )
        first, second = channels
        self._small = (second, self.input_shape[0] // 4, self.input_shape[1] // 4)
        flat = int(np.prod(self._small))
        self.encoder = nn.Sequential(
            nn.Conv2d(1, first, 3, padding=1),
            nn.ReLU(),
            nn.AvgPool2d(2),
            nn.Conv2d(first, second, 3, padding=1),
            nn.ReLU(),
            nn.AvgPool2d(2),
            nn.Flatten(),
            nn.Linear(flat, latent),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent, flat),
            nn.ReLU(),
            nn.Unflatten(1, self._small),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(second, first, 3, padding=1),
            nn.ReLU(),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(first, 1, 3, padding=1),
        )
        _init(self, torch.Generator().manual_seed(seed))

    def fit_preprocessing(self, inputs: np.ndarray) -> None:
        """One intensity scale for the whole image (pixels keep their relative sizes)."""
        data = np.asarray(inputs, dtype=np.float64)
        width = float(data.std())
        self.offset.zero_()
        self.feature_scale.fill_(width if width > 0 else 1.0)

    def reconstruct(self, standardised: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(standardised[:, None]))[:, 0]


#: ``kind`` → autoencoder class.
AUTOENCODERS: dict[str, type[Autoencoder]] = {"dense": DenseAutoencoder, "conv": ConvAutoencoder}


def build_autoencoder(kind: str, input_shape: Sequence[int], **options: Any) -> Autoencoder:
    """The autoencoder ``kind`` (``dense`` or ``conv``) for inputs of ``input_shape``.

    Example:
        >>> build_autoencoder("conv", (40, 40), seed=1).kind
        'conv'
    """
    if kind not in AUTOENCODERS:
        raise ModelError(
            f"unknown autoencoder {kind!r}",
            where="autoencoder kind",
            fix=f"choose one of {', '.join(AUTOENCODERS)}",
        )
    model: Autoencoder = AUTOENCODERS[kind](input_shape, **options)
    return model


def save_autoencoder(
    model: Autoencoder, directory: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write ``autoencoder.json`` (kind, shape, options) and the weights, atomically."""
    with atomic_dir(directory, overwrite=overwrite) as tmp:
        description = {"kind": model.kind, "input_shape": list(model.input_shape)}
        (tmp / CONFIG_FILE).write_text(json.dumps({**description, "options": model.options}))
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS_FILE))
    return Path(directory)


def load_autoencoder(directory: str | os.PathLike[str]) -> Autoencoder:
    """Read back what :func:`save_autoencoder` wrote.

    Example:
        >>> import tempfile
        >>> ae = DenseAutoencoder((3,), hidden=(4,), latent=2, seed=0)
        >>> path = save_autoencoder(ae, tempfile.mkdtemp() + "/ae")
        >>> x = torch.rand(4, 3)
        >>> bool(torch.equal(load_autoencoder(path).reconstruction_error(x),
        ...                  ae.reconstruction_error(x)))
        True
    """
    path = Path(directory)
    try:
        description = json.loads((path / CONFIG_FILE).read_text())
    except FileNotFoundError:
        raise ModelError(
            f"no {CONFIG_FILE} in the folder",
            where=str(path),
            fix="pass the model/ folder that pnn anomaly wrote",
        ) from None
    model = build_autoencoder(
        description["kind"], description["input_shape"], **description["options"]
    )
    model.load_state_dict(load_file(str(path / WEIGHTS_FILE)))
    model.eval()
    return model
