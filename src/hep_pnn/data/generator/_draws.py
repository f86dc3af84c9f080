r"""Random draws made inside the generator's numba kernels, one event at a time.

Each kernel call owns a stream: a ``uint64`` state (the generator takes each block's
from ``SeedSequence.generate_state``; :func:`stream` also draws one from a numpy
``Generator``), advanced by SplitMix64 (Steele, Lea & Flood
2014; the same mixer as the dropout masks of :mod:`hep_pnn.models.fast`). Output still
depends only on the seed and the options. Why not numpy's ``Generator``: its array draws
cost 2 ns per float32 uniform and 10–15 ns per normal here, plus writing and reading the
arrays, and numba's per-draw support for it 7 ns and 19 ns; an inlined SplitMix64 step
costs about 1 ns and a normal from the ziggurat below about 3 ns.

Every draw takes the state and returns ``(state, value)``: the state stays in a register
(a state *array* makes numba count references around each call that is not inlined,
which tripled the cost of a normal).

Normals: the ziggurat method of Marsaglia & Tsang (2000) in Doornik's form (2005: 128
strips, the strip index and the abscissa taken from independent bits, exact tail and
wedge tests). Gamma: Marsaglia & Tsang (2000), with Gamma(a) = Gamma(a + 1) · U^(1/a)
for shape a < 1. Poisson: inversion of the
distribution function (small means only).

Example:
    >>> import numpy as np
    >>> x = normals(stream(np.random.default_rng(0)), 100_000)
    >>> abs(float(x.mean())) < 0.01, abs(float(x.std()) - 1) < 0.01
    (True, True)
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hep_pnn.data.generator._fourvec import F32, helper, kernel

__all__ = [
    "RandomSource",
    "cauchy",
    "choose",
    "direction",
    "gamma",
    "gammas",
    "normal",
    "normal64",
    "normals",
    "poisson",
    "poissons",
    "stream",
    "uniform",
    "uniform64",
    "uniforms",
]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S27, _S30, _S31 = np.uint64(27), np.uint64(30), np.uint64(31)
_S11, _S40, _STRIP = np.uint64(11), np.uint64(40), np.uint64(0x7F)
_S32, _LOW32 = np.uint64(32), np.uint64(0xFFFFFFFF)
_TO_F32, _TO_F64 = F32(2.0**-24), 2.0**-53
#: Decorator of the rarely taken paths: a call, not inlined into every draw.
_rare = njit(nogil=True, error_model="numpy")


#: What the generator's stages take as randomness: a numpy Generator or a stream state.
RandomSource = np.random.Generator | np.uint64 | int


def stream(source: RandomSource) -> np.uint64:
    """A kernel stream: ``source`` itself if it is a state (an integer), else a state drawn
    from the numpy ``Generator`` ``source``."""
    if isinstance(source, np.random.Generator):
        return source.integers(0, np.iinfo(np.uint64).max, dtype=np.uint64, endpoint=True)
    return np.uint64(source)


@helper
def _bits(state):
    """``(state, bits)``: the next state and its 64 random bits (SplitMix64)."""
    state = state + _GOLDEN
    z = (state ^ (state >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return state, z ^ (z >> _S31)


@helper
def uniform(state):
    """``(state, u)`` with ``u`` a float32 uniform in [0, 1) (24 random bits)."""
    state, bits = _bits(state)
    return state, F32(bits >> _S40) * _TO_F32


@helper
def uniform64(state):
    """``(state, u)`` with ``u`` a float64 uniform in (0, 1] (53 random bits; its log is
    finite)."""
    state, bits = _bits(state)
    return state, (np.float64(bits >> _S11) + 1.0) * _TO_F64


@helper
def _square(state):
    """``(state, x, y)``: a point uniform in the square [−1, 1)² (32 random bits each)."""
    state, bits = _bits(state)
    x = np.float64(bits >> _S32) * 2.0**-31 - 1.0
    return state, x, np.float64(bits & _LOW32) * 2.0**-31 - 1.0


@helper
def direction(state):
    """``(state, cos φ, sin φ)`` for φ uniform, float32, without trigonometry: a point
    uniform in the unit disk (from the square, 79 % accepted) at angle θ gives
    cos 2θ = (x² − y²)/r² and sin 2θ = 2xy/r² (von Neumann 1951)."""
    while True:
        state, x, y = _square(state)
        r2 = x * x + y * y
        if 0.0 < r2 < 1.0:
            return state, F32((x * x - y * y) / r2), F32(2.0 * x * y / r2)


@helper
def cauchy(state, low, high):
    """``(state, c)``: a standard Cauchy variate truncated to [``low``, ``high``] (float64),
    as y/x of a point uniform in the unit disk, whose angle is uniform: no ``tan``."""
    while True:
        state, x, y = _square(state)
        if x * x + y * y < 1.0 and x != 0.0:
            c = y / x
            if low <= c <= high:
                return state, c


def _ziggurat(strips: int, tail: float, area: float) -> tuple[np.ndarray, np.ndarray]:
    """Doornik's tables: strip edges ``x`` (``strips + 1``) and their ratios."""
    x = np.zeros(strips + 1)
    f = math.exp(-0.5 * tail * tail)
    x[0], x[1] = area / f, tail
    for i in range(2, strips):
        x[i] = math.sqrt(-2.0 * math.log(area / x[i - 1] + f))
        f = math.exp(-0.5 * x[i] * x[i])
    return x, x[1:] / x[:-1]


