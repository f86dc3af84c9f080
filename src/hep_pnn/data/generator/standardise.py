r"""HEPMASS-style standardisation with fixed constants shipped in the package.

Momenta, missing ET, the jet count and the masses are log-transformed then z-scored;
η, φ and b-tags are z-scored linearly. The means and standard deviations are fixed
(``standardisation.json``, written by :mod:`hep_pnn.data.generator.fit_constants`), so
every generated sample, whatever its size or masses, is transformed identically. They are
fitted on a generated reference sample, except where HEPMASS's own constants are known
(:data:`HEPMASS_CONSTANTS`): there the generated features use HEPMASS's units.

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
    "HEPMASS_BTAG_RATES",
    "HEPMASS_CONSTANTS",
    "HEPMASS_F26_PEAKS",
    "LOG_FEATURES",
    "constants",
    "destandardise",
    "fit_constants",
    "standardise",
    "with_hepmass_constants",
]

CONSTANTS_PATH = Path(__file__).with_name("standardisation.json")

#: Features that are log-transformed before the z-score (momenta, MET, jet count, masses).
LOG_FEATURES: tuple[int, ...] = (0, 3, 5, 6, 10, 14, 18, 22, 23, 24, 25, 26)
_IS_LOG = np.isin(np.arange(len(FEATURE_NAMES)), LOG_FEATURES)
_LOG_FLOOR = 1e-3  # GeV; keeps log() finite for a vanishing MET or mass

# Values stored in the published HEPMASS rows (first rows of the training file): 4 and 5
# jets in f5, an untagged and a tagged jet 4 in f21.
_HEPMASS_F5_4_JETS, _HEPMASS_F5_5_JETS = -1.054221, -0.005984
_HEPMASS_F21_UNTAGGED, _HEPMASS_F21_TAGGED = -0.573682, 1.743123
_F5_STD = math.log(5 / 4) / (_HEPMASS_F5_5_JETS - _HEPMASS_F5_4_JETS)
_F21_STD = 1 / (_HEPMASS_F21_TAGGED - _HEPMASS_F21_UNTAGGED)

#: Share of b-tagged jets 1, 2 and 3 in HEPMASS (f9, f13, f17), read off a histogram of
#: its features, good to about ±0.05 (docs/generator.md, "What the real data show").
HEPMASS_BTAG_RATES: dict[int, float] = {9: 0.65, 13: 0.58, 17: 0.39}

#: Standardised f26 of the signal peak at each HEPMASS mass (GeV), read off the published
#: f26 histogram (Anzalone et al. 2022, repository figure src/f26.png).
HEPMASS_F26_PEAKS: dict[float, float] = {
    500.0: -0.933,
    750.0: -0.155,
    1000.0: 0.397,
    1250.0: 0.808,
    1500.0: 1.142,
}

#: ``{feature: (mean, std)}`` of the transformed feature in the published HEPMASS files,
#: where they can be read off the published data (docs/generator.md, "Realism"):
#: - f5 (log jet count) and f21 (jet 4 b-tag, 0/1; 24.8 % of HEPMASS's jets 4 are
#:   tagged): solved from the values the HEPMASS rows store for 4 and 5 jets and for an
#:   untagged and a tagged jet.
#: - f9, f13, f17 (jets 1-3 b-tag, 0/1): the z-score of a 0/1 flag tagged at the rate p
#:   is mean p, std sqrt(p (1 - p)), which gives f21's stored values exactly at p = 0.248;
#:   p is HEPMASS's tag rate (:data:`HEPMASS_BTAG_RATES`), so a tagged and an untagged
#:   jet carry HEPMASS's values whatever the generated tag rate.
#: - f26 (log m_WWbb): a straight-line fit of the generated signal's peak positions in
#:   ln GeV against HEPMASS's (:data:`HEPMASS_F26_PEAKS`) gives mean and std, assuming the
#:   reconstructed peak in GeV is the same in both
#:   (:func:`~hep_pnn.data.generator.fit_constants.f26_from_peaks`, printed by
#:   ``python -m hep_pnn.data.generator.fit_constants``).
HEPMASS_CONSTANTS: dict[int, tuple[float, float]] = {
    5: (math.log(4) - _HEPMASS_F5_4_JETS * _F5_STD, _F5_STD),
    **{j: (p, math.sqrt(p * (1 - p))) for j, p in HEPMASS_BTAG_RATES.items()},
    21: (-_HEPMASS_F21_UNTAGGED * _F21_STD, _F21_STD),
    26: (6.713366, 0.525870),
}


def _transform(raw: np.ndarray) -> np.ndarray:
    return np.where(_IS_LOG, np.log(np.maximum(raw, np.float32(_LOG_FLOOR))), raw)


def fit_constants(raw: np.ndarray) -> dict[str, list[float]]:
    """Means and standard deviations of the transformed features of a reference sample."""
    transformed = _transform(np.asarray(raw, dtype=np.float64))
    return {
        "mean": transformed.mean(axis=0).tolist(),
        "std": transformed.std(axis=0).tolist(),
    }


def with_hepmass_constants(fitted: dict[str, list[float]]) -> dict[str, list[float]]:
    """``fitted`` (as :func:`fit_constants` returns it) with :data:`HEPMASS_CONSTANTS` in
    place of the fitted values of those features.

    Example:
        >>> fitted = {"mean": [0.0] * 27, "std": [1.0] * 27}
        >>> round(with_hepmass_constants(fitted)["std"][21], 6)
        0.431629
    """
    mean, std = list(fitted["mean"]), list(fitted["std"])
    for feature, (mean_value, std_value) in HEPMASS_CONSTANTS.items():
        mean[feature], std[feature] = mean_value, std_value
    return {**fitted, "mean": mean, "std": std}


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
