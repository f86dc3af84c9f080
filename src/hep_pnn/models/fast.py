r"""Fast CPU kernels for training: fused hidden layers, hashed dropout masks, one-kernel L2.

At batch 1024 a pNN spends as much CPU time in element-wise passes over the activations
(activation, per-event scale and shift, dropout mask and their gradients) as in its
matmuls, because those passes do not stay in the caches. Here:

* :func:`linear_activate_condition_dropout` computes
  ``dropout(relu(x Wᵀ + b) * scale(m) + shift(m))`` with one numba kernel forward and
  one backward (:mod:`hep_pnn.models._kernels`), around torch's matmuls. Scale and
  shift enter as their ``(2, width)`` coefficients in the mass, whose gradients come
  out of the same backward sweep. ReLU only; other activations use the plain path.
* :func:`dropout_mask` is counter-based: the mask is a hash of one 64-bit key (drawn
  from the model's ``torch.Generator``) and the position, so the fused kernel never
  stores it and the plain path can rebuild exactly the same mask.
* :func:`weighted_squared_norm` computes the L2 penalty of all weights in two
  multi-tensor kernels instead of dozens of small ops.

The plain path, :func:`reference_activate_modulate_dropout`, computes the same values
with ordinary autograd ops; the tests check both agree for the same key.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numba
import numpy as np
import torch
from torch import Tensor

from hep_pnn.models import _kernels

__all__ = [
    "dropout_key",
    "dropout_keys",
    "dropout_mask",
    "effective_dropout",
    "linear_activate_condition_dropout",
    "mass_design",
    "reference_activate_modulate_dropout",
    "weighted_squared_norm",
]

#: An autograd context: torch types it as ``FunctionCtx``, which declares neither
#: ``saved_tensors`` nor ``needs_input_grad``, and the functions here add their own fields.
Context = Any

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


def _drop_parameters(p: float) -> tuple[int, int, float]:
    """``(bits, threshold, keep)``: a field of ``bits`` random bits below ``threshold`` drops."""
    if p <= 0:
        return 0, 0, 1.0
    bits, threshold = _bits_and_threshold(p)
    return bits, threshold, 1.0 / (1.0 - threshold / (1 << bits))


@functools.lru_cache(maxsize=8)
def _numpy_dtype(dtype: torch.dtype) -> np.dtype:
    return torch.empty(0, dtype=dtype).numpy().dtype


@functools.lru_cache(maxsize=16)
def _keep(p: float, dtype: np.dtype) -> np.generic:
    """``1 / (1 - p)`` (1 without dropout) as a scalar of ``dtype``."""
    return dtype.type(_drop_parameters(p)[2])


def dropout_key(generator: torch.Generator | None) -> int:
    """A 63-bit key for one dropout mask, drawn from ``generator`` (which it advances)."""
    return dropout_keys(generator, 1)[0]


def dropout_keys(generator: torch.Generator | None, count: int) -> list[int]:
    """``count`` keys for dropout masks in one draw from ``generator`` (which it advances).

    Example:
        >>> keys = dropout_keys(torch.Generator().manual_seed(0), 3)
        >>> len(set(keys)), all(0 <= k < 2**63 for k in keys)
        (3, True)
    """
    return torch.randint(0, 2**63 - 1, (count,), generator=generator, dtype=torch.int64).tolist()


def _mask_arguments(p: float, key: int, dtype: torch.dtype) -> tuple[np.uint64, int, int, Any]:
    """``(key, bits, threshold, keep)``: the kernels' arguments for a mask of ``p``."""
    bits, threshold, _ = _drop_parameters(p)
    return np.uint64(key), bits, threshold, _keep(float(p), _numpy_dtype(dtype))


