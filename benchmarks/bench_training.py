"""Training-engine throughput, data-pipeline share and peak memory.

Figures (docs/benchmarks.md, section "Training engine"):

* events/s of the AffinePNN trained by :class:`hep_pnn.training.Trainer` at batch 1024 on
  2 threads, and the share of the epoch time spent outside forward/backward/optimizer
  (sampling, gathering batches, loss bookkeeping), measured against the same steps on one
  pre-gathered batch;
* the trainer's step without autograd (``DirectStep``) against its autograd path on the
  same batch, in the same run;
* the same figure for a straightforward PyTorch loop (``nn.Linear``/``nn.Dropout`` AffinePNN,
  ``DataLoader`` with ``shuffle=True``, default Adam), timed in the same run: report the ratio;
* the extrapolated time of one 7M-event epoch (HEPMASS training size);
* peak memory while training on 10.5M events (a fresh subprocess), against the bytes of the
  float32 event table.

Run: ``.venv/bin/python benchmarks/bench_training.py`` (a few minutes; ``--skip-memory`` for
the throughput part only).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
import psutil
import torch
from torch import nn

from hep_pnn.data import EventTable
from hep_pnn.models import build_model, preset
from hep_pnn.training import Trainer, TrainingConfig

MASSES = (500.0, 750.0, 1000.0, 1250.0, 1500.0)
HEPMASS_TRAINING_EVENTS = 7_000_000


def synthetic_table(n: int, *, seed: int = 0) -> EventTable:
    """HEPMASS-shaped events (27 float32 features, 5 masses, 2 backgrounds), built in place."""
    rng = np.random.default_rng(seed)
    features = np.empty((n, 27), np.float32)
    for start in range(0, n, 1_000_000):
        rng.standard_normal(dtype=np.float32, out=features[start : start + 1_000_000])
    label = (rng.random(n) < 0.5).astype(np.int8)
    mass = rng.choice(np.asarray(MASSES, np.float32), n)
    features[:, 26] += label * (mass / 1000 - 1)
    process = np.where(label == 1, 0, 1 + (rng.random(n) < 0.1)).astype(np.int16)
    return EventTable(
        features=features,
        feature_names=tuple(f"f{i}" for i in range(27)),
        label=label,
        mass=mass,
        weight=np.ones(n, np.float32),
        process=process,
        process_names=("signal", "ttbar", "wjets"),
    )


def make_trainer(table: EventTable, *, epoch_length: int | None) -> Trainer:
    net = build_model(preset("affine"), feature_names=table.feature_names, seed=0)
    config = TrainingConfig(epoch_length=epoch_length, threads=2)
    return Trainer(net, table, config, generators={"dropout": net.generator}, log=str)


def compute_only_seconds(trainer: Trainer, n_batches: int, *, direct: bool = True) -> float:
    """The trainer's step (loss, gradients, Adam) on one pre-gathered batch, ``n_batches``
    times; ``direct=False`` takes the autograd path even where the direct step applies."""
    index = torch.from_numpy(trainer.train_index[:1024].copy())
    x = trainer.features.index_select(0, index)
    m = torch.full((1024,), 1000.0)
    y, w = trainer.label.index_select(0, index), torch.ones(1024)
    saved = trainer.direct
    trainer.direct = saved if direct else None
    try:
        start = time.perf_counter()
        for _ in range(n_batches):
            trainer.train_step(x, m, y, w)
        return time.perf_counter() - start
    finally:
        trainer.direct = saved


class StraightforwardAffinePNN(nn.Module):
    """The AffinePNN written the obvious way: nn.Linear, ReLU, affine mass layers, nn.Dropout."""

    def __init__(self, n_features: int = 27, hidden: tuple[int, ...] = (300, 150, 100, 50)):
        super().__init__()
        widths = (n_features, *hidden)
        self.dense = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, hidden, strict=False))
        self.scale = nn.ModuleList(nn.Linear(1, u) for u in hidden)
        self.shift = nn.ModuleList(nn.Linear(1, u) for u in hidden)
        self.dropout = nn.Dropout(0.25)
        self.output = nn.Linear(hidden[-1], 1)

    def forward(self, x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        m = (m / 1000).unsqueeze(1)
        for dense, scale, shift in zip(self.dense, self.scale, self.shift, strict=True):
            x = self.dropout(torch.relu(dense(x)) * scale(m) + shift(m))
        return self.output(x).squeeze(1)


def straightforward_loop(table: EventTable) -> Callable[[int], float]:
    """A typical hand-written loop: DataLoader(shuffle=True), BCEWithLogits, default Adam.

    Returns a function that trains ``n`` batches and returns the seconds taken.
    """
    dataset = torch.utils.data.TensorDataset(
        torch.from_numpy(table.features),
        torch.from_numpy(table.mass),
        torch.from_numpy(table.label.astype(np.float32)),
    )
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=1024, shuffle=True, generator=torch.Generator().manual_seed(0)
    )
    model = StraightforwardAffinePNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    batches = iter(loader)

    def run(n: int) -> float:
        nonlocal batches
        start = time.perf_counter()
        for _ in range(n):
            try:
                x, m, y = next(batches)
            except StopIteration:
                batches = iter(loader)
                x, m, y = next(batches)
            loss = loss_fn(model(x, m), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return time.perf_counter() - start

    return run


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def throughput(n_events: int, n_batches: int, rounds: int) -> dict[str, float]:
    """Medians over ``rounds`` rounds that alternate the three loops (load changes cancel)."""
    table = synthetic_table(n_events)
    trainer = make_trainer(table, epoch_length=n_batches * 1024)
    plain = straightforward_loop(table)
    trainer.train_epoch()  # warm-up (first-call costs)
    plain(5)
    epoch, compute, autograd, straightforward = [], [], [], []
    for _ in range(rounds):
        epoch.append(timed(trainer.train_epoch))
        compute.append(compute_only_seconds(trainer, n_batches))
        autograd.append(compute_only_seconds(trainer, n_batches, direct=False))
        straightforward.append(plain(n_batches))
    epoch_s, compute_s, autograd_s, plain_s = (
        statistics.median(t) for t in (epoch, compute, autograd, straightforward)
    )
    validation = timed(trainer.validate)
    n_val = len(trainer.val_index)
    n_val_background = int((table.label[trainer.val_index] == 0).sum())
    scored = n_val - n_val_background + n_val_background * len(MASSES)
    ours = n_batches * 1024 / epoch_s
    return {
        "events_per_s": ours,
        "pipeline_share": max(0.0, 1 - compute_s / epoch_s),
        "direct_step_speedup_vs_autograd_step": autograd_s / compute_s,
        "straightforward_events_per_s": n_batches * 1024 / plain_s,
        "speedup_vs_straightforward": plain_s / epoch_s,
        "epoch_7M_seconds": HEPMASS_TRAINING_EVENTS / ours,
        "validation_scored_per_s": scored / validation,
        # a 7M training table comes with 7M/3 validation events: signal once, bkg per mass
        "validation_7M_seconds": HEPMASS_TRAINING_EVENTS
        / 3
        * (0.5 + 0.5 * len(MASSES))
        / (scored / validation),
    }


def memory_child(n_events: int, n_batches: int) -> None:
    """Run in a fresh process: peak RSS of building the table, one short epoch, validation."""
    torch.set_num_threads(2)
    baseline = psutil.Process().memory_info().rss
    table = synthetic_table(n_events)
    table_bytes = sum(
        a.nbytes for a in (table.features, table.label, table.mass, table.weight, table.process)
    )
    trainer = make_trainer(table, epoch_length=n_batches * 1024)
    trainer.train_epoch()
    trainer.validate()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"table_bytes": table_bytes, "baseline_rss": baseline, "peak_rss": peak}))


def memory(n_events: int, n_batches: int) -> dict[str, float]:
    command = [
        sys.executable,
        __file__,
        "--memory-child",
        str(n_events),
        "--batches",
        str(n_batches),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    table = figures["table_bytes"]
    return {
        "events": n_events,
        "table_GB": table / 1e9,
        "peak_rss_GB": figures["peak_rss"] / 1e9,
        "peak_over_table": figures["peak_rss"] / table,
        "peak_above_start_over_table": (figures["peak_rss"] - figures["baseline_rss"]) / table,
    }


def full_epoch(n_training: int) -> dict[str, float]:
    """Time one real epoch over ``n_training`` training events (the table holds a third
    more for validation), straightforward loop timed on 30 batches in the same run."""
    table = synthetic_table(round(n_training / 0.75))
    trainer = make_trainer(table, epoch_length=None)  # every training event
    plain = straightforward_loop(table)
    compute_only_seconds(trainer, 3)  # warm-up (first-call costs)
    plain(5)
    straightforward_s = timed(lambda: plain(30))
    seconds = timed(trainer.train_epoch)
    return {
        "training_events": trainer.epoch_length,
        "epoch_seconds": seconds,
        "events_per_s": trainer.epoch_length / seconds,
        "straightforward_events_per_s": 30 * 1024 / straightforward_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batches", type=int, default=30, help="batches per timed round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--memory-events", type=int, default=10_500_000)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--full-epoch",
        type=int,
        default=0,
        help="instead: time one real epoch over this many training events (7000000: HEPMASS)",
    )
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.batches)
        return
    torch.set_num_threads(2)
    if args.full_epoch:
        for key, value in full_epoch(args.full_epoch).items():
            print(f"{key:32s} {value:12.3f}")
        return
    for key, value in throughput(args.events, args.batches, args.rounds).items():
        print(f"{key:32s} {value:12.3f}")
    if not args.skip_memory:
        for key, value in memory(args.memory_events, 20).items():
            print(f"memory {key:25s} {value:12.3f}")


if __name__ == "__main__":
    main()
