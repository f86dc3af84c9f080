"""The model's parameters as two contiguous buffers: one Adam tensor per L2 group.

Adam's step, ``zero_grad`` and the L2 value then cost one kernel per group instead of one
per parameter tensor (the AffinePNN has 26): ≈ 0.9 ms less per batch-1024 step on 2 cores
(docs/benchmarks.md). The model's parameters become views into the buffers, and so do
their gradients, so autograd accumulates straight into the flat gradient.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from hep_pnn.models import ParametricNet

__all__ = ["FlatParameters", "weight_decay_groups"]


def weight_decay_groups(groups: Iterable[tuple[Iterable[Tensor], float]]) -> list[dict]:
    r"""Adam parameter groups for ``(parameters, λ)`` pairs of an L2 penalty ``λ‖w‖²``.

    Its gradient ``2λw`` is what Adam's (coupled, not AdamW's) ``weight_decay = 2λ`` adds
    to the gradient, inside the fused optimizer kernel instead of through autograd.

    Example:
        >>> weight_decay_groups([([nn.Parameter(torch.zeros(2))], 1e-5)])[0]["weight_decay"]
        2e-05
    """
    return [{"params": list(params), "weight_decay": 2.0 * factor} for params, factor in groups]


class FlatParameters:
    """Re-home the parameters of ``model.l2_groups()`` into one buffer per group.

    Args:
        model: a network with ``l2_groups() -> [(parameters, λ), ...]`` covering all of
            its parameters.

    Example:
        >>> from hep_pnn.models import build_model, preset
        >>> net = build_model(preset("affine", hidden=(4,)), feature_names=["a"])
        >>> flat = FlatParameters(net)
        >>> [p.numel() for p in flat.parameters], sum(p.numel() for p in net.parameters())
        ([16, 13], 29)
        >>> flat.parameters[0].data_ptr() == net.hidden[0].linear.weight.data_ptr()
        True
    """

    def __init__(self, model: ParametricNet) -> None:
        groups = model.l2_groups()
        covered = {id(p) for params, _ in groups for p in params}
        if covered != {id(p) for p in model.parameters()}:
            raise ValueError("l2_groups() must cover every parameter of the model once")
        self.parameters: list[nn.Parameter] = []
        self.factors: list[float] = []
        for params, factor in groups:
            total = sum(p.numel() for p in params)
            data = torch.empty(total, dtype=params[0].dtype)
            grad = torch.zeros(total, dtype=params[0].dtype)
            offset = 0
            with torch.no_grad():
                for p in params:
                    size = p.numel()
                    data[offset : offset + size].copy_(p.reshape(-1))
                    p.data = data[offset : offset + size].view_as(p)
                    p.grad = grad[offset : offset + size].view_as(p)
                    offset += size
            flat = nn.Parameter(data)
            flat.grad = grad
            self.parameters.append(flat)
            self.factors.append(float(factor))

    def param_groups(self) -> list[dict[str, Any]]:
        """Adam groups, one flat tensor each, with the L2 term as weight decay."""
        return weight_decay_groups(
            ([flat], factor) for flat, factor in zip(self.parameters, self.factors, strict=True)
        )

    def zero_grad(self) -> None:
        """Zero the gradients in place (they stay views of the flat gradient buffers)."""
        for flat in self.parameters:
            if flat.grad is not None:  # always: set in __init__, zeroed in place
                flat.grad.zero_()

    @torch.no_grad()
    def l2_value(self) -> float:
        """``Σ λ ‖w‖²`` over the groups (the model's ``l2_penalty()``, without autograd)."""
        return sum(
            factor * float(torch.dot(flat, flat))
            for flat, factor in zip(self.parameters, self.factors, strict=True)
        )
