r"""Recompute the shipped standardisation constants (run after changing the physics).

Usage: ``python -m hep_pnn.data.generator.fit_constants`` rewrites ``standardisation.json``
from a large HEPMASS-like mixed sample (signal at the five published masses plus the
default background mix, half and half), generated raw with a fixed seed; the features
whose HEPMASS constants are known keep those (``HEPMASS_CONSTANTS``). It also prints f26's
constants as the signal peaks of the same sample place them (:func:`f26_from_peaks`); when
they differ from ``HEPMASS_CONSTANTS[26]``, copy them there and rerun.
"""

from __future__ import annotations

import json

import numpy as np

from hep_pnn.data.features import HEPMASS_MASSES
from hep_pnn.data.generator.api import generate_raw
from hep_pnn.data.generator.standardise import (
    CONSTANTS_PATH,
    HEPMASS_CONSTANTS,
    HEPMASS_F26_PEAKS,
    fit_constants,
    with_hepmass_constants,
)
from hep_pnn.data.table import EventTable

__all__ = ["density", "f26_from_peaks", "log_mwwbb", "main", "peak", "reference_sample"]

REFERENCE_SEED = 20160123
REFERENCE_SIGNAL_PER_MASS = 100_000


def density(
    values: np.ndarray, *, bandwidth: float, bins_per_bandwidth: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """A Gaussian kernel density estimate of ``values``: bin centres and the histogram of
    bins ``bandwidth`` / ``bins_per_bandwidth`` wide smoothed with a Gaussian of
    ``bandwidth`` (cut at ±5 bandwidths; normalised to the sample's count)."""
    step = bandwidth / bins_per_bandwidth
    edges = np.arange(values.min() - 5 * bandwidth, values.max() + 5 * bandwidth + step, step)
    counts, edges = np.histogram(values, bins=edges)
    offsets = np.arange(-5 * bins_per_bandwidth, 5 * bins_per_bandwidth + 1) * step
    kernel = np.exp(-0.5 * (offsets / bandwidth) ** 2)
    smoothed = np.convolve(counts, kernel / kernel.sum(), mode="same")
    return 0.5 * (edges[1:] + edges[:-1]), smoothed


def peak(values: np.ndarray, *, bandwidth: float = 0.02) -> float:
    """The mode of ``values``: the maximum of a Gaussian kernel density estimate
    (:func:`density`)."""
    centres, smoothed = density(values, bandwidth=bandwidth)
    return float(centres[int(np.argmax(smoothed))])


def f26_from_peaks(log_mwwbb: dict[float, np.ndarray]) -> tuple[float, float, np.ndarray]:
    """f26's (mean, std) placing the generated signal's ln m_WWbb peaks at HEPMASS's.

    A straight-line fit of each mass's peak (:func:`peak`, in ln GeV) against the
    published standardised peak (:data:`~.standardise.HEPMASS_F26_PEAKS`); returns the
    intercept (mean), slope (std) and the residuals in standardised units. This assumes
    the reconstructed peak in GeV is the same in both.
    """
    masses = sorted(HEPMASS_F26_PEAKS)
    published = np.array([HEPMASS_F26_PEAKS[m] for m in masses])
    peaks = np.array([peak(log_mwwbb[m]) for m in masses])
    std, mean = np.polyfit(published, peaks, 1)
    return float(mean), float(std), (peaks - mean) / std - published


def main() -> None:
    """Generate the reference sample and write the constants next to this module."""
    table = reference_sample()
    n_signal = REFERENCE_SIGNAL_PER_MASS
    stored = {
        "about": "HEPMASS-style standardisation of the built-in generator: features listed in "
        "LOG_FEATURES are log-transformed, then every feature is (x - mean) / std.",
        "from_hepmass": "features "
        + ", ".join(f"f{j}" for j in HEPMASS_CONSTANTS)
        + " use HEPMASS's constants (standardise.HEPMASS_CONSTANTS); the others are fitted",
        "reference_sample": f"generate_raw(masses={list(HEPMASS_MASSES)}, n_signal_per_mass="
        f"{n_signal}, n_background={n_signal * len(HEPMASS_MASSES)}, seed={REFERENCE_SEED})",
        **with_hepmass_constants(fit_constants(table.features)),
    }
    CONSTANTS_PATH.write_text(json.dumps(stored, indent=1) + "\n")
    print(f"wrote {CONSTANTS_PATH}")
    mean, std, residuals = f26_from_peaks(log_mwwbb(table))
    print(
        f"f26 from the signal peaks: mean {mean:.6f}, std {std:.6f} (residuals "
        f"{', '.join(f'{r:+.3f}' for r in residuals)}); HEPMASS_CONSTANTS[26] = "
        f"{HEPMASS_CONSTANTS[26]}"
    )


def reference_sample() -> EventTable:
    """The raw reference sample the constants are fitted on (fixed seed)."""
    n_signal = REFERENCE_SIGNAL_PER_MASS
    return generate_raw(
        masses=HEPMASS_MASSES,
        n_signal_per_mass=n_signal,
        n_background=n_signal * len(HEPMASS_MASSES),
        seed=REFERENCE_SEED,
    )


def log_mwwbb(table: EventTable) -> dict[float, np.ndarray]:
    """ln m_WWbb (GeV) of a raw table's signal at each mass of ``HEPMASS_F26_PEAKS``."""
    signal = table.label == 1
    return {
        m: np.log(table.features[signal & (table.mass == m), 26].astype(np.float64))
        for m in HEPMASS_F26_PEAKS
    }


if __name__ == "__main__":
    main()
