"""Peak memory of the jet generator against the chunk size and the number of jets.

    python benchmarks/bench_jet_memory.py                  # MPI off, one worker (in process)
    python benchmarks/bench_jet_memory.py --mpi

Each row runs ``generate_top_tagging(n, n, workers=1, chunk_events=c)`` in a fresh Python
process (one worker generates in the calling process, so its peak resident size is the
generator's) and reads that process's peak resident set size (``ru_maxrss``). Memory should
follow the chunk size, not the number of jets; the jets themselves add 3.2 kB each
(200 × 4 float32) to the result.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys

from machine import cpu_model

_CHILD = """
import json, resource, sys, time
import hep_pnn.data.jets.generate as g
n, chunk, mpi = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
jets = g.generate_top_tagging(n, n, seed=5, mpi=mpi, workers=1, chunk_events=chunk)
print(json.dumps({"jets": len(jets), "seconds": time.perf_counter() - start,
                  "start_mb": before / 1024,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

#: (jets per class, events per chunk): two totals at one chunk size, two chunk sizes.
SETTINGS = ((100, 100), (400, 100), (400, 400))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mpi", action="store_true", help="multi-parton interactions on")
    args = parser.parse_args()
    print("| jets per class | events per chunk | jets | seconds | MB at start | peak MB |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for n, chunk in SETTINGS:
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, str(n), str(chunk), "1" if args.mpi else "0"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        row = json.loads(out.strip().splitlines()[-1])
        print(
            f"| {n} | {chunk} | {row['jets']} | {row['seconds']:.0f} | "
            f"{row['start_mb']:.0f} | {row['peak_mb']:.0f} |",
            flush=True,
        )
    print(
        f"\nMPI {'on' if args.mpi else 'off'}; {cpu_model()}, {datetime.date.today().isoformat()}"
    )


if __name__ == "__main__":
    main()
