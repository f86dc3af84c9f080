"""Denormal floats are flushed to zero in every thread that trains or scores."""

from __future__ import annotations

import subprocess
import sys

POOL_CHECK = """
import torch
torch.set_num_threads(2)
from hep_pnn._denormals import denormals_flushed, flush_denormals
before = denormals_flushed()  # starts the 2-thread pool without the flag
flush_denormals()
print(before, denormals_flushed())
"""

MAIN_THREAD_ONLY = POOL_CHECK.replace("flush_denormals()", "torch.set_flush_denormal(True)")


def run(code: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_flush_reaches_the_threads_of_an_existing_pool() -> None:
    # torch.set_flush_denormal alone sets the calling thread only: half of a multiply split
    # over two threads keeps its denormals (which is why flush_denormals exists) ...
    assert run(MAIN_THREAD_ONLY) == ["False", "False"]
    # ... flush_denormals reaches the pool's other thread too
    assert run(POOL_CHECK) == ["False", "True"]
