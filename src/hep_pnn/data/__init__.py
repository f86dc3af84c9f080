"""Event tables, readers, writers and the built-in generator."""

from hep_pnn.data.description import DataDescription, load_description
from hep_pnn.data.features import FEATURE_DESCRIPTIONS, FEATURE_NAMES, HEPMASS_MASSES, MWWBB_FEATURE
from hep_pnn.data.formats import (
    FORMATS,
    FileFormat,
    iter_columns,
    list_columns,
    register_format,
    write_events,
)
from hep_pnn.data.generator import generate
from hep_pnn.data.hepmass import read_hepmass, read_hepmass_imb
from hep_pnn.data.readers import read_events
from hep_pnn.data.summary import summarize
from hep_pnn.data.table import EventTable
from hep_pnn.data.writers import (
    write_hepmass_csv,
    write_hepmass_imb,
    write_parquet,
    write_root,
)

__all__ = [
    "FEATURE_DESCRIPTIONS",
    "FEATURE_NAMES",
    "FORMATS",
    "HEPMASS_MASSES",
    "MWWBB_FEATURE",
    "DataDescription",
    "EventTable",
    "FileFormat",
    "generate",
    "iter_columns",
    "list_columns",
    "load_description",
    "read_events",
    "read_hepmass",
    "read_hepmass_imb",
    "register_format",
    "summarize",
    "write_events",
    "write_hepmass_csv",
    "write_hepmass_imb",
    "write_parquet",
    "write_root",
]
