r"""Scalar four-vector helpers for the generator's numba kernels.

The kernels loop over events once and keep each particle in registers as a tuple
``(px, py, pz, E)``. The helpers follow the numpy code of :mod:`.kinematics` operation
by operation and keep the type of their inputs: float32 in, float32 out, with float32
constants (a Python float literal would turn float32 arithmetic into float64 in numba).
So the kernels agree with numpy to float32 rounding.

Numba's cache is keyed on the source file of each cached kernel, not on the helpers it
calls (nor the global tables it freezes in): after editing this module or ``_draws.py``,
delete the ``*.nbi``/``*.nbc`` files in the generator's ``__pycache__`` (or touch the
modules with kernels).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "F32",
    "HALF",
    "ONE",
    "TWO",
    "ZERO",
    "add",
    "atan2",
    "boost",
    "decay",
    "eta",
    "helper",
    "kernel",
    "mass",
    "massless",
    "pt",
    "sinh_cosh",
    "widen",
]

#: Decorator of the kernels called from Python: compiled once and cached on disk, running
#: without the GIL (the generator's block threads run them in parallel), with numpy's
#: floating-point semantics (x / 0 is inf or nan, not an exception).
kernel = njit(cache=True, nogil=True, error_model="numpy")
#: Decorator of the helpers the kernels call: compiled into each kernel (and cached with it).
helper = njit(nogil=True, error_model="numpy", inline="always")

F32 = np.float32
ZERO, HALF, ONE, TWO = F32(0.0), F32(0.5), F32(1.0), F32(2.0)


@helper
def add(p, q):
    """Sum of two four-vectors (in the wider of their two types)."""
    return (p[0] + q[0], p[1] + q[1], p[2] + q[2], p[3] + q[3])


@helper
def pt(p):
    """Transverse momentum."""
    return np.sqrt(p[0] * p[0] + p[1] * p[1])


@helper
def widen(p):
    """A float32 four-vector in float64."""
    return (np.float64(p[0]), np.float64(p[1]), np.float64(p[2]), np.float64(p[3]))


@helper
def mass(p):
    """Invariant mass; a tiny negative m² from rounding is read as zero."""
    m2 = p[3] * p[3] - p[0] * p[0] - p[1] * p[1] - p[2] * p[2]
    return np.sqrt(m2) if m2 > 0 else m2 - m2  # zero of m2's type; NaN stays NaN


# The two functions below work in float64 and round once to float32: that is as fast as
# libm's float32 sinhf + coshf and 3x faster than its asinhf (which numpy calls), and
# correctly rounded but for rare ties, where libm's float32 versions are one ulp off in
# about a quarter of the values. Below |x| = 1e-3 a short series avoids the cancellation.
_SMALL = 1e-3


@helper
def sinh_cosh(x):
    """``(sinh x, cosh x)`` of a float32 ``x`` from one float64 ``exp``."""
    wide = np.float64(x)
    e = math.exp(wide)
    inverse = 1.0 / e
    if abs(wide) < _SMALL:
        sinh = wide * (1.0 + wide * wide * (1.0 / 6.0 + wide * wide / 120.0))
    else:
        sinh = 0.5 * (e - inverse)
    return F32(sinh), F32(0.5 * (e + inverse))


@helper
def asinh(x):
    """``asinh x`` of a float32 ``x`` (see :func:`sinh_cosh`)."""
    a = abs(np.float64(x))
    if a < _SMALL:
        value = a * (1.0 - a * a * (1.0 / 6.0 - a * a * (3.0 / 40.0)))
    else:
        value = math.log(a + math.sqrt(a * a + 1.0))
    return F32(math.copysign(value, x))


def _atan_series(degree: int = 7) -> tuple[float, ...]:
    """Coefficients of atan(t)/t as a polynomial in t² for |t| ≤ tan(π/8), fitted by least
    squares at Chebyshev nodes (max error ≈ 1e-15, far below a float32 ulp)."""
    t = np.tan(np.pi / 8) * np.cos(np.pi * (np.arange(512) + 0.5) / 1024)
    return tuple(np.polynomial.polynomial.polyfit(t * t, np.arctan(t) / t, degree).tolist())


_ATAN = _atan_series()
_TAN_PI_8, _PI_4, _PI_2 = math.tan(math.pi / 8), math.pi / 4, math.pi / 2


@helper
def atan2(y, x):
    """``atan2(y, x)`` of float32 values, in float64 rounded once to float32.

    libm's ``atan2f`` costs about 35 ns here, and a branchy version of this one 16 ns
    (its octant tests are unpredictable): this reduces to |t| ≤ tan(π/8) with selects
    only (octant symmetries and atan t = π/4 + atan((t−1)/(t+1))), one division and a
    fitted polynomial, about 3 ns. For finite values it is within 0.5 ulp (plus about
    1e-5 ulp of polynomial error) of the float64 value, whatever the CPU, where numpy's
    float32 ``arctan2`` is up to 3 ulp off with AVX-512; NaN stays NaN. Unlike numpy,
    ``x = -0`` counts as ``+0`` (so ``atan2(±0, ±0)`` is ±0) and two infinities give
    NaN. The generator never meets those: every object it measures has pT ≥ 15 GeV.
    """
    if x != x or y != y:
        return x + y
    ax, ay = abs(np.float64(x)), abs(np.float64(y))
    swap = ay > ax
    big = ay if swap else ax
    small = ax if swap else ay
    reduce = small > _TAN_PI_8 * big
    numerator = small - big if reduce else small
    denominator = small + big if reduce else big
    t = numerator / denominator if denominator > 0 else 0.0
    z = t * t
    series = _ATAN[7]
    for k in range(6, -1, -1):
        series = series * z + _ATAN[k]
    angle = (_PI_4 if reduce else 0.0) + t * series
    angle = _PI_2 - angle if swap else angle
    angle = math.pi - angle if x < 0 else angle
    return F32(math.copysign(angle, y))


@helper
def eta(p, transverse):
    """Pseudorapidity from ``p`` and its pT; zero pT gives ``eta = 0``."""
    return asinh(p[2] / transverse) if transverse > 0 else transverse - transverse


@helper
def massless(transverse, pseudorapidity, cos_phi, sin_phi):
    """A massless four-vector from pT, η and the cosine and sine of φ."""
    sinh, cosh = sinh_cosh(pseudorapidity)
    return (transverse * cos_phi, transverse * sin_phi, transverse * sinh, transverse * cosh)


@helper
def boost(p, bx, by, bz):
    """Lorentz boost of ``p`` by velocity ``(bx, by, bz)`` (float32)."""
    b2 = bx * bx + by * by + bz * bz
    gamma = ONE / np.sqrt(ONE - b2)
    bp = bx * p[0] + by * p[1] + bz * p[2]
    gamma2 = (gamma - ONE) / b2 if b2 > 0 else ZERO
    along = gamma2 * bp + gamma * p[3]
    return (p[0] + along * bx, p[1] + along * by, p[2] + along * bz, gamma * (p[3] + bp))


@helper
def decay(parent, m1, m2, u_cos, cos_phi, sin_phi):
    """Isotropic two-body decay of ``parent`` into masses ``m1`` and ``m2`` (float32).

    ``u_cos`` is the uniform draw of cos θ = 2u − 1 and ``cos_phi``, ``sin_phi`` give φ,
    in the parent frame, as in :func:`~.kinematics.two_body_decay`. Returns the two
    daughters in the lab frame.
    """
    m_parent = mass(parent)
    s = m_parent * m_parent
    lam = (s - (m1 + m2) * (m1 + m2)) * (s - (m1 - m2) * (m1 - m2))
    p_star = np.sqrt(lam if lam > 0 else ZERO) / (TWO * m_parent)
    cos_theta = TWO * u_cos - ONE
    sin_theta = np.sqrt(ONE - cos_theta * cos_theta)
    qx = p_star * (sin_theta * cos_phi)
    qy = p_star * (sin_theta * sin_phi)
    qz = p_star * cos_theta
    e1 = np.sqrt(p_star * p_star + m1 * m1)
    e2 = np.sqrt(p_star * p_star + m2 * m2)
    inverse = ONE / parent[3]
    bx, by, bz = parent[0] * inverse, parent[1] * inverse, parent[2] * inverse
    return boost((qx, qy, qz, e1), bx, by, bz), boost((-qx, -qy, -qz, e2), bx, by, bz)
