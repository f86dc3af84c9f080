"""Parquet cache of parsed CSV files.

The first read of ``data.csv.gz`` writes ``data.csv.gz.pnn-cache.parquet`` next to
it (native layout). If that folder is not writable the cache goes to
``$HEP_PNN_CACHE_DIR`` (default ``~/.cache/hep-pnn``) under a name derived from the
source's absolute path. The cache records the source's size and modification time
(ns), the reader kind and :data:`READER_VERSION`; a cache that does not match, or
that cannot be read, is ignored and rewritten. The cache is written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from hep_pnn.data.native import read_parquet, write_parquet
from hep_pnn.data.table import EventTable
from hep_pnn.errors import PNNError

__all__ = ["READER_VERSION", "cache_path", "cached_read"]

#: Bumped whenever the readers change what they produce, to invalidate old caches.
READER_VERSION = 1
CACHE_SUFFIX = ".pnn-cache.parquet"
_KEY = "hep_pnn_cache"


def cache_path(source: str | os.PathLike[str]) -> Path:
    """Where the cache of ``source`` lives: next to it, or in the user cache folder.

    Example:
        >>> import pathlib, tempfile
        >>> cache_path(pathlib.Path(tempfile.mkdtemp()) / "train.csv.gz").name
        'train.csv.gz.pnn-cache.parquet'
    """
    source = Path(source).resolve()
    if os.access(source.parent, os.W_OK):
        return source.with_name(source.name + CACHE_SUFFIX)
    folder = Path(os.environ.get("HEP_PNN_CACHE_DIR", Path.home() / ".cache" / "hep-pnn"))
    digest = hashlib.sha256(str(source).encode()).hexdigest()[:16]
    return folder / f"{digest}-{source.name}{CACHE_SUFFIX}"


def _key(source: Path, kind: str) -> str:
    stat = source.stat()
    fields = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "kind": kind}
    return json.dumps({**fields, "version": READER_VERSION})


def _load(path: Path, key: str) -> EventTable | None:
    import pyarrow.parquet as pq

    try:
        stored = (pq.read_schema(path).metadata or {}).get(_KEY.encode())
        if stored is None or stored.decode() != key:
            return None
        return read_parquet(path)
    except Exception:
        # Any unreadable cache (truncated, corrupt, foreign) is simply rebuilt.
        return None


def cached_read(
    source: str | os.PathLike[str],
    build: Callable[[], EventTable],
    *,
    kind: str,
    enabled: bool = True,
) -> EventTable:
    """Return the cached table of ``source`` if it is fresh, else ``build()`` it and cache it.

    Args:
        source: the file being read.
        build: parses ``source`` into a table (called on a cache miss).
        kind: identifies the reader and its options; part of the cache key.
        enabled: ``False`` skips the cache entirely.
    """
    if not enabled:
        return build()
    source = Path(source)
    key = _key(source, kind)
    path = cache_path(source)
    if path.is_file():
        table = _load(path, key)
        if table is not None:
            return table
    table = build()
    try:
        # Uncompressed: standardised floats barely compress, and decoding is then a copy.
        write_parquet(table, path, overwrite=True, metadata={_KEY: key}, compression="none")
    except (OSError, PNNError):
        pass  # a cache that cannot be written only costs time on the next read
    return table
