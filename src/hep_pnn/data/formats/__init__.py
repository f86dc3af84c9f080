r"""File formats: one class per format, collected in a registry looked up by name or suffix.

A format knows its suffixes and how to list the columns of a file, stream them in
bounded chunks, count rows cheaply, recognise the tables hep-pnn writes, write an event
table and append score columns (``pnn apply``). Every reader and writer of the package
goes through :data:`FORMATS` (uproot's habit of one class per interpretation), so a new
format (HDF5, say) is one subclass of :class:`FileFormat` and one :func:`register_format`
line:

.. code-block:: python

    @register_format
    class Feather(FileFormat):
        name = "feather"
        suffixes = (".feather",)
        table_suffixes = (".feather",)

        def columns(self, path, *, tree=None): ...
        def chunks(self, path, columns, *, tree=None, chunk_size=100_000): ...

Example:
    >>> detect_format("all_train.csv.gz"), detect_format("x.root")
    ('csv', 'root')
    >>> format_for_writing("events.pq").name
    'parquet'
"""

from __future__ import annotations

from hep_pnn.data.formats.registry import (
    FORMATS,
    ColumnWriter,
    FileFormat,
    detect_format,
    format_for_writing,
    format_named,
    format_of,
    iter_columns,
    list_columns,
    matching_suffix,
    register_format,
    score_format,
    write_events,
)

# The built-in formats register themselves on import, in the order messages list them.
# isort: off
from hep_pnn.data.formats.parquet import ParquetFormat
from hep_pnn.data.formats.csv_text import CsvFormat
from hep_pnn.data.formats.root import RootFormat

# isort: on

__all__ = [
    "FORMATS",
    "ColumnWriter",
    "CsvFormat",
    "FileFormat",
    "ParquetFormat",
    "RootFormat",
    "detect_format",
    "format_for_writing",
    "format_named",
    "format_of",
    "iter_columns",
    "list_columns",
    "matching_suffix",
    "register_format",
    "score_format",
    "write_events",
]
