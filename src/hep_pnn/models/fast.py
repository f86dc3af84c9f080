r"""Fast CPU kernels for training: cheap dropout masks and one fused element-wise step.

At batch 1024 a pNN spends most of its CPU time outside the matmuls: drawing
Bernoulli dropout masks (one random number per activation) and making several
element-wise passes for activation, conditioning and dropout. Here:

* :func:`dropout_mask` draws random 64-bit words and turns each byte into 1-8 keep/drop
  decisions through a 256-entry lookup table, so p = 0.25 costs one random word per 32
  activations. The table already holds the ``1 / (1 - p)`` rescaling.
* :func:`activate_condition_dropout` computes ``dropout(relu(z) * scale + shift)`` in one
  :class:`torch.autograd.Function`, with scale and shift affine in the mass, and
  returns the gradients of ``z`` and of the conditioning coefficients in one backward
  (ReLU only; other activations use the plain path).
* :func:`weighted_squared_norm` computes the L2 penalty of all weights in two
  multi-tensor kernels instead of dozens of small ops.

The plain path, :func:`reference_activate_modulate_dropout`, computes the same values
with ordinary autograd ops; the tests check both agree for the same mask.
"""

from __future__ import annotations

import functools
import math

import torch
from torch import Tensor

__all__ = [
    "activate_condition_dropout",
    "dropout_mask",
    "effective_dropout",
    "mass_design",
    "reference_activate_modulate_dropout",
    "weighted_squared_norm",
]

_ACTIVATIONS = {
    "relu": torch.relu,
    "elu": torch.nn.functional.elu,
    "silu": torch.nn.functional.silu,
    "tanh": torch.tanh,
}


def _bits_and_threshold(p: float) -> tuple[int, int]:
    """Fewest bits per activation (1, 2, 4 or 8) that represent ``p`` exactly, else 8."""
    for bits in (1, 2, 4, 8):
        levels = 1 << bits
        if math.isclose(p * levels, round(p * levels), abs_tol=1e-9):
            return bits, round(p * levels)
    return 8, round(p * 256)


def effective_dropout(p: float) -> float:
    """The drop probability actually used for ``p``: ``p`` rounded to a multiple of 1/256.

    Example:
        >>> effective_dropout(0.25), effective_dropout(0.1)
        (0.25, 0.1015625)
    """
    bits, threshold = _bits_and_threshold(p)
    return threshold / (1 << bits)


@functools.lru_cache(maxsize=16)
def _lookup_table(p: float) -> Tensor:
    """``(256, 8 // bits)`` float32: the scaled keep-mask encoded by each random byte."""
    bits, threshold = _bits_and_threshold(p)
    keep = 1.0 / (1.0 - threshold / (1 << bits))
    byte = torch.arange(256).unsqueeze(1)
    shifts = torch.arange(0, 8, bits).unsqueeze(0)
    fields = (byte >> shifts) & ((1 << bits) - 1)
    return torch.where(fields >= threshold, keep, 0.0).to(torch.float32).contiguous()


