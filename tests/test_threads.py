"""Threads that train or score: denormals flushed everywhere, OpenMP wait policy."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

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


ONE_THREAD = """
import torch
from hep_pnn.models import build_model, preset
from hep_pnn.models._inference import torch_threads
net = build_model(preset("affine", hidden=(8,)), feature_names=["a", "b"], seed=0).train()
with torch_threads(1):
    # the first step runs numba's kernels, whose pool starts here (a fresh process)
    net(torch.ones(64, 2), torch.full((64,), 750.0)).sum().backward()
    print(torch.get_num_threads())
"""


def test_a_one_thread_block_stays_at_one_thread_when_numba_starts_its_pool() -> None:
    # numba's omp layer sets the calling thread's OpenMP count to its pool size when the
    # pool starts: inside a 1-thread block, torch then ran every later loop on 2 threads
    assert run(ONE_THREAD) == ["1"]
    # the same when the count was set by the caller's own code (benchmarks, a user's script)
    own = ONE_THREAD.replace("with torch_threads(1):", "torch.set_num_threads(1)\nif True:")
    assert run(own) == ["1"]


WAIT_CHECK = """
import os, hep_pnn
from hep_pnn._threads import wait_policy
print(os.environ.get("OMP_WAIT_POLICY"), "|", wait_policy())
"""


def test_the_users_openmp_wait_setting_is_kept_and_reported() -> None:
    env = {**os.environ, "OMP_WAIT_POLICY": "active"}
    env.pop("HEP_PNN_BUSY_CORES", None)
    result = subprocess.run(
        [sys.executable, "-c", WAIT_CHECK], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.startswith("active | OpenMP threads wait as set by the user")
    names = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "HEP_PNN_BUSY_CORES")
    env = {k: v for k, v in os.environ.items() if k not in names}
    result = subprocess.run(
        [sys.executable, "-c", WAIT_CHECK], capture_output=True, text=True, env=env, check=True
    )
    chosen, line = result.stdout.split(" | ")
    # passive exactly when hep_pnn found the machine busy, and the log line says which
    assert (chosen == "passive") == ("sleep" in line) and ("busy core(s) at start" in line)
    # a child process of a hep-pnn process that chose passive keeps it, and says why
    env.update(OMP_WAIT_POLICY="passive", HEP_PNN_BUSY_CORES="1.50")
    result = subprocess.run(
        [sys.executable, "-c", WAIT_CHECK], capture_output=True, text=True, env=env, check=True
    )
    assert "sleep while waiting (shared machine: 1.5 other busy core(s) at start)" in result.stdout


BUSY = "import time\nend = time.time() + 30\nwhile time.time() < end: pass\n"


def test_a_busy_neighbour_is_seen_at_once_and_a_finished_one_is_not() -> None:
    from hep_pnn._threads import other_busy_cores

    # other tasks on a shared machine come and go: each claim may take a few readings, but
    # a function with memory (the load average) or blind to the neighbour fails all of them
    def seen(claim: Callable[[float], bool]) -> bool:
        return any(claim(other_busy_cores()) for _ in range(20))

    idle = min(other_busy_cores() for _ in range(5))
    neighbour = subprocess.Popen([sys.executable, "-c", BUSY])
    try:
        time.sleep(0.5)
        assert seen(lambda busy: busy >= idle + 1)
    finally:
        neighbour.kill()
        neighbour.wait()
    assert seen(lambda busy: busy <= idle)  # no memory of it, unlike the load average


WORKER_FIRST = """
import threading, torch
torch.set_num_threads(2)
from hep_pnn._denormals import denormals_flushed, flush_denormals
denormals_flushed()  # the main thread's pool exists
worker = threading.Thread(target=flush_denormals)  # a worker thread flushes first
worker.start(); worker.join()
flush_denormals()
print(denormals_flushed())
"""


def test_each_thread_that_starts_parallel_loops_gets_its_pool_flushed() -> None:
    # libgomp keeps one pool per thread that starts parallel loops: a flush made first in
    # another thread must not stop the main thread's pool from being set
    assert run(WORKER_FIRST) == ["True"]


RESTORE = """
import numpy as np, torch
from hep_pnn._denormals import calling_thread_flushes
from hep_pnn.models._inference import torch_threads
before = calling_thread_flushes()
with torch_threads(2):
    inside = calling_thread_flushes()
tiny = np.frombuffer(np.uint32(1 << 16).tobytes(), dtype=np.float32)[0]
print(before, inside, calling_thread_flushes(), bool(tiny / tiny == 1))
"""


def test_scoring_leaves_the_callers_own_arithmetic_as_it_was() -> None:
    # flushed inside the block every training and scoring path runs in, restored after:
    # a denormal divided by itself is 1 again in the user's code
    assert run(RESTORE) == ["False", "True", "False", "True"]
