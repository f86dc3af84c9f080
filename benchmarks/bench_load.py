"""Training speed on a shared machine: thread settings with and without a busy neighbour.

Each setting trains the AffinePNN for ``--batches`` batches in a fresh process (thread
settings of the OpenMP runtime are read when torch is imported), once on an idle machine
and once next to ``--neighbours`` processes that each keep one core busy, and prints
events/s and the ratio loaded/idle (ideal with one busy neighbour on 2 cores: ≈ 0.5).

Settings: ``threads`` (torch and numba), ``OMP_WAIT_POLICY`` (``active`` spins at
barriers, ``passive`` sleeps) and ``GOMP_SPINCOUNT`` (how long a waiting thread spins
before sleeping; libgomp's default is 300,000). Every setting is given explicitly, so
hep-pnn's own choice from the load average (``hep_pnn._threads``) does not apply. Results:
docs/benchmarks.md, "Training on a shared machine".

Run: ``.venv/bin/python benchmarks/bench_load.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from machine import cpu_model

SETTINGS: dict[str, tuple[int, dict[str, str]]] = {
    # libgomp's default spin count, set explicitly: with neither variable set, hep-pnn picks
    # the policy itself from the load average (hep_pnn._threads)
    "2 threads, libgomp defaults": (2, {"GOMP_SPINCOUNT": "300000"}),
    "2 threads, GOMP_SPINCOUNT=10000": (2, {"GOMP_SPINCOUNT": "10000"}),
    "2 threads, OMP_WAIT_POLICY=passive": (2, {"OMP_WAIT_POLICY": "passive"}),
    "1 thread": (1, {}),
}

CHILD = """
import sys, time, json, torch
threads, batches = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
from hep_pnn.data import generate
from hep_pnn.models import build_model, preset
from hep_pnn.training import Trainer, TrainingConfig
table = generate(n_signal_per_mass=20000, n_background=100000, seed=3)
net = build_model(preset("affine"), feature_names=table.feature_names)
config = TrainingConfig(epochs=1, epoch_length=1024 * 20, threads=threads)
trainer = Trainer(net, table, config, generators={"dropout": net.generator}, log=lambda _: None)
trainer.train_epoch()  # warm up: numba kernels, allocator
trainer.epoch_length = 1024 * batches
start = time.perf_counter()
trainer.train_epoch()
print(json.dumps(1024 * batches / (time.perf_counter() - start)))
"""

BUSY = "import time\nend = time.time() + 600\nwhile time.time() < end: pass\n"


def child_speed(threads: int, env: dict[str, str], batches: int) -> float:
    environment = {**os.environ, **env}
    command = [sys.executable, "-c", CHILD, str(threads), str(batches)]
    result = subprocess.run(command, capture_output=True, text=True, env=environment, check=True)
    return float(json.loads(result.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=200, help="timed batches of 1024")
    parser.add_argument("--neighbours", type=int, default=1, help="busy processes beside")
    parser.add_argument("--repeats", type=int, default=2, help="runs per setting (median)")
    parser.add_argument("--only", nargs="*", help="settings whose label contains one of these")
    args = parser.parse_args()
    print(f"{cpu_model() or '?'}; {os.cpu_count()} cores; {args.batches} batches")
    print(f"| setting | idle (k events/s) | {args.neighbours} busy neighbour(s) | ratio |")
    print("|---|---|---|---|")
    for label, (threads, env) in SETTINGS.items():
        if args.only and not any(word in label for word in args.only):
            continue
        idle, loaded = [], []
        for _ in range(args.repeats):
            idle.append(child_speed(threads, env, args.batches))
            busy = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(args.neighbours)]
            try:
                time.sleep(0.5)
                loaded.append(child_speed(threads, env, args.batches))
            finally:
                for process in busy:
                    process.kill()
                    process.wait()
        i, b = sorted(idle)[len(idle) // 2], sorted(loaded)[len(loaded) // 2]
        print(f"| {label} | {i / 1000:.1f} | {b / 1000:.1f} | {b / i:.2f} |", flush=True)


if __name__ == "__main__":
    main()
