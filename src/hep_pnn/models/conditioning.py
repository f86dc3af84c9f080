r"""Conditioning layers: how the (scaled) mass enters a layer of activations ``h``.

Each mechanism is one small module. A *modulating* mechanism returns a per-event
``(scale, shift)`` pair from the mass, and the layer computes ``h * scale + shift``;
that split lets the fast kernels in :mod:`hep_pnn.models.fast` fuse the arithmetic with
the activation and dropout. Concatenation instead widens ``h`` by one column.

Adding a mechanism is one short class plus one entry in :data:`CONDITIONINGS`:

.. code-block:: python

    class Gate(Conditioning):
        def __init__(self, width):
            super().__init__(width)
            self.gate = linear(1, width)

        def modulation(self, mass):
            return torch.sigmoid(self.gate(mass)), None

    CONDITIONINGS["gate"] = Gate
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = [
    "CONDITIONINGS",
    "Affine",
    "Bias",
    "Concat",
    "Conditioning",
    "Scale",
    "linear",
    "modulate",
]


def modulate(h: Tensor, scale: Tensor | None, shift: Tensor | None) -> Tensor:
    """``h * scale + shift``, skipping the parts that are ``None``.

    Example:
        >>> modulate(torch.ones(2, 3), torch.full((2, 3), 2.0), None).tolist()
        [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
    """
    if scale is not None and shift is not None:
        return torch.addcmul(shift, h, scale)
    if scale is not None:
        return h * scale
    if shift is not None:
        return h + shift
    return h


def linear(in_features: int, out_features: int, *, bias: bool = True) -> nn.Linear:
    """An ``nn.Linear`` with zero weights, made without touching the global random state.

    The network initialises every weight afterwards from its own seeded generator.

    Example:
        >>> linear(1, 3).weight.abs().sum().item()
        0.0
    """
    layer = nn.utils.skip_init(nn.Linear, in_features, out_features, bias=bias)
    with torch.no_grad():
        for parameter in layer.parameters():
            parameter.zero_()
    return layer


def _slope_intercept(values: Tensor | None) -> Tensor | None:
    """Rows (slope, intercept) from a modulation evaluated at m = 1 (row 0) and m = 0."""
    if values is None:
        return None
    return torch.stack([values[0] - values[1], values[1]])


def _rows(layer: nn.Linear) -> Tensor:
    """Coefficients ``(2, width)`` of ``layer(m)``: its weight column, then its bias (or 0)."""
    slope = layer.weight.view(-1)
    intercept = layer.bias if layer.bias is not None else slope.new_zeros(slope.shape)
    return torch.stack([slope, intercept])


class Conditioning(nn.Module):
    r"""Base class: condition ``h`` of shape ``(n, width)`` on the scaled mass ``(n, 1)``.

    Args:
        width: number of activations that are conditioned.
    """

    #: Columns the layer adds to ``h`` (1 for concatenation, else 0).
    extra_width: int = 0
    #: Whether scale and shift are affine functions of m (lets the fast kernels use
    #: :meth:`coefficients`); set to ``False`` in a mechanism that is not.
    affine_in_mass: bool = True

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width

    def modulation(self, mass: Tensor) -> tuple[Tensor | None, Tensor | None]:
        """Per-event ``(scale, shift)``, each ``(n, width)`` or ``None``."""
        raise NotImplementedError

    def coefficients(self) -> tuple[Tensor | None, Tensor | None]:
        """``(2, width)`` matrices ``C`` with ``scale = [m, 1] @ C_scale`` (same for shift).

        Read off :meth:`modulation` at m = 1 and m = 0, so it holds for any mechanism
        that is affine in m, and gradients flow back to the layer's parameters. The
        built-in mechanisms override it to stack their ``Linear(1, width)`` parameters
        directly (fewer small ops in every training step).
        """
        scale, shift = self.modulation(torch.tensor([[1.0], [0.0]], dtype=self._dtype()))
        return _slope_intercept(scale), _slope_intercept(shift)

    def _dtype(self) -> torch.dtype:
        return next((p.dtype for p in self.parameters()), torch.get_default_dtype())

    def forward(self, h: Tensor, mass: Tensor) -> Tensor:
        return modulate(h, *self.modulation(mass))

    def extra_repr(self) -> str:
        return f"width={self.width}"


class Concat(Conditioning):
    r"""Concatenation: ``[h, m]`` (Baldi et al. when placed at the input).

    Example:
        >>> Concat(3)(torch.zeros(2, 3), torch.ones(2, 1)).shape
        torch.Size([2, 4])
    """

    extra_width = 1

    def modulation(self, mass: Tensor) -> tuple[Tensor | None, Tensor | None]:
        return None, None

    def forward(self, h: Tensor, mass: Tensor) -> Tensor:
        return torch.cat([h, mass], dim=1)


class Bias(Conditioning):
    r"""Biasing: ``h + W m`` with ``W`` of shape ``(width, 1)``.

    Example:
        >>> layer = Bias(4)
        >>> sum(p.numel() for p in layer.parameters())
        4
    """

    def __init__(self, width: int) -> None:
        super().__init__(width)
        self.shift = linear(1, width, bias=False)

    def modulation(self, mass: Tensor) -> tuple[Tensor | None, Tensor | None]:
        return None, self.shift(mass)

    def coefficients(self) -> tuple[Tensor | None, Tensor | None]:
        return None, _rows(self.shift)


class Scale(Conditioning):
    r"""Scaling: ``h ⊙ (W m)`` with ``W`` of shape ``(width, 1)``.

    Example:
        >>> layer = Scale(4)
        >>> layer(torch.ones(2, 4), torch.zeros(2, 1)).abs().sum().item()
        0.0
    """

    def __init__(self, width: int) -> None:
        super().__init__(width)
        self.scale = linear(1, width, bias=False)

    def modulation(self, mass: Tensor) -> tuple[Tensor | None, Tensor | None]:
        return self.scale(mass), None

    def coefficients(self) -> tuple[Tensor | None, Tensor | None]:
        return _rows(self.scale), None


class Affine(Conditioning):
    r"""Affine conditioning of the AffinePNN: ``h ⊙ (W_s m + b_s) + (W_b m + b_b)``.

    Example:
        >>> layer = Affine(300)
        >>> sum(p.numel() for p in layer.parameters())
        1200
    """

    def __init__(self, width: int) -> None:
        super().__init__(width)
        self.scale = linear(1, width)
        self.shift = linear(1, width)

    def modulation(self, mass: Tensor) -> tuple[Tensor | None, Tensor | None]:
        return self.scale(mass), self.shift(mass)

    def coefficients(self) -> tuple[Tensor | None, Tensor | None]:
        return _rows(self.scale), _rows(self.shift)


#: Conditioning mechanisms by the name used in :class:`~hep_pnn.models.ModelConfig`.
CONDITIONINGS: dict[str, type[Conditioning]] = {
    "concat": Concat,
    "bias": Bias,
    "scale": Scale,
    "affine": Affine,
}
