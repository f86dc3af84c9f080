r"""One training step of a :class:`~hep_pnn.models.ParametricNet` without autograd.

At batch 1024 on two cores, the AffinePNN's matmuls take about half of an autograd
training step; the rest is the fused kernels and, above all, the bookkeeping around
≈ 30 small operations (graph nodes, views, allocations, gradient accumulation).
:class:`DirectStep` computes the same loss and gradients with the matmuls and the
numba kernels of :mod:`hep_pnn.models._kernels` only, written in the order
back-propagation would run them, and sets every parameter's ``.grad`` (so a flat
gradient buffer, :class:`~hep_pnn.training.flat.FlatParameters`, is written in place).

It covers the networks whose every part the kernels cover (:func:`supports`): ReLU
blocks whose conditioning declares its scale and shift as lines in m
(:meth:`~hep_pnn.models.conditioning.Conditioning.coefficients`, as every built-in
modulating mechanism does) or that have none, the mass optionally concatenated at the
input (Baldi's pNN), with or without dropout: every preset. Dropout keys are drawn from the
model's generator in the same order as the autograd path, so both give the same
values for the same seed (tested to float64 rounding).

Loss: the mean over the batch of ``w_i · BCE(σ(z_i), y_i)``
(:func:`~hep_pnn.training.weights.weighted_bce`); the L2 term is left to the optimizer's
weight decay, as in :class:`~hep_pnn.training.Trainer`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeGuard, cast

import numpy as np
import torch
from torch import Tensor, nn

from hep_pnn.models import _kernels
from hep_pnn.models.conditioning import AffineInMass, Conditioning
from hep_pnn.models.fast import _mask_arguments, _match_torch_threads, _numpy_dtype
from hep_pnn.models.network import HiddenBlock, ParametricNet

__all__ = ["DirectStep", "StepResult", "supports"]


def _block_lines(block: HiddenBlock) -> AffineInMass | None:
    """The lines the kernels apply in ``block``, or ``None`` if the step cannot run it:
    a mechanism without :meth:`~hep_pnn.models.conditioning.Conditioning.coefficients`,
    or one that appends columns after a hidden layer."""
    conditioning = block.conditioning
    if conditioning is None:
        return AffineInMass()
    if conditioning.extra_width:
        return None
    return conditioning.coefficients()


def _plain_input(conditioning: Conditioning | None) -> bool:
    """Whether an input conditioning only appends parameter-free columns (Baldi's pNN)."""
    if conditioning is None:
        return True
    lines = conditioning.coefficients()
    return lines is not None and not lines.modulates and not any(conditioning.parameters())


def supports(net: nn.Module) -> TypeGuard[ParametricNet]:
    """Whether :class:`DirectStep` covers ``net`` (else train it with autograd).

    It covers fused ReLU networks whose every conditioning declares its lines in m
    (:meth:`~hep_pnn.models.conditioning.Conditioning.coefficients`) and appends nothing
    after a hidden layer, the input conditioning appending parameter-free columns only.

    Example:
        >>> from hep_pnn.models import build_model, preset
        >>> net = build_model(preset("affine", hidden=(4,)), feature_names=["a"])
        >>> supports(net), supports(build_model(preset("affine", activation="tanh"),
        ...                                      feature_names=["a"]))
        (True, False)
    """
    if not isinstance(net, ParametricNet) or not net.fused:
        return False
    if net.config.activation != "relu" or not _plain_input(net.input_conditioning):
        return False
    blocks = cast("list[HiddenBlock]", list(net.hidden))  # ModuleList forgets the type
    return all(_block_lines(block) is not None for block in blocks)


@dataclass(frozen=True)
class StepResult:
    """What one step measured on its batch."""

    #: Mean over the batch of ``w · BCE`` (no L2 term).
    loss: float
    #: Sum of the weights of correctly classified events (logit > 0 ⇔ signal).
    right: float
    #: Sum of the weights.
    total_weight: float


def _grad(parameter: Tensor) -> Tensor:
    """``parameter.grad``, made (zeros) if missing."""
    if parameter.grad is None:
        parameter.grad = torch.zeros_like(parameter)
    return parameter.grad


@dataclass(frozen=True)
class _Arrays:
    """numpy views the kernels read and write for one block."""

    #: the bias
    bias: np.ndarray
    #: coefficient rows (s₀, s₁, t₀, t₁): parameter views, or constants for empty slots
    rows: tuple[np.ndarray, ...]
    #: where their gradients and the bias gradient go (scratch rows for empty slots)
    grads: tuple[np.ndarray, ...]


@dataclass
class _Saved:
    """What the backward pass needs of one block."""

    x: Tensor
    z: Tensor
    arrays: _Arrays
    #: the kernels' mask arguments (key, bits, threshold, keep)
    mask: tuple[np.uint64, int, int, Any]


def _owner(row: Tensor, parameters: list[nn.Parameter]) -> nn.Parameter | None:
    """The parameter whose whole storage ``row`` is (e.g. ``weight.view(-1)``), if any."""
    for parameter in parameters:
        if (
            row.data_ptr() == parameter.data_ptr()
            and row.numel() == parameter.numel()
            and row.is_contiguous()
            and row.dtype == parameter.dtype
            and parameter.is_contiguous()
        ):
            return parameter
    return None


class _Block:
    """One hidden block as the kernels see it: weight, bias and the four coefficient
    rows ``(s₀, s₁, t₀, t₁)`` of ``scale = m s₀ + s₁``, ``shift = m t₀ + t₁``.

    When every row the mechanism declares is a whole parameter (the built-in mechanisms),
    the kernels read the parameters and write their gradients in place. Otherwise the
    rows are evaluated each step and their gradients handed to autograd
    (:meth:`finish_backward`), which carries them back to the mechanism's parameters.
    """

    def __init__(self, block: HiddenBlock) -> None:
        self.weight, self.bias = block.linear.weight, block.linear.bias
        self.width = block.linear.out_features
        self.dropout = block.dropout  # applied in training mode only
        self.conditioning = block.conditioning
        self.own = list(self.conditioning.parameters()) if self.conditioning else []
        lines = _block_lines(block)
        if lines is None:
            raise ValueError("this block is not covered by DirectStep (see supports)")
        # empty slots: no scale is a scale of 1; a missing row is 0
        self.fills = (0.0, 1.0 if lines.scale is None else 0.0, 0.0, 0.0)
        rows = self._rows(lines)
        owners = [None if r is None else _owner(r, self.own) for r in rows]
        present = [o for r, o in zip(rows, owners, strict=True) if r is not None]
        # in place only if every row is a distinct whole parameter and every parameter of
        # the mechanism is one of them (so no gradient is left unset)
        self.in_place = (
            None not in present
            and len(set(map(id, present))) == len(present)
            and set(map(id, present)) == set(map(id, self.own))
        )
        self.owners = owners if self.in_place else [None] * 4
        self.parameters = [p for p in (self.weight, self.bias, *self.owners) if p is not None]
        self._arrays: _Arrays | None = None
        self._where: list[tuple[int, int, torch.dtype]] = []
        self._pending: list[tuple[Tensor, np.ndarray]] = []

    @staticmethod
    def _rows(
        lines: AffineInMass,
    ) -> tuple[Tensor | None, Tensor | None, Tensor | None, Tensor | None]:
        scale = lines.scale.rows() if lines.scale is not None else (None, None)
        shift = lines.shift.rows() if lines.shift is not None else (None, None)
        return (*scale, *shift)

    def arrays(self) -> _Arrays:
        """The views of :class:`_Arrays`: made again whenever a parameter or its gradient
        was moved or retyped (``.to()``, a new ``.grad``) since the last call, and every
        step for rows that are not whole parameters."""
        if not self.in_place:
            return self._evaluated_arrays()
        where = [(p.data_ptr(), _grad(p).data_ptr(), p.dtype) for p in self.parameters]
        if self._arrays is None or where != self._where:
            dtype = _numpy_dtype(self.weight.dtype)
            rows = tuple(
                np.full(self.width, fill, dtype) if p is None else p.detach().view(-1).numpy()
                for p, fill in zip(self.owners, self.fills, strict=True)
            )
            grads = tuple(
                np.empty(self.width, dtype) if p is None else _grad(p).view(-1).numpy()
                for p in (*self.owners, self.bias)
            )
            bias = self.bias.detach().numpy()
            self._arrays, self._where = _Arrays(bias, rows, grads), where
        return self._arrays

    def _evaluated_arrays(self) -> _Arrays:
        dtype = _numpy_dtype(self.weight.dtype)
        with torch.enable_grad():
            lines = None if self.conditioning is None else self.conditioning.coefficients()
        if lines is None:  # __init__ checked that the mechanism declares its lines
            raise ValueError("this block is not covered by DirectStep (see supports)")
        rows = self._rows(lines)
        values, grads, self._pending = [], [], []
        for row, fill in zip(rows, self.fills, strict=True):
            grad = np.zeros(self.width, dtype)
            if row is None:
                values.append(np.full(self.width, fill, dtype))
            else:
                values.append(row.detach().to(self.weight.dtype).contiguous().view(-1).numpy())
                if row.requires_grad:
                    self._pending.append((row, grad))
            grads.append(grad)
        grads.append(_grad(self.bias).view(-1).numpy())
        return _Arrays(self.bias.detach().numpy(), tuple(values), tuple(grads))

    def finish_backward(self) -> None:
        """Carry the gradients of evaluated rows back to the mechanism's parameters
        (set, not accumulated, like every other gradient of the step)."""
        if not self._pending:
            return
        for parameter in self.own:
            _grad(parameter).zero_()
        rows = [row for row, _ in self._pending]
        grads = [torch.from_numpy(grad).view(row.shape) for row, grad in self._pending]
        torch.autograd.backward(rows, grads)
        self._pending = []


class DirectStep:
    r"""Loss and gradients of a :class:`ParametricNet` in training mode, without autograd.

    Args:
        net: a network :func:`supports` covers.

    Example:
        >>> from hep_pnn.models import build_model, preset
        >>> net = build_model(preset("affine", hidden=(8, 4)), feature_names=["a", "b"])
        >>> result = DirectStep(net)(torch.zeros(6, 2), torch.full((6,), 750.0),
        ...                          torch.tensor([1.0, 0.0] * 3), torch.ones(6))
        >>> result.loss > 0, result.total_weight, net.output.weight.grad.shape
        (True, 6.0, torch.Size([1, 4]))
    """

    def __init__(self, net: ParametricNet) -> None:
        if not supports(net):
            raise ValueError(
                "DirectStep covers fused ReLU networks whose conditioning declares its "
                "coefficients in m (see supports)"
            )
        self.net = net
        self.blocks = [_Block(cast(HiddenBlock, block)) for block in net.hidden]

    @torch.no_grad()
    def __call__(
        self, features: Tensor, mass: Tensor | None, target: Tensor, weight: Tensor
    ) -> StepResult:
        """One forward and backward pass over raw ``features (n, f)`` and ``mass (n,)``:
        sets every parameter's ``.grad`` and returns the batch's loss and accuracy sums."""
        net = self.net
        _match_torch_threads()
        x = net.preprocessing.features(features)
        if net.uses_mass:
            assert mass is not None, "this network needs the mass of every event"
            m = net.preprocessing.mass(mass).to(x.dtype).contiguous()
        else:
            m = x.new_zeros(x.shape[0])
        if net.input_conditioning is not None:
            x = torch.cat([x, m.unsqueeze(1)], dim=1)
        m_np = m.numpy()
        saved = []
        for block, key in zip(self.blocks, net.dropout_keys(), strict=True):
            p = block.dropout if net.training else 0.0  # eval mode: no dropout, as autograd
            x, record = self._forward_block(block, x.contiguous(), m_np, p, key)
            saved.append(record)
        out = net.output
        logit = torch.addmm(out.bias, x, out.weight.T).view(-1)
        grad = torch.empty_like(logit)
        loss, right, total = _kernels.bce_with_logits(
            logit.numpy(), target.numpy(), weight.numpy(), grad.numpy()
        )
        torch.mm(grad.unsqueeze(0), x, out=_grad(out.weight))
        torch.sum(grad, 0, keepdim=True, out=_grad(out.bias))
        upstream: Tensor | None = grad.unsqueeze(1) @ out.weight
        for index in range(len(self.blocks) - 1, -1, -1):
            assert upstream is not None  # only the first block's input gets no gradient
            upstream = self._backward_block(
                self.blocks[index], saved[index], m_np, upstream, need_input=index > 0
            )
        return StepResult(float(loss), float(right), float(total))

    @staticmethod
    def _forward_block(
        block: _Block, x: Tensor, m: np.ndarray, p: float, key: int
    ) -> tuple[Tensor, _Saved]:
        z = torch.mm(x, block.weight.T)  # the kernels add the bias
        arrays = block.arrays()
        mask = _mask_arguments(p, key, z.dtype)
        h = torch.empty_like(z)
        s0, s1, t0, t1 = arrays.rows
        _kernels.forward(z.numpy(), arrays.bias, m, s0, s1, t0, t1, *mask, h.numpy())
        return h, _Saved(x=x, z=z, arrays=arrays, mask=mask)

    @staticmethod
    def _backward_block(
        block: _Block, saved: _Saved, m: np.ndarray, upstream: Tensor, *, need_input: bool
    ) -> Tensor | None:
        z, arrays = saved.z, saved.arrays
        grad_z = torch.empty_like(z)
        s0, s1, _, _ = arrays.rows
        g_s0, g_s1, g_t0, g_t1, g_bias = arrays.grads
        _kernels.backward(
            upstream.contiguous().numpy(), z.numpy(), arrays.bias, m, s0, s1, *saved.mask,
            grad_z.numpy(), g_s0, g_s1, g_t0, g_t1, g_bias,
        )  # fmt: skip
        block.finish_backward()
        torch.mm(grad_z.T, saved.x, out=_grad(block.weight))
        return grad_z @ block.weight if need_input else None
