"""Speed and memory of the built-in generator (figures in docs/benchmarks.md).

Measures selected events per second with 1 and 2 threads (the ratio is the thread
speed-up, measured in the same run because absolute times are noisy on shared machines),
then generates a HEPMASS-sized sample (``--fraction`` of the 10.5M events) and writes it
to Parquet in a fresh process, reporting its wall time and peak resident memory.

Usage: .venv/bin/python benchmarks/bench_generator.py [--events 200000] [--fraction 0.1]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hep_pnn.data.generator import generate

_WRITE_SCRIPT = """
import resource, sys, time
from hep_pnn.data.generator import preset_sizes
from hep_pnn.data.generator.output import generate_to_file
start = time.perf_counter()
table, _ = generate_to_file(sys.argv[1], **preset_sizes("hepmass", fraction=float(sys.argv[2])))
seconds = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(len(table), seconds, peak_mb)
"""


def _rate(n_events: int, threads: int) -> float:
    start = time.perf_counter()
    table = generate(
        n_signal_per_mass=n_events // 10, n_background=n_events // 2, seed=1, threads=threads
    )
    return len(table) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="events per speed run")
    parser.add_argument("--fraction", type=float, default=0.1, help="share of the 10.5M sample")
    args = parser.parse_args()
    # Load (or compile) the numba kernels first: numba's start-up is not generation speed.
    generate(masses=[1000.0], n_signal_per_mass=100, n_background=100, seed=0, threads=1)
    one = _rate(args.events, threads=1)
    two = _rate(args.events, threads=2)
    print(f"generate, 1 thread : {one:12,.0f} selected events/s")
    print(f"generate, 2 threads: {two:12,.0f} selected events/s  (x{two / one:.2f} vs 1 thread)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hepmass.parquet"
        result = subprocess.run(
            [sys.executable, "-c", _WRITE_SCRIPT, str(path), str(args.fraction)],
            capture_output=True,
            text=True,
            check=True,
        )
        n, seconds, peak_mb = result.stdout.split()
        size_mb = path.stat().st_size / 2**20
    print(
        f"preset hepmass x{args.fraction:g}: {int(n):,} events to Parquet ({size_mb:,.0f} MB) "
        f"in {float(seconds):.1f} s ({int(n) / float(seconds):,.0f} events/s), "
        f"peak memory {float(peak_mb):,.0f} MB"
    )


if __name__ == "__main__":
    main()
