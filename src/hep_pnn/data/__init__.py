"""Event tables, readers, writers and the built-in generator."""

from hep_pnn.data.features import FEATURE_DESCRIPTIONS, FEATURE_NAMES, HEPMASS_MASSES, MWWBB_FEATURE
from hep_pnn.data.table import EventTable

__all__ = [
    "FEATURE_DESCRIPTIONS",
    "FEATURE_NAMES",
    "HEPMASS_MASSES",
    "MWWBB_FEATURE",
    "EventTable",
]
