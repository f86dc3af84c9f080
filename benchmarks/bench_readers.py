"""Speed and peak memory of the HEPMASS reader and its Parquet cache.

Writes a HEPMASS-layout ``.csv.gz`` of random events with our writer, then measures in
one run: (a) ``pyarrow.csv.read_csv`` vs ``read_hepmass`` (goal: ours >= 0.8x pyarrow's
speed), (b) reload from the Parquet cache vs the first CSV read (goal >= 10x faster),
(c) peak RSS increase while loading, in a fresh subprocess, vs the float32 table size
(goal <= 1.5x). Times are the best of ``--repeats`` runs.

Usage: .venv/bin/python benchmarks/bench_readers.py [--rows 1000000] [--repeats 3] [--file F]
(Linux only: peak memory comes from /proc/self/status.)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hep_pnn.data import FEATURE_NAMES, HEPMASS_MASSES, EventTable, write_hepmass_csv

_MEMORY_PROBE = """
import json, sys
from pathlib import Path
from hep_pnn.data import read_hepmass

def status(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

# ru_maxrss survives exec (it would report the parent's peak); VmHWM belongs to this
# process image, and writing 5 to clear_refs resets it to the current RSS.
Path("/proc/self/clear_refs").write_text("5")
before = status("VmRSS")
table = read_hepmass(sys.argv[1], cache=sys.argv[2] == "cache")
size = sum(a.nbytes for a in (table.features, table.label, table.mass, table.weight, table.process))
print(json.dumps({"increase": status("VmHWM") - before, "table": size}))
"""


def make_file(path: Path, rows: int, seed: int = 0) -> None:
    """A HEPMASS-layout file of random events, 500 GeV stored as 499.999969 like the original."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, rows)
    mass = rng.choice(np.array(HEPMASS_MASSES), rows)
    mass[mass == 500.0] = 499.999969
    table = EventTable.from_arrays(
        rng.normal(size=(rows, len(FEATURE_NAMES))).astype(np.float32),
        label=label,
        mass=mass,
        process=np.where(label == 1, "signal", "ttbar"),
    )
    write_hepmass_csv(table, path)


def best_times(functions: list[Callable[[], object]], repeats: int) -> list[float]:
    """Best time of each function; runs are interleaved so that load drifts hit all alike."""
    times: list[list[float]] = [[] for _ in functions]
    for _ in range(repeats):
        for function, record in zip(functions, times, strict=True):
            start = time.perf_counter()
            function()
            record.append(time.perf_counter() - start)
    return [min(record) for record in times]


def peak_memory(path: Path, mode: str) -> dict[str, int]:
    """Peak RSS increase while loading, measured in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(path), mode],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--file", type=Path, help="reuse (or create) the CSV here")
    args = parser.parse_args()

    import pyarrow.csv

    from hep_pnn.data import read_hepmass
    from hep_pnn.data.cache import cache_path

    with tempfile.TemporaryDirectory() as folder:
        path = args.file or Path(folder) / "hepmass.csv.gz"
        start = time.perf_counter()
        if path.exists():
            print(f"reusing {path} ({path.stat().st_size / 1e6:.0f} MB)")
        else:
            make_file(path, args.rows)
            print(
                f"wrote {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB gzip) "
                f"in {time.perf_counter() - start:.1f} s"
            )

        pyarrow_s, ours_s = best_times(
            [lambda: pyarrow.csv.read_csv(path), lambda: read_hepmass(path, cache=False)],
            args.repeats,
        )
        print(
            f"(a) pyarrow.csv.read_csv {pyarrow_s:.2f} s, read_hepmass {ours_s:.2f} s: "
            f"ours at {pyarrow_s / ours_s:.2f}x pyarrow's speed (goal >= 0.8)"
        )

        def first_read() -> None:
            cache_path(path).unlink(missing_ok=True)
            read_hepmass(path)

        first_s, reload_s = best_times([first_read, lambda: read_hepmass(path)], args.repeats)
        print(
            f"(b) first read with cache write {first_s:.2f} s, reload from cache "
            f"{reload_s:.3f} s: {first_s / reload_s:.1f}x faster (goal >= 10)"
        )

        for mode, label in (("nocache", "CSV, no cache"), ("cache", "Parquet cache reload")):
            memory = peak_memory(path, mode)
            ratio = memory["increase"] / memory["table"]
            print(
                f"(c) peak RSS increase, {label}: {memory['increase'] / 1e6:.0f} MB for a "
                f"{memory['table'] / 1e6:.0f} MB table = {ratio:.2f}x (goal <= 1.5)"
            )
        cache_path(path).unlink(missing_ok=True)
        memory = peak_memory(path, "cache")
        print(
            f"(c) peak RSS increase, first read writing the cache: "
            f"{memory['increase'] / 1e6:.0f} MB = {memory['increase'] / memory['table']:.2f}x"
        )
        cache_path(path).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