def dropout_mask(shape: tuple[int, ...], p: float, *, generator: torch.Generator) -> Tensor:
    r"""A float32 dropout mask: 0 with probability ``p``, else ``1 / (1 - p)``.

    ``p`` is used exactly when it is a multiple of 1/256 (0.25, 0.5, 0.125, ...);
    otherwise it is rounded to one (:func:`effective_dropout`). Each activation uses
    ``bits`` random bits, the fewest that represent ``p``: 2 for p = 0.25.

    Args:
        shape: shape of the mask.
        p: drop probability in [0, 1).
        generator: the source of randomness (its state fixes the mask).

    Example:
        >>> mask = dropout_mask((1000, 100), 0.25, generator=torch.Generator().manual_seed(0))
        >>> sorted(set(mask.unique().tolist()))
        [0.0, 1.3333333730697632]
        >>> round((mask == 0).float().mean().item(), 2)
        0.25
    """
    table = _lookup_table(float(p))
    per_byte = table.shape[1]
    count = math.prod(shape)
    n_bytes = -(-count // per_byte)
    words = torch.empty(-(-n_bytes // 8), dtype=torch.int64)
    words.random_(-(2**63), None, generator=generator)
    codes = words.view(torch.uint8)[:n_bytes].to(torch.int32)
    return torch.index_select(table, 0, codes).view(-1)[:count].view(shape)


class _ReluConditionDropout(torch.autograd.Function):
    """``relu(z) * (D @ C_scale) + D @ C_shift``, times ``mask``, with ``D = [m, 1]``.

    The backward reduces the scale and shift gradients straight to the ``(2, width)``
    coefficients with one small matmul each, instead of materialising them per event
    and summing them again in ``Linear(1, width)``'s backward.
    """

    @staticmethod
    def forward(
        ctx: torch.autograd.function.FunctionCtx,
        z: Tensor,
        design: Tensor | None,
        scale_coefficients: Tensor | None,
        shift_coefficients: Tensor | None,
        mask: Tensor | None,
    ) -> Tensor:
        active = torch.relu(z)
        scale = None if scale_coefficients is None else design @ scale_coefficients
        shift = None if shift_coefficients is None else design @ shift_coefficients
        if scale is not None and shift is not None:
            out = torch.addcmul(shift, active, scale)
        elif scale is not None:
            out = active * scale
        elif shift is not None:
            out = shift.add_(active)
        else:
            out = active
        if mask is not None:
            out = active * mask if out is active else out.mul_(mask)
        ctx.save_for_backward(active, design, scale, mask)
        ctx.has_shift = shift_coefficients is not None
        return out

    @staticmethod
    def backward(
        ctx: torch.autograd.function.FunctionCtx, grad: Tensor
    ) -> tuple[Tensor | None, ...]:
        active, design, scale, mask = ctx.saved_tensors
        grad_out = grad * mask if mask is not None else grad
        grad_shift = design.T @ grad_out if ctx.has_shift else None
        grad_scale = None
        grad_active = grad_out
        if scale is not None:
            grad_scale = design.T @ (grad_out * active)
            grad_active = grad_out * scale
        grad_z = torch.ops.aten.threshold_backward(grad_active, active, 0)
        return grad_z, None, grad_scale, grad_shift, None


def mass_design(mass: Tensor) -> Tensor:
    """The ``(n, 2)`` design matrix ``[m, 1]`` of a scaled mass column ``(n, 1)``.

    Example:
        >>> mass_design(torch.tensor([[0.5], [1.5]])).tolist()
        [[0.5, 1.0], [1.5, 1.0]]
    """
    return torch.cat([mass, torch.ones_like(mass)], dim=1)


def activate_condition_dropout(
    z: Tensor,
    design: Tensor | None,
    scale_coefficients: Tensor | None,
    shift_coefficients: Tensor | None,
    mask: Tensor | None,
) -> Tensor:
    r"""``(relu(z) * (D @ C_scale) + D @ C_shift) * mask``, parts left out when ``None``.

    ``D`` is :func:`mass_design` of the scaled mass and ``C`` come from
    :meth:`~hep_pnn.models.conditioning.Conditioning.coefficients`. One fused autograd
    function: two passes forward and four backward over the activations.

    Example:
        >>> z = torch.tensor([[-1.0, 2.0]])
        >>> design = mass_design(torch.tensor([[1.0]]))
        >>> scale = torch.tensor([[2.0, 2.0], [1.0, 1.0]])
        >>> activate_condition_dropout(z, design, scale, None, None).tolist()
        [[0.0, 6.0]]
    """
    if scale_coefficients is None and shift_coefficients is None and mask is None:
        return torch.relu(z)
    return _ReluConditionDropout.apply(z, design, scale_coefficients, shift_coefficients, mask)


def reference_activate_modulate_dropout(
    z: Tensor,
    scale: Tensor | None,
    shift: Tensor | None,
    mask: Tensor | None,
    *,
    activation: str = "relu",
) -> Tensor:
    r"""The plain-autograd path: ``(act(z) * scale + shift) * mask``, parts left out when ``None``.

    Example:
        >>> z = torch.tensor([[-1.0, 2.0]])
        >>> reference_activate_modulate_dropout(z, None, torch.ones(1, 2), None).tolist()
        [[1.0, 3.0]]
    """
    h = _ACTIVATIONS[activation](z)
    if scale is not None:
        h = h * scale
    if shift is not None:
        h = h + shift
    if mask is not None:
        h = h * mask
    return h


class _WeightedSquaredNorm(torch.autograd.Function):
    """``Σ_i c_i ‖p_i‖²`` with one multi-tensor kernel forward and backward."""

    @staticmethod
    def forward(
        ctx: torch.autograd.function.FunctionCtx, factors: list[float], *tensors: Tensor
    ) -> Tensor:
        ctx.factors = factors
        ctx.save_for_backward(*tensors)
        norms = torch.stack(torch._foreach_norm(tensors))
        return (norms.square() * norms.new_tensor(factors)).sum()

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: Tensor) -> tuple:
        upstream = float(grad)
        scales = [2.0 * factor * upstream for factor in ctx.factors]
        return (None, *torch._foreach_mul(ctx.saved_tensors, scales))


def weighted_squared_norm(tensors: list[Tensor], factors: list[float]) -> Tensor:
    r"""``Σ_i factors[i] · ‖tensors[i]‖²``: an L2 penalty in two multi-tensor kernels.

    Example:
        >>> weighted_squared_norm([torch.ones(2), torch.ones(3)], [1.0, 0.5]).item()
        3.5
    """
    return _WeightedSquaredNorm.apply(factors, *tensors)