_TAIL, _AREA = 3.442619855899, 9.91256303526217e-3
_EDGE, _RATIO = _ziggurat(128, _TAIL, _AREA)


@helper
def _strip(bits):
    """The signed abscissa ``u`` in (−1, 1) and the strip index of 64 random bits."""
    return 2.0 * (np.float64(bits >> _S11) * _TO_F64) - 1.0, np.intp(bits & _STRIP)


@_rare
def _normal_tail(state, negative):
    """A normal beyond ±``_TAIL`` (Marsaglia 1964)."""
    while True:
        state, u1 = uniform64(state)
        state, u2 = uniform64(state)
        x, y = math.log(u1) / _TAIL, math.log(u2)
        if -2.0 * y >= x * x:
            return state, (x - _TAIL if negative else _TAIL - x)


@_rare
def _normal_rejected(state, bits):
    """The rest of :func:`normal64` after the first draw ``bits`` missed its rectangle."""
    while True:
        u, i = _strip(bits)
        if abs(u) < _RATIO[i]:
            return state, u * _EDGE[i]
        if i == 0:
            return _normal_tail(state, u < 0)
        x = u * _EDGE[i]
        f0 = math.exp(-0.5 * (_EDGE[i] * _EDGE[i] - x * x))
        f1 = math.exp(-0.5 * (_EDGE[i + 1] * _EDGE[i + 1] - x * x))
        state, v = uniform64(state)
        if f1 + v * (f0 - f1) < 1.0:
            return state, x
        state, bits = _bits(state)


@helper
def normal64(state):
    """``(state, x)`` with ``x`` a standard normal (float64), by the ziggurat: 97 % of the
    draws end in the first rectangle test; the rest is a call."""
    state, bits = _bits(state)
    u, i = _strip(bits)
    if abs(u) < _RATIO[i]:
        return state, u * _EDGE[i]
    return _normal_rejected(state, bits)


@helper
def normal(state):
    """``(state, x)`` with ``x`` a standard normal rounded to float32."""
    state, x = normal64(state)
    return state, F32(x)


@helper
def poisson(state, mean):
    """``(state, k)``: a Poisson count of small ``mean`` (float64), by inverting its
    distribution function."""
    state, u = uniform64(state)
    term = math.exp(-mean)
    total, k = term, 0
    while u > total and k < 1000:
        k += 1
        term *= mean / k
        total += term
    return state, k


@helper
def gamma(state, shape):
    """``(state, x)`` with ``x`` a Gamma(``shape``, 1) variate for ``shape`` > 0 (float64)."""
    boost = shape < 1.0
    a = shape + 1.0 if boost else shape
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        state, x = normal64(state)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        state, u = uniform64(state)
        if u < 1.0 - 0.0331 * (x * x) * (x * x) or math.log(u) < 0.5 * x * x + d * (
            1.0 - v + math.log(v)
        ):
            break
    if boost:
        state, u = uniform64(state)
        return state, d * v * u ** (1.0 / shape)
    return state, d * v


_NORMAL, _GAMMA, _POISSON = 0, 1, 2


@kernel
def _fill(state, kind, parameter, out):
    for i in range(out.shape[0]):
        if kind == _NORMAL:
            state, out[i] = normal64(state)
        elif kind == _GAMMA:
            state, out[i] = gamma(state, parameter)
        else:
            state, out[i] = poisson(state, parameter)


@kernel
def _choose(state, cumulative, values, out):
    for i in range(out.shape[0]):
        state, u = uniform64(state)
        k = 0
        while k < cumulative.shape[0] - 1 and u > cumulative[k]:
            k += 1
        out[i] = values[k]


def choose(state: np.uint64, values: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """``n`` of ``values`` drawn in proportion to ``weights`` (float32).

    Example:
        >>> x = choose(np.uint64(1), np.array([1.0, 2.0]), np.array([1.0, 3.0]), 100_000)
        >>> round(float((x == 2.0).mean()), 2)
        0.75
    """
    cumulative = np.cumsum(np.asarray(weights, np.float64))
    out = np.empty(n, np.float32)
    _choose(state, cumulative / cumulative[-1], np.asarray(values, np.float32), out)
    return out


@kernel
def _uniforms(state, low, high, out):
    for i in range(out.shape[0]):
        state, u = uniform64(state)
        out[i] = low + (high - low) * (1.0 - u)


def uniforms(state: np.uint64, low: float, high: float, n: int) -> np.ndarray:
    """``n`` float32 values uniform in [``low``, ``high``)."""
    out = np.empty(n, np.float32)
    _uniforms(state, float(low), float(high), out)
    return out


def _filled(kind: int, state: np.uint64, parameter: float, n: int) -> np.ndarray:
    out = np.empty(n)
    _fill(state, kind, parameter, out)
    return out


def normals(state: np.uint64, n: int) -> np.ndarray:
    """``n`` standard normals (float64) from ``state``, as the kernels draw them."""
    return _filled(_NORMAL, state, 0.0, n)


def gammas(state: np.uint64, shape: float, n: int) -> np.ndarray:
    """``n`` Gamma(``shape``, 1) variates (float64) from ``state``."""
    return _filled(_GAMMA, state, shape, n)


def poissons(state: np.uint64, mean: float, n: int) -> np.ndarray:
    """``n`` Poisson counts (as float64) from ``state``."""
    return _filled(_POISSON, state, mean, n)
