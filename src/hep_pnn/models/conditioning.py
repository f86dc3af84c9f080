r"""Conditioning layers: how the (scaled) mass enters a layer of activations ``h``.

Every mechanism is one small module computing

``out = [h ⊙ scale(m) + shift(m), appended(m)]``

through three methods, the whole contract the rest of the package relies on:

* :meth:`Conditioning.modulation` — per-event ``(scale, shift)``, each ``(n, width)`` or
  ``None`` (no scale / no shift). Used by the plain path and by
  :func:`~hep_pnn.models.folding.fold_at_mass`, so any function of m works;
* :meth:`Conditioning.appended` — columns put after ``h`` (``extra_width`` of them;
  concatenation appends ``m``), or ``None``;
* :meth:`Conditioning.coefficients` — the *capability* of the fast paths: scale and shift
  as :class:`AffineInMass` lines ``slope · m + intercept`` per unit, or ``None`` when they
  are not affine in m. The fused kernels (:mod:`hep_pnn.models.fast`) and the
  autograd-free step (:mod:`hep_pnn.models.direct`) are used only when it returns lines;
  otherwise the network trains with the plain autograd ops. ``None`` is the default, so a
  new mechanism is exact until it declares more.

Adding a mechanism is one class and one entry in :data:`CONDITIONINGS`:

.. code-block:: python

    class Gate(Conditioning):  # not affine in m: no coefficients(), plain path
        def __init__(self, width):
            super().__init__(width)
            self.gate = linear(1, width)

        def modulation(self, mass):
            return torch.sigmoid(self.gate(mass)), None

    CONDITIONINGS["gate"] = Gate

References:
    Baldi, Cranmer, Faucett, Sadowski, Whiteson, "Parameterized neural networks for
    high-energy physics", Eur. Phys. J. C 76 (2016) 235, arXiv:1601.07913 (concatenation).

    Anzalone, Diotalevi, Bonacorsi, "Improving parametric neural networks for high-energy
    physics (and beyond)", Mach. Learn.: Sci. Technol. 3 (2022) 035017, arXiv:2202.00424
    (biasing, scaling and affine conditioning).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

__all__ = [
    "CONDITIONINGS",
    "Affine",
    "AffineInMass",
    "Bias",
    "Concat",
    "Conditioning",
    "Line",
    "Scale",
    "line_of",
    "linear",
    "modulate",
    "sampled_coefficients",
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


@dataclass(frozen=True)
class Line:
    """``slope · m + intercept`` per unit: two ``(width,)`` rows, ``None`` meaning 0.

    Rows that are a parameter's whole storage (``layer.weight.view(-1)``) let the
    autograd-free step write their gradients in place; any other tensor works too.

    Example:
        >>> Line(torch.tensor([2.0]), torch.tensor([1.0])).matrix().tolist()
        [[2.0], [1.0]]
    """

    slope: Tensor | None
    intercept: Tensor | None = None

    def rows(self) -> tuple[Tensor | None, Tensor | None]:
        """``(slope, intercept)``."""
        return self.slope, self.intercept

    def matrix(self) -> Tensor:
        """The ``(2, width)`` matrix ``C`` with ``[m, 1] @ C`` the per-event values."""
        slope, intercept = self.slope, self.intercept
        if slope is not None and intercept is not None:
            return torch.stack([slope, intercept])
        if slope is not None:
            return torch.stack([slope, torch.zeros_like(slope)])
        if intercept is not None:
            return torch.stack([torch.zeros_like(intercept), intercept])
        raise ValueError("a Line needs a slope or an intercept")


@dataclass(frozen=True)
class AffineInMass:
    """What the fast paths need of a mechanism: ``scale`` and ``shift`` as lines in m.

    ``None`` means no scale (a scale of 1) or no shift (0).
    """

    scale: Line | None = None
    shift: Line | None = None

    @property
    def modulates(self) -> bool:
        """Whether there is a scale or a shift at all (concatenation has neither)."""
        return self.scale is not None or self.shift is not None

    def matrices(self) -> tuple[Tensor | None, Tensor | None]:
        """``(2, width)`` coefficient matrices of scale and shift, or ``None``."""
        return (
            None if self.scale is None else self.scale.matrix(),
            None if self.shift is None else self.shift.matrix(),
        )


def line_of(layer: nn.Linear) -> Line:
    """The :class:`Line` of ``layer(m)`` for an ``nn.Linear(1, width)``: its weight
    column and its bias (or none), as views of the parameters.

    Example:
        >>> line_of(linear(1, 3, bias=False)).intercept is None
        True
    """
    return Line(layer.weight.view(-1), layer.bias)


def sampled_coefficients(conditioning: Conditioning) -> AffineInMass:
    """Lines read off :meth:`Conditioning.modulation` at m = 1 and m = 0.

    Exact for any mechanism whose scale and shift are affine in m (and only for those),
    with gradients flowing back to its parameters: such a mechanism can return this from
    :meth:`Conditioning.coefficients` instead of writing its lines out.

    Example:
        >>> layer = Affine(2)
        >>> sampled_coefficients(layer).scale.slope.shape
        torch.Size([2])
    """
    dtype = next((p.dtype for p in conditioning.parameters()), torch.get_default_dtype())
    scale, shift = conditioning.modulation(torch.tensor([[1.0], [0.0]], dtype=dtype))

    def line(values: Tensor | None) -> Line | None:
        return None if values is None else Line(values[0] - values[1], values[1])

    return AffineInMass(line(scale), line(shift))


class Conditioning(nn.Module):
    r"""Base class: condition ``h`` of shape ``(n, width)`` on the scaled mass ``(n, 1)``.

    Subclasses implement :meth:`modulation` and, when they can, :meth:`coefficients`
    (the fast paths) and :meth:`appended` with :attr:`extra_width`.

    Args:
        width: number of activations that are conditioned.
    """

    #: Columns :meth:`appended` adds after ``h`` (1 for concatenation, else 0).
    extra_width: int = 0

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width

    def modulation(self, mass: Tensor) -> tuple[Tensor | None, Tensor | None]:
        """Per-event ``(scale, shift)``, each ``(n, width)`` or ``None``."""
        raise NotImplementedError

    def appended(self, mass: Tensor) -> Tensor | None:
        """Columns ``(n, extra_width)`` put after the modulated ``h``, or ``None``."""
        return None

    def coefficients(self) -> AffineInMass | None:
        """Scale and shift as lines in m for the fast paths, or ``None``: not affine in m,
        train with the plain autograd ops (the default, always correct)."""
        return None

    def forward(self, h: Tensor, mass: Tensor) -> Tensor:
        h = modulate(h, *self.modulation(mass))
        extra = self.appended(mass)
        return h if extra is None else torch.cat([h, extra], dim=1)

    def extra_repr(self) -> str:
        return f"width={self.width}"


class Concat(Conditioning):
    r"""Concatenation: ``[h, m]`` (Baldi et al. when placed at the input).

    Example:
        >>> Concat(3)(torch.zeros(2, 3), torch.ones(2, 1)).shape
        torch.Size([2, 4])

    References:
        Baldi et al., "Parameterized neural networks for high-energy physics",
        arXiv:1601.07913.
    """

    extra_width = 1

    def modulation(self, mass: Tensor) -> tuple[Tensor | None, Tensor | None]:
        return None, None

    def appended(self, mass: Tensor) -> Tensor:
        return mass

    def coefficients(self) -> AffineInMass:
        return AffineInMass()


class Bias(Conditioning):
    r"""Biasing: ``h + (W m + b)`` with ``W`` and ``b`` of ``width`` values each.

    The paper writes ``h + W m``; the published code's layer (and every published biasing
    checkpoint) also has the intercept ``b`` (zero at the start with the default Keras
    init).

    Example:
        >>> layer = Bias(4)
        >>> sum(p.numel() for p in layer.parameters())
        8

    References:
        Anzalone, Diotalevi, Bonacorsi, MLST 3 (2022) 035017, arXiv:2202.00424.
    """

    def __init__(self, width: int) -> None:
        super().__init__(width)
        self.shift = linear(1, width)

    def modulation(self, mass: Tensor) -> tuple[Tensor | None, Tensor | None]:
        return None, self.shift(mass)

    def coefficients(self) -> AffineInMass:
        return AffineInMass(shift=line_of(self.shift))


class Scale(Conditioning):
    r"""Scaling: ``h ⊙ (W m + b)`` with ``W`` and ``b`` of ``width`` values each.

    The paper writes ``h ⊙ W m``; the published code's layer (and every published scaling
    checkpoint) also has the intercept ``b`` (zero at the start with the default Keras
    init), so a unit can keep a mass-independent part.

    Example:
        >>> layer = Scale(4)
        >>> layer(torch.ones(2, 4), torch.zeros(2, 1)).abs().sum().item()
        0.0

    References:
        Anzalone, Diotalevi, Bonacorsi, MLST 3 (2022) 035017, arXiv:2202.00424.
    """

    def __init__(self, width: int) -> None:
        super().__init__(width)
        self.scale = linear(1, width)

    def modulation(self, mass: Tensor) -> tuple[Tensor | None, Tensor | None]:
        return self.scale(mass), None

    def coefficients(self) -> AffineInMass:
        return AffineInMass(scale=line_of(self.scale))


class Affine(Conditioning):
    r"""Affine conditioning of the AffinePNN: ``h ⊙ (W_s m + b_s) + (W_b m + b_b)``.

    Example:
        >>> layer = Affine(300)
        >>> sum(p.numel() for p in layer.parameters())
        1200

    References:
        Anzalone, Diotalevi, Bonacorsi, "Improving parametric neural networks for
        high-energy physics (and beyond)", MLST 3 (2022) 035017, arXiv:2202.00424.
    """

    def __init__(self, width: int) -> None:
        super().__init__(width)
        self.scale = linear(1, width)
        self.shift = linear(1, width)

    def modulation(self, mass: Tensor) -> tuple[Tensor | None, Tensor | None]:
        return self.scale(mass), self.shift(mass)

    def coefficients(self) -> AffineInMass:
        return AffineInMass(scale=line_of(self.scale), shift=line_of(self.shift))


#: Conditioning mechanisms by the name used in :class:`~hep_pnn.models.ModelConfig`.
CONDITIONINGS: dict[str, type[Conditioning]] = {
    "concat": Concat,
    "bias": Bias,
    "scale": Scale,
    "affine": Affine,
}
