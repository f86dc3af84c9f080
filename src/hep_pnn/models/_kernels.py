r"""Numba kernels of the fused training path: one pass forward, one pass backward.

At batch 1024 the matmuls of a pNN fit in the CPU caches but the dozen element-wise
passes torch makes around them (activation, per-event scale and shift, dropout mask,
their gradients) do not, and cost as much as the matmuls. These kernels do all of it
in one sweep over the activations each way.

Dropout masks are counter-based: bit ``j`` of row ``i`` comes from a SplitMix64 hash of
``(key, i, word)``, so a mask is fixed by one 64-bit key, is the same whatever the
number of threads, and a smaller batch or layer sees a corner of a bigger one's mask.
A drop decision uses ``bits`` hashed words (bit planes) per 64 activations: the field
read from the planes is compared with ``threshold`` without leaving the 64-bit words
(a bit-sliced comparison). The forward pass stores the mask for the backward pass.
Reductions over events use a fixed number of row chunks, so gradients are
bit-identical for any thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["CHUNKS", "backward", "forward", "keep_table", "mask"]

#: Row chunks of the backward reductions (fixed, so results do not depend on threads).
CHUNKS = 8


def keep_table(keep: float, dtype: np.dtype) -> np.ndarray:
    """``(256, 8)`` table: for each byte of drop bits, the eight mask values it encodes."""
    byte = np.arange(256)[:, None]
    dropped = (byte >> np.arange(8)[None, :]) & 1
    return np.where(dropped == 1, 0.0, keep).astype(dtype)


@njit(cache=True, inline="always")
def _mix(x: np.uint64) -> np.uint64:
    """SplitMix64 finaliser: a well-mixed 64-bit hash of a counter."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit(cache=True, inline="always")
def _row_words(key, row, bits, threshold, out):
    """Drop bits of one row, 64 activations per ``uint64`` word of ``out``."""
    n_words = out.shape[0]
    golden = np.uint64(0x9E3779B97F4A7C15)
    base = np.uint64(key) + (np.uint64(row) << np.uint64(24)) * golden
    ones = ~np.uint64(0)
    for w in range(n_words):
        below = np.uint64(0)
        equal = ones
        for b in range(bits - 1, -1, -1):
            plane = _mix(base + np.uint64(w * bits + b) * golden)
            if (threshold >> b) & 1:
                below |= equal & ~plane
                equal &= plane
            else:
                equal &= ~plane
        out[w] = below


@njit(cache=True, inline="always")
def expand_row(words, table, buf):
    """Mask values of one row from its drop bits, eight at a time through ``table``."""
    width = buf.shape[0]
    for w in range(words.shape[0]):
        word = words[w]
        for b in range(8):
            start = w * 64 + b * 8
            byte = (word >> np.uint64(8 * b)) & np.uint64(255)
            if start + 8 <= width:
                for k in range(8):
                    buf[start + k] = table[byte, k]
            else:
                for k in range(max(0, width - start)):
                    buf[start + k] = table[byte, k]


@njit(cache=True)
def mask(n_rows, width, key, bits, threshold, table):
    """The ``(n_rows, width)`` mask values that :func:`forward` applies for ``key``."""
    out = np.ones((n_rows, width), table.dtype)
    if bits > 0:
        words = np.empty((width + 63) // 64, np.uint64)
        for i in range(n_rows):
            _row_words(key, i, bits, threshold, words)
            expand_row(words, table, out[i])
    return out


@njit(cache=True, parallel=True)
def forward(z, mass, scale, shift, key, bits, threshold, table, out, mask):
    """``out = (relu(z) * (m s₀ + s₁) + (m t₀ + t₁)) * mask``, writing the mask it draws
    into ``mask`` for the backward pass; no mask (``mask`` untouched) when ``bits == 0``."""
    n, width = z.shape
    n_words = (width + 63) // 64
    step = (n + CHUNKS - 1) // CHUNKS
    for c in prange(CHUNKS):
        words = np.empty(n_words, np.uint64)
        for i in range(c * step, min(n, (c + 1) * step)):
            m = mass[i]
            if bits > 0:
                _row_words(key, i, bits, threshold, words)
                expand_row(words, table, mask[i])
            for j in range(width):
                zz = z[i, j]
                a = zz * (zz > 0)
                value = a * (m * scale[0, j] + scale[1, j]) + (m * shift[0, j] + shift[1, j])
                out[i, j] = value * mask[i, j] if bits > 0 else value


@njit(cache=True, parallel=True)
def backward(grad, z, mass, scale, mask, grad_z, partial):
    """Gradient of :func:`forward` for ``z`` and, in ``partial[chunk]``, the sums over events
    of ``(g·a·m, g·a, g·m, g)`` (scale and shift coefficients) and of ``grad_z`` (the bias).
    ``mask`` has zero rows when there was no dropout."""
    n, width = z.shape
    dropped = mask.shape[0] > 0
    step = (n + CHUNKS - 1) // CHUNKS
    for c in prange(CHUNKS):
        sums = np.zeros((5, width), z.dtype)
        for i in range(c * step, min(n, (c + 1) * step)):
            m = mass[i]
            for j in range(width):
                g = grad[i, j] * mask[i, j] if dropped else grad[i, j]
                zz = z[i, j]
                positive = zz > 0
                ga = g * (zz * positive)
                sums[0, j] += ga * m
                sums[1, j] += ga
                sums[2, j] += g * m
                sums[3, j] += g
                gz = g * (m * scale[0, j] + scale[1, j]) * positive
                grad_z[i, j] = gz
                sums[4, j] += gz
        partial[c] = sums
