r"""Recompute the shipped standardisation constants (run after changing the physics).

Usage: ``python -m hep_pnn.data.generator.fit_constants`` rewrites ``standardisation.json``
from a large HEPMASS-like mixed sample (signal at the five published masses plus the
default background mix, half and half), generated raw with a fixed seed; the features
whose HEPMASS constants are known keep those (``HEPMASS_CONSTANTS``).
"""

from __future__ import annotations

import json

from hep_pnn.data.features import HEPMASS_MASSES
from hep_pnn.data.generator.api import generate_raw
from hep_pnn.data.generator.standardise import (
    CONSTANTS_PATH,
    HEPMASS_CONSTANTS,
    fit_constants,
    with_hepmass_constants,
)

__all__ = ["main"]

REFERENCE_SEED = 20160123
REFERENCE_SIGNAL_PER_MASS = 100_000


def main() -> None:
    """Generate the reference sample and write the constants next to this module."""
    n_signal = REFERENCE_SIGNAL_PER_MASS
    table = generate_raw(
        masses=HEPMASS_MASSES,
        n_signal_per_mass=n_signal,
        n_background=n_signal * len(HEPMASS_MASSES),
        seed=REFERENCE_SEED,
    )
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


if __name__ == "__main__":
    main()
