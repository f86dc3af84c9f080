"""Speed and memory of the built-in generator (figures in docs/benchmarks.md).

Measures selected events per second with 2 and 1 threads (the ratio is the thread
speed-up, measured in the same run because absolute times are noisy on shared machines).
The first run in the process is reported apart ("cold"): it also pays for the first
touch of its output memory, which on this kind of virtual machine costs about 4 ms per
MB (0.45 s for a 1M-event table) against 0.2 ms per MB once the process has used the
memory before; the timed runs ("warm", median of ``--repeats``) measure the generator.
Then generates a HEPMASS-sized sample (``--fraction`` of the 10.5M events) in a fresh
process and writes it to Parquet, as ``pnn generate`` does, reporting the generation and
total wall times and the peak resident memory. Last,
writes ``--csv-rows`` generated events in the HEPMASS CSV layout (plain and gzip) with
``write_hepmass_csv`` and, in the same run, with ``np.savetxt`` as it used to.

Usage: .venv/bin/python benchmarks/bench_generator.py [--events 200000] [--fraction 0.1]
[--csv-rows 200000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from hep_pnn.data import write_hepmass_csv
from hep_pnn.data.generator import generate
from hep_pnn.data.hepmass import HEPMASS_COLUMNS

_WRITE_SCRIPT = """
import resource, sys, time
from hep_pnn.data import write_events
from hep_pnn.data.generator import generate, preset_sizes
start = time.perf_counter()
table = generate(**preset_sizes("hepmass", fraction=float(sys.argv[2])))
generated = time.perf_counter() - start
write_events(table, sys.argv[1])
seconds = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(len(table), generated, seconds, peak_mb)
"""


def _rate(n_events: int, threads: int) -> float:
    start = time.perf_counter()
    table = generate(
        n_signal_per_mass=n_events // 10, n_background=n_events // 2, seed=1, threads=threads
    )
    return len(table) / (time.perf_counter() - start)


def generation_speed(n_events: int, repeats: int) -> None:
    cold = _rate(n_events, threads=2)
    print(f"generate, 2 threads, first run (cold memory): {cold:12,.0f} selected events/s")
    medians = {}
    for threads in (2, 1):
        rates = [_rate(n_events, threads) for _ in range(repeats)]
        medians[threads] = float(np.median(rates))
        runs = ", ".join(f"{rate / 1000:,.0f}k" for rate in rates)
        print(
            f"generate, {threads} thread(s), warm: {medians[threads]:12,.0f} selected events/s "
            f"(median of {runs})"
        )
    print(f"thread speed-up: x{medians[2] / medians[1]:.2f}")


def _savetxt(table, path: Path) -> None:
    """The HEPMASS CSV writer as it was: ``np.savetxt`` with ``%.6f``, gzip level 6."""
    if path.suffix == ".gz":
        stream = gzip.open(path, "wt", compresslevel=6, encoding="utf-8", newline="\n")
    else:
        stream = open(path, "w", encoding="utf-8", newline="\n")
    with stream:
        stream.write(",".join(HEPMASS_COLUMNS) + "\n")
        block = np.column_stack([table.label, table.features, table.mass])
        np.savetxt(stream, block.astype(np.float64), fmt="%.6f", delimiter=",")


def csv_writing(n_rows: int) -> None:
    table = generate(n_signal_per_mass=n_rows // 10, n_background=n_rows // 2, seed=2)
    with tempfile.TemporaryDirectory() as folder:
        for name in ("events.csv", "events.csv.gz"):
            new, old = Path(folder) / f"new-{name}", Path(folder) / f"old-{name}"
            start = time.perf_counter()
            write_hepmass_csv(table, new)
            fast = time.perf_counter() - start
            start = time.perf_counter()
            _savetxt(table, old)
            slow = time.perf_counter() - start
            same = new.read_bytes() == old.read_bytes() if name.endswith(".csv") else "-"
            print(
                f"{name}: {len(table):,} rows in {fast:.2f} s ({len(table) / fast:,.0f} rows/s); "
                f"np.savetxt {slow:.2f} s -> x{slow / fast:.1f}; identical bytes: {same}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="events per speed run")
    parser.add_argument("--fraction", type=float, default=0.1, help="share of the 10.5M sample")
    parser.add_argument("--csv-rows", type=int, default=200_000, help="events written as CSV")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per thread count")
    args = parser.parse_args()
    # Load (or compile) the numba kernels first: numba's start-up is not generation speed.
    generate(masses=[1000.0], n_signal_per_mass=100, n_background=100, seed=0, threads=1)
    generation_speed(args.events, args.repeats)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hepmass.parquet"
        result = subprocess.run(
            [sys.executable, "-c", _WRITE_SCRIPT, str(path), str(args.fraction)],
            capture_output=True,
            text=True,
            check=True,
        )
        n, generated, seconds, peak_mb = (float(value) for value in result.stdout.split())
        size_mb = path.stat().st_size / 2**20
    print(
        f"preset hepmass x{args.fraction:g}, fresh process: {n:,.0f} events generated in "
        f"{generated:.1f} s ({n / generated:,.0f} events/s, cold memory), written to Parquet "
        f"({size_mb:,.0f} MB) by {seconds:.1f} s; peak memory {peak_mb:,.0f} MB"
    )
    csv_writing(args.csv_rows)


if __name__ == "__main__":
    main()
