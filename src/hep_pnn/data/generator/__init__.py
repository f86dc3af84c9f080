"""The built-in HEPMASS-like event generator (docs/generator.md)."""

from hep_pnn.data.generator.api import BLOCK_SIZE, generate, generate_raw, iter_generate
from hep_pnn.data.generator.processes import BACKGROUNDS, PROCESSES, TTBAR_THRESHOLD
from hep_pnn.data.generator.standardise import destandardise, standardise
from hep_pnn.data.generator.validation import PRESETS, preset_sizes, training_sizes
from hep_pnn.data.generator.version import GENERATOR_VERSION

__all__ = [
    "BACKGROUNDS",
    "BLOCK_SIZE",
    "GENERATOR_VERSION",
    "PRESETS",
    "PROCESSES",
    "TTBAR_THRESHOLD",
    "destandardise",
    "generate",
    "generate_raw",
    "iter_generate",
    "preset_sizes",
    "standardise",
    "training_sizes",
]
