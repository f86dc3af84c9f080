"""Data-parallel scaling of pNN training on CPU: 1 → 2 processes with torchrun (gloo).

Prints a Markdown report (figures go into docs/scaling.md): for the AffinePNN (76,151
parameters) with global batch 1024, one thread per process,

1. seconds per epoch of ``--batches`` global batches with 1 process and with 2 processes,
   best of ``--repeats`` alternating runs; speed-up and scaling efficiency (speed-up / 2);
2. the communication share of a 2-process step: time inside the per-step all-reduce
   (gradient buffers + loss sums) over the step time, and apart from it the time one rank
   waits for the other (a barrier before each all-reduce, in this benchmark only);
3. the bare all-reduce of the 76,151-float buffer, in isolation.

Run: ``.venv/bin/python benchmarks/bench_scaling.py [--batches 200] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).parent))
from bench_training import synthetic_table
from hep_pnn.models import build_model, preset
from hep_pnn.training.config import TrainingConfig
from hep_pnn.training.distributed import DataParallel
from hep_pnn.training.loop import Trainer
from machine import cpu_model

BATCH = 1024


@dataclass(frozen=True)
class TimedParallel(DataParallel):
    """DataParallel that adds up the seconds spent waiting for the other rank (a barrier
    first, only in this benchmark) and in the all-reduce itself."""

    seconds: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)

    def all_reduce(self, grads, **sums):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        dist.barrier()
        self.waits.append(time.perf_counter() - start)
        start = time.perf_counter()
        result = super().all_reduce(grads, **sums)
        self.seconds.append(time.perf_counter() - start)
        return result


def worker(batches: int) -> None:
    """One rank (or the single process): time one epoch of ``batches`` global batches."""
    torch.set_num_threads(1)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        dist.init_process_group("gloo")
    table = synthetic_table(400_000)
    net = build_model(preset("affine"), feature_names=table.feature_names, seed=0)
    config = TrainingConfig(epoch_length=batches * BATCH, batch_size=BATCH, threads=1)
    trainer = Trainer(net, table, config, generators={"dropout": net.generator}, log=str)
    timed = None
    if world > 1:
        timed = TimedParallel(rank=dist.get_rank(), world=world)
        trainer.parallel = timed
    trainer.train_epoch()  # warm-up: kernels compiled, buffers allocated
    if timed is not None:
        timed.seconds.clear()
        timed.waits.clear()
        dist.barrier()
    start = time.perf_counter()
    trainer.train_epoch()
    seconds = time.perf_counter() - start
    result = {
        "world": world,
        "seconds": seconds,
        "comm": sum(timed.seconds) if timed else 0.0,
        "wait": sum(timed.waits) if timed else 0.0,
    }
    if world > 1:
        flat = torch.zeros(sum(p.numel() for p in net.parameters()))
        for _ in range(20):
            dist.all_reduce(flat)
        start = time.perf_counter()
        for _ in range(200):
            dist.all_reduce(flat)
        result["bare_ms"] = (time.perf_counter() - start) / 200 * 1000
        result["floats"] = flat.numel()
        dist.barrier()
        dist.destroy_process_group()
    if int(os.environ.get("RANK", "0")) == 0:
        print("RESULT " + json.dumps(result), flush=True)


def run(world: int, batches: int) -> dict:
    script = [str(Path(__file__).resolve()), "--worker", "--batches", str(batches)]
    if world == 1:
        command = [sys.executable, *script]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        command += [f"--nproc-per-node={world}", *script]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if "RESULT " not in done.stdout:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    out = done.stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.worker:
        worker(args.batches)
        return
    results: dict[int, list[dict]] = {1: [], 2: []}
    for _ in range(args.repeats):
        for world in (1, 2):
            results[world].append(run(world, args.batches))
    one = min(results[1], key=lambda r: r["seconds"])
    two = min(results[2], key=lambda r: r["seconds"])
    speedup = one["seconds"] / two["seconds"]
    step_ms = {w: r["seconds"] / args.batches * 1000 for w, r in ((1, one), (2, two))}
    comm_ms = two["comm"] / args.batches * 1000
    wait_ms = two["wait"] / args.batches * 1000
    print(f"CPU: {cpu_model()}; {time.strftime('%Y-%m-%d')}; global batch {BATCH}, ")
    print(f"{args.batches} batches per epoch, 1 thread per process, best of {args.repeats}\n")
    print("| processes | ms per global batch | events/s | speed-up | efficiency |")
    print("|---|---:|---:|---:|---:|")
    for world in (1, 2):
        rate = BATCH / step_ms[world] * 1000
        gain = step_ms[1] / step_ms[world]
        print(f"| {world} | {step_ms[world]:.2f} | {rate:,.0f} | {gain:.2f} | {gain / world:.0%} |")
    print(
        f"\nper step with 2 processes: all-reduce {comm_ms:.3f} ms = "
        f"{comm_ms / step_ms[2]:.0%} of the step, waiting for the slower rank {wait_ms:.3f} ms"
        f" = {wait_ms / step_ms[2]:.0%}; bare all-reduce of "
        f"{two['floats']:,} floats: {two['bare_ms']:.3f} ms"
    )
    print(f"speed-up 1 → 2 processes: {speedup:.2f}")
    print(
        "all runs (s per epoch):",
        {w: [round(r["seconds"], 3) for r in rs] for w, rs in results.items()},
    )


if __name__ == "__main__":
    main()
