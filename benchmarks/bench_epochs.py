"""Training speed epoch by epoch: no epoch may fall below 0.8× the second.

Subnormal floats accumulate in weights, gradients and Adam's moments after a few epochs and
slow every multiply that touches them on x86 CPUs; the trainer flushes them to zero in every
thread (``hep_pnn._denormals``). This trains the AffinePNN for ``--epochs`` epochs on
generated events and prints each epoch's speed and its ratio to the second epoch; with
``--compare`` it first trains the same run with the flush disabled, as the baseline of the
same run on the same machine, each in a fresh process.

Run: ``.venv/bin/python benchmarks/bench_epochs.py --compare`` (docs/benchmarks.md,
"Speed epoch by epoch").
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import torch

from hep_pnn import _denormals
from hep_pnn.data import generate
from hep_pnn.models import build_model, preset
from hep_pnn.training import Trainer, TrainingConfig
from machine import cpu_model


def train(*, events: int, epochs: int, seed: int, flush: bool) -> list[float]:
    """Events/s of every epoch of an AffinePNN run (the published recipe, ``epochs``)."""
    if not flush:  # the baseline: what training did before denormals were flushed
        _denormals.flush_denormals = lambda: True  # type: ignore[assignment]
        import hep_pnn.training.loop as loop

        loop.flush_denormals = _denormals.flush_denormals
    torch.set_num_threads(2)
    table = generate(n_signal_per_mass=events // 10, n_background=events // 2, seed=seed)
    net = build_model(preset("affine"), feature_names=table.feature_names)
    config = TrainingConfig(epochs=epochs, seed=seed)
    trainer = Trainer(net, table, config, generators={"dropout": net.generator}, log=lambda _: None)
    progress = trainer.fit()
    return [row["events_per_s"] for row in progress.history]


def report(label: str, speeds: list[float]) -> float:
    second = speeds[1]
    print(f"{label}:")
    for epoch, speed in enumerate(speeds, start=1):
        print(f"  epoch {epoch:2d}  {speed / 1000:7.1f}k events/s  {speed / second:5.2f}× the 2nd")
    worst = min(speeds[2:]) / second
    print(f"  slowest epoch from the 3rd on: {worst:.2f}× the 2nd (goal ≥ 0.8)")
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="generated events")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--compare", action="store_true", help="also train without the flush")
    parser.add_argument("--child", choices=["flush", "no-flush"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.epochs < 3:
        parser.error("--epochs must be at least 3")
    if args.child:
        speeds = train(
            events=args.events, epochs=args.epochs, seed=args.seed, flush=args.child == "flush"
        )
        print(json.dumps(speeds))
        return
    print(f"{cpu_model() or '?'}; {args.events} events, {args.epochs} epochs")
    runs = (["no-flush"] if args.compare else []) + ["flush"]
    for run in runs:
        command = [sys.executable, __file__, "--child", run, "--events", str(args.events)]
        command += ["--epochs", str(args.epochs), "--seed", str(args.seed)]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        speeds = json.loads(result.stdout.strip().splitlines()[-1])
        label = "denormals flushed (default)" if run == "flush" else "denormals kept (baseline)"
        report(label, speeds)


if __name__ == "__main__":
    main()
