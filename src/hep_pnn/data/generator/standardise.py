r"""HEPMASS-style standardisation with fixed constants shipped in the package.

Momenta, missing ET, the jet count and the masses are log-transformed then z-scored;
η, φ and b-tags are z-scored linearly. The means and standard deviations are fixed
(``standardisation.json``, written by :mod:`hep_pnn.data.generator.fit_constants`), so
every generated sample, whatever its size or masses, is transformed identically.

Example:
    >>> import numpy as np
    >>> raw = np.tile([50.0, 0.1, 0.2, 40.0, -1.0, 5, 80.0, 0.3, 1.0, 1.0] + [60.0] * 17, (2, 1))
    >>> np.allclose(destandardise(standardise(raw)), raw, rtol=1e-5)
    True
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np

from hep_pnn.data.features import FEATURE_NAMES
from hep_pnn.data.generator._fourvec import kernel

__all__ = [
    "CONSTANTS_PATH",
    "LOG_FEATURES",
    "constants",
    "destandardise",
    "fit_constants",
    "standardise",
]

CONSTANTS_PATH = Path(__file__).with_name("standardisation.json")

#: Features that are log-transformed before the z-score (momenta, MET, jet count, masses).
LOG_FEATURES: tuple[int, ...] = (0, 3, 5, 6, 10, 14, 18, 22, 23, 24, 25, 26)
_IS_LOG = np.isin(np.arange(len(FEATURE_NAMES)), LOG_FEATURES)
_LOG_FLOOR = 1e-3  # GeV; keeps log() finite for a vanishing MET or mass


def _transform(raw: np.ndarray) -> np.ndarray:
    return np.where(_IS_LOG, np.log(np.maximum(raw, np.float32(_LOG_FLOOR))), raw)


def fit_constants(raw: np.ndarray) -> dict[str, list[float]]:
    """Means and standard deviations of the transformed features of a reference sample."""
    transformed = _transform(np.asarray(raw, dtype=np.float64))
    return {
        "mean": transformed.mean(axis=0).tolist(),
        "std": transformed.std(axis=0).tolist(),
    }


@cache
def constants() -> tuple[np.ndarray, np.ndarray]:
    """The shipped ``(mean, std)`` of the transformed features, each shape ``(27,)``."""
    stored = json.loads(CONSTANTS_PATH.read_text())
    return np.asarray(stored["mean"], np.float32), np.asarray(stored["std"], np.float32)


@kernel
def _standardise_kernel(raw, is_log, mean, scale, out):
    """``out = (transform(raw) - mean) * scale`` in float32, row by row (``out`` may be
    ``raw``). Three passes over a row let numba vectorise the copy and the affine one."""
    floor = np.float32(_LOG_FLOOR)
    for i in range(raw.shape[0]):
        for j in range(raw.shape[1]):
            out[i, j] = raw[i, j]
        for j in range(raw.shape[1]):
            if is_log[j]:
                out[i, j] = math.log(max(out[i, j], floor))
        for j in range(raw.shape[1]):
            out[i, j] = (out[i, j] - mean[j]) * scale[j]


def standardise(raw: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
    """Raw features ``(n, 27)`` in GeV/rad → standardised float32 features (into ``out``
    if given, which may be ``raw`` itself)."""
    mean = constants()[0]
    raw = np.asarray(raw, np.float32)
    if out is None:
        out = np.empty(raw.shape, np.float32)
    _standardise_kernel(raw, _IS_LOG, mean, _scale(), out)
    return out


@cache
def _scale() -> np.ndarray:
    """``1 / std`` of the shipped constants, in float32."""
    return (1.0 / constants()[1].astype(np.float64)).astype(np.float32)


def destandardise(features: np.ndarray) -> np.ndarray:
    """Inverse of :func:`standardise`: back to GeV, rad, counts and b-tags."""
    mean, std = constants()
    transformed = np.asarray(features, dtype=np.float64) * std + mean
    return np.where(_IS_LOG, np.exp(transformed), transformed)
