r"""Flush denormal floats to zero in every thread that trains or scores.

Subnormal floats (|x| < 1.2e-38 in float32) appear in weights, gradients and Adam's second
moments after a few epochs, and every multiply that touches one takes a slow microcode
path on x86 CPUs: training on an Intel AVX-512 machine fell from ≈ 360k to 40k events/s
from the third epoch on. Setting the FTZ (flush-to-zero) and DAZ (denormals-are-zero) bits
of the SSE control register makes them zeros instead. The results change by less than the
smallest normal float: an effect far below float32 rounding of any weight that matters.

The control register (MXCSR) belongs to each thread. :func:`torch.set_flush_denormal`
sets it for the calling thread only, so the threads of the OpenMP pool that runs torch's
and numba's parallel loops (they share torch's ``libgomp``) would keep computing with
denormals. :func:`flush_denormals` therefore sets the bits in the calling thread *and*
in every thread of that pool (torch's own setter, called once by each thread of one OpenMP
parallel region of the pool's size) and, when numba already runs another threading layer,
in numba's pool (a ``prange`` over its threads). Threads created later inherit the setting
from the thread that creates them (POSIX), so a pool started afterwards needs nothing.

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
from functools import cache
from pathlib import Path

import numba
import numpy as np
import torch
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["denormals_flushed", "flush_denormals"]

_FTZ_DAZ = 0x8040  # MXCSR bits 15 (flush to zero) and 6 (denormals are zero)
_X86 = platform.machine().lower() in {"x86_64", "amd64", "i386", "i686"}
_done_in: set[int] = set()  # process ids where the pools are set (threads made later inherit)


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


def _torch_openmp() -> ctypes.CDLL | None:
    """Torch's own OpenMP runtime (the pool behind its and MKL's parallel loops), if any."""
    folder = Path(torch.__file__).parent / "lib"
    for path in sorted(folder.glob("libgomp*.so*")):
        library = ctypes.CDLL(str(path))
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
    """Flush denormals to zero in this thread and in torch's and numba's thread pools.

    Call it in every process that trains or scores; after the first call in a process it
    only sets the calling thread. Returns whether the CPU supports it (``False``: nothing
    was changed).
    """
    if not torch.set_flush_denormal(True):
        return False
    if not _X86 or os.getpid() in _done_in:  # other CPUs: pools inherit the setting
        return True
    openmp = _torch_openmp()
    if openmp is not None:  # ctypes releases the GIL; each pool thread takes it to run setter
        openmp.GOMP_parallel.argtypes = [ctypes.c_void_p, ctypes.c_void_p] + [ctypes.c_uint] * 2
        openmp.GOMP_parallel(
            ctypes.cast(_thread_setter(), ctypes.c_void_p), None, torch.get_num_threads(), 0
        )
    if _numba_layer() not in (None, "omp"):  # "omp" is torch's libgomp pool, set above
        _numba_pool(numba.get_num_threads())
    _done_in.add(os.getpid())
    return True


def denormals_flushed() -> bool:
    """Whether a multi-threaded torch multiply turns denormal inputs into zeros everywhere.

    The tensor is large enough that torch splits the multiply across its thread pool, so
    this checks every pool thread, not only the calling one.
    """
    # the bit pattern 0x00010000 is a float32 denormal (≈ 9e-41), written as an integer so
    # that the flag of the calling thread cannot already zero it while filling
    tiny = torch.full((1 << 20,), 1 << 16, dtype=torch.int32).view(torch.float32)
    return bool((tiny * 1.0 == 0).all())
