"""Keep freed activation buffers in the process instead of handing them back to the OS.

A training step allocates and frees tens of MB of activations (a few MB each). With
glibc's default adaptive settings those buffers are ``mmap``-ed or trimmed off the heap
when freed, so every step takes fresh pages from the kernel and pays a page fault per
4 KB on first touch — measured here as ≈ 3/4 of the time of the fused kernels and ≈ 1/3
of a ``(1024 × 300)`` ``addmm`` (docs/benchmarks.md). :func:`keep_freed_memory` raises
the ``mmap`` threshold to its maximum (32 MiB: bigger arrays, such as event tables, are
still mapped and returned when freed) and the heap trim threshold, so buffers are reused.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 512 * 2**20


@functools.cache
def keep_freed_memory() -> bool:
    """Set glibc's ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` once per process.

    Returns whether it could (``False`` off Linux/glibc, where nothing is changed).

    Example:
        >>> keep_freed_memory() in (True, False)
        True
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
