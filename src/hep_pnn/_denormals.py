r"""Flush denormal floats to zero in every thread that trains or scores.

Subnormal floats (|x| < 1.2e-38 in float32) appear in weights, gradients and Adam's second
moments after a few epochs, and every multiply that touches one takes a slow microcode
path on x86 CPUs: training on an Intel AVX-512 machine fell from ≈ 360k to 40k events/s
from the third epoch on. Setting the FTZ (flush-to-zero) and DAZ (denormals-are-zero) bits
of the SSE control register makes them zeros instead: each operation on or producing a
denormal then gives 0 instead, a change below the smallest normal float in absolute
terms — far below float32 rounding of any weight or score that matters. (Relative to the
denormal itself it is total: ``x / x`` of a denormal is NaN, not 1. So
:func:`~hep_pnn.models._inference.torch_threads`, which every training and scoring path
runs in, restores the calling thread's mode on exit: a user's own arithmetic after
``predict`` is unchanged. The pool threads, which run only torch's and numba's loops, keep
it; a :class:`~hep_pnn.training.Trainer` made outside that block leaves it on in the
thread that made it.)

The control register (MXCSR) belongs to each thread. :func:`torch.set_flush_denormal`
sets it for the calling thread only, so the threads of the OpenMP pool that runs torch's
and numba's parallel loops (they share torch's ``libgomp``) would keep computing with
denormals. :func:`flush_denormals` therefore sets the bits in the calling thread *and*
in every thread of that pool (torch's own setter, called once by each thread of one OpenMP
parallel region of the pool's size) and, when numba already runs another threading layer,
in numba's pool (a ``prange`` over its threads). Each thread that starts parallel loops
has its own OpenMP pool, so this is done once per calling thread. Threads a pool adds later
inherit the setting from the thread that creates them (POSIX).

Example:
    >>> flush_denormals()
    True
    >>> denormals_flushed()
    True
"""

from __future__ import annotations

import _ctypes
import ctypes
import os
import platform
import threading
from functools import cache
from pathlib import Path

import numba
import numpy as np
import torch
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["calling_thread_flushes", "denormals_flushed", "flush_denormals"]

_FTZ_DAZ = 0x8040  # MXCSR bits 15 (flush to zero) and 6 (denormals are zero)
_X86 = platform.machine().lower() in {"x86_64", "amd64", "i386", "i686"}
#: (process, thread) pairs whose OpenMP pools are set; threads a pool adds later inherit it
_done_in: set[tuple[int, int]] = set()
_lock = threading.Lock()


@intrinsic
def _set_ftz_daz(typingctx):  # pragma: no cover - compiled by numba
    """Or the FTZ and DAZ bits into this thread's MXCSR (x86 only)."""

    def codegen(context, builder, signature, args):
        word = cgutils.alloca_once(builder, ir.IntType(32))
        pointer = builder.bitcast(word, ir.IntType(8).as_pointer())
        function = ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer()])
        store = cgutils.get_or_insert_function(builder.module, function, "llvm.x86.sse.stmxcsr")
        load = cgutils.get_or_insert_function(builder.module, function, "llvm.x86.sse.ldmxcsr")
        builder.call(store, [pointer])
        builder.store(builder.or_(builder.load(word), ir.Constant(ir.IntType(32), _FTZ_DAZ)), word)
        builder.call(load, [pointer])
        return context.get_dummy_value()

    return types.void(), codegen


@cache
def _thread_setter() -> _ctypes.CFuncPtr:  # typeshed has no ctypes._CFuncPtr
    """A C callback ``void f(void *)`` that sets FTZ/DAZ in the thread that calls it."""

    @ctypes.CFUNCTYPE(None, ctypes.c_void_p)
    def setter(_: int | None) -> None:
        torch.set_flush_denormal(True)

    return setter


@njit(parallel=True, cache=True)
def _numba_pool(n_threads):  # pragma: no cover - compiled by numba
    # one iteration per thread: numba's static schedule gives each thread one block
    done = np.zeros(n_threads, np.int64)
    for i in prange(n_threads):
        _set_ftz_daz()
        done[i] = 1
    return done.sum()


def _openmp_runtime() -> ctypes.CDLL | None:
    """The OpenMP runtime behind torch's (and MKL's, and numba's ``omp``) parallel loops:
    torch's bundled ``libgomp``, else whichever OpenMP library the process has loaded
    (conda builds, LLVM's ``libomp``, Intel's ``libiomp5`` export ``GOMP_parallel`` too)."""
    candidates = sorted((Path(torch.__file__).parent / "lib").glob("libgomp*.so*"))
    try:
        with open("/proc/self/maps") as maps:
            loaded = {line.split()[-1] for line in maps if "omp" in line.rsplit("/", 1)[-1]}
        candidates += sorted(Path(path) for path in loaded if path.startswith("/"))
    except OSError:
        pass
    for path in candidates:
        try:
            library = ctypes.CDLL(str(path))
        except OSError:
            continue
        if hasattr(library, "GOMP_parallel"):
            return library
    return None


def _numba_layer() -> str | None:
    """Numba's threading layer, or None while its pool does not exist yet (it will then
    inherit the setting from the thread that starts it)."""
    try:
        return str(numba.threading_layer())
    except ValueError:
        return None


def flush_denormals() -> bool:
    """Flush denormals to zero in this thread and in the thread pools it starts.

    Call it in every process that trains or scores. The pools are set once per calling
    thread (each thread that starts parallel loops has its own OpenMP pool); later calls
    only set the calling thread. Returns whether it took effect everywhere it checked
    (``False`` on a CPU without the modes, or when a pool thread kept its denormals).
    """
    if not torch.set_flush_denormal(True):
        return False
    caller = (os.getpid(), threading.get_native_id())
    with _lock:
        if caller in _done_in:
            return True
        openmp = _openmp_runtime()
        if openmp is not None:  # ctypes releases the GIL; each pool thread takes it to run setter
            openmp.GOMP_parallel.argtypes = [ctypes.c_void_p, ctypes.c_void_p] + [ctypes.c_uint] * 2
            openmp.GOMP_parallel(
                ctypes.cast(_thread_setter(), ctypes.c_void_p), None, torch.get_num_threads(), 0
            )
        if _X86 and _numba_layer() not in (None, "omp"):  # "omp": the pool set just above
            _numba_pool(numba.get_num_threads())
        _done_in.add(caller)
    return denormals_flushed()


def calling_thread_flushes() -> bool:
    """Whether denormals are flushed in the calling thread (numpy scalar arithmetic runs in
    it, so this reads the thread's own mode)."""
    tiny = np.frombuffer(np.uint32(1 << 16).tobytes(), dtype=np.float32)[0]
    return bool(tiny * np.float32(1.0) == 0)


def denormals_flushed() -> bool:
    """Whether a multi-threaded torch multiply turns denormal inputs into zeros everywhere.

    The tensor is large enough that torch splits the multiply across its thread pool, so
    this checks every pool thread, not only the calling one.
    """
    # the bit pattern 0x00010000 is a float32 denormal (≈ 9e-41), written as an integer so
    # that the flag of the calling thread cannot already zero it while filling
    tiny = torch.full((1 << 20,), 1 << 16, dtype=torch.int32).view(torch.float32)
    return bool((tiny * 1.0 == 0).all())