def dropout_mask(
    shape: tuple[int, int],
    p: float,
    *,
    generator: torch.Generator | None = None,
    key: int | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    r"""A dropout mask: 0 with probability ``p``, else ``1 / (1 - p)``.

    The mask is a hash of ``key`` (drawn from ``generator`` when not given) and the
    position, the same one :func:`linear_activate_condition_dropout` applies for that key.
    ``p`` is used exactly when it is a multiple of 1/256 (0.25, 0.5, 0.125, ...);
    otherwise it is rounded to one (:func:`effective_dropout`).

    Example:
        >>> mask = dropout_mask((1000, 100), 0.25, generator=torch.Generator().manual_seed(0))
        >>> sorted(set(mask.unique().tolist()))
        [0.0, 1.3333333730697632]
        >>> round((mask == 0).float().mean().item(), 2)
        0.25
    """
    if key is None:
        if generator is None:
            raise TypeError("dropout_mask needs a generator or a key")
        key = dropout_key(generator)
    bits, threshold, _ = _drop_parameters(p)
    keep = _keep(float(p), _numpy_dtype(dtype))
    return torch.from_numpy(_kernels.mask(*shape, key, bits, threshold, keep))


def _numpy(tensor: Tensor) -> np.ndarray:
    return tensor.detach().contiguous().numpy()


def _coefficients(given: Tensor | None, default: tuple[float, float], like: Tensor) -> Tensor:
    if given is not None:
        return given
    return like.new_tensor(default).unsqueeze(1).expand(2, like.shape[1])


class _LinearReluConditionDropout(torch.autograd.Function):
    """``(relu(x Wᵀ + b) * (m C_s[0] + C_s[1]) + m C_t[0] + C_t[1]) * mask`` in one kernel
    forward and one backward (:mod:`hep_pnn.models._kernels`), plus the matmuls."""

    @staticmethod
    def forward(
        ctx: Context,
        x: Tensor,
        weight: Tensor,
        bias: Tensor,
        mass: Tensor,
        scale_coefficients: Tensor,
        shift_coefficients: Tensor,
        p: float,
        key: int,
    ) -> Tensor:
        z = torch.mm(x, weight.T)  # the kernels add the bias
        out = torch.empty_like(z)
        scale, shift = _numpy(scale_coefficients), _numpy(shift_coefficients)
        _match_torch_threads()
        _kernels.forward(
            _numpy(z), _numpy(bias), _numpy(mass), scale[0], scale[1], shift[0], shift[1],
            *_mask_arguments(p, key, z.dtype), out.numpy(),
        )  # fmt: skip
        ctx.save_for_backward(x, weight, z, bias, mass, scale_coefficients)
        ctx.p, ctx.key = p, key
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, weight, z, bias, mass, scale_coefficients = ctx.saved_tensors
        grad_z = torch.empty_like(z)
        sums = z.new_empty(5, z.shape[1])
        _match_torch_threads()
        scale = _numpy(scale_coefficients)
        g_s0, g_s1, g_t0, g_t1, g_bias = sums.numpy()
        _kernels.backward(
            _numpy(grad), _numpy(z), _numpy(bias), _numpy(mass), scale[0], scale[1],
            *_mask_arguments(ctx.p, ctx.key, z.dtype), grad_z.numpy(),
            g_s0, g_s1, g_t0, g_t1, g_bias,
        )  # fmt: skip
        grad_x = grad_z @ weight if ctx.needs_input_grad[0] else None
        grad_weight = grad_z.T @ x if ctx.needs_input_grad[1] else None
        return grad_x, grad_weight, sums[4], None, sums[0:2], sums[2:4], None, None


def _match_torch_threads() -> None:
    """Give the numba kernels as many threads as torch uses (capped by numba's pool).

    The first call starts numba's pool. With numba's ``omp`` threading layer (the default
    beside torch's ``libgomp``) that start sets the calling thread's OpenMP count, which is
    torch's thread count too, to the pool size: a run at 1 thread went on at 2 from its first
    step (two ``pnn study --jobs 2`` runs at four threads on two cores). Torch's count is
    put back.
    """
    pool = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]  # set at import
    count = torch.get_num_threads()
    numba.set_num_threads(max(1, min(count, pool)))
    if torch.get_num_threads() != count:  # numba's pool has just started
        torch.set_num_threads(count)


def mass_design(mass: Tensor) -> Tensor:
    """The ``(n, 2)`` design matrix ``[m, 1]`` of a scaled mass column ``(n, 1)``.

    Conditioning coefficients ``C`` (:meth:`~hep_pnn.models.Conditioning.coefficients`)
    give the per-event modulation as ``mass_design(m) @ C``.

    Example:
        >>> mass_design(torch.tensor([[0.5], [1.5]])).tolist()
        [[0.5, 1.0], [1.5, 1.0]]
    """
    return torch.cat([mass, torch.ones_like(mass)], dim=1)


def linear_activate_condition_dropout(
    x: Tensor,
    weight: Tensor,
    bias: Tensor,
    mass: Tensor,
    scale_coefficients: Tensor | None,
    shift_coefficients: Tensor | None,
    *,
    p: float,
    key: int,
) -> Tensor:
    r"""``(relu(x Wᵀ + b) * (D @ C_scale) + D @ C_shift) * dropout_mask(key)``, fused.

    ``D`` is :func:`mass_design` of the scaled mass ``(n, 1)`` and ``C`` come from
    :meth:`~hep_pnn.models.conditioning.Conditioning.coefficients` (``None``: no scale
    or no shift); ``p = 0`` means no dropout. One pass over the activations forward and
    one backward, which also returns the gradients of the bias and of the coefficients.

    Example:
        >>> weight, bias = torch.tensor([[-1.0], [2.0]]), torch.zeros(2)
        >>> scale = torch.tensor([[2.0, 2.0], [1.0, 1.0]])
        >>> linear_activate_condition_dropout(
        ...     torch.ones(1, 1), weight, bias, torch.ones(1, 1), scale, None, p=0.0, key=0
        ... ).tolist()
        [[0.0, 6.0]]
    """
    scale = _coefficients(scale_coefficients, (0.0, 1.0), weight.T)
    shift = _coefficients(shift_coefficients, (0.0, 0.0), weight.T)
    return _LinearReluConditionDropout.apply(
        x, weight, bias, mass.reshape(-1), scale, shift, float(p), int(key)
    )


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
    def forward(ctx: Context, factors: list[float], *tensors: Tensor) -> Tensor:
        ctx.factors = factors
        ctx.save_for_backward(*tensors)
        norms = torch.stack(torch._foreach_norm(tensors))
        return (norms.square() * norms.new_tensor(factors)).sum()

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, ...]:
        upstream = float(grad)
        scales = [2.0 * factor * upstream for factor in ctx.factors]
        return (None, *torch._foreach_mul(ctx.saved_tensors, scales))


def weighted_squared_norm(tensors: Sequence[Tensor], factors: Sequence[float]) -> Tensor:
    r"""``Σ_i factors[i] · ‖tensors[i]‖²``: an L2 penalty in two multi-tensor kernels.

    Example:
        >>> weighted_squared_norm([torch.ones(2), torch.ones(3)], [1.0, 0.5]).item()
        3.5
    """
    return _WeightedSquaredNorm.apply(factors, *tensors)
