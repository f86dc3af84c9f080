"""The DisCo / adversary trade-off for a mass-blind classifier on HEPMASS-like events.

A mass-blind MLP (preset ``blind``: no mass input, signal of every mass against the
background — the bump-hunt use case) is trained with ``training.decorrelation`` at several
strengths λ, DisCo and the Gaussian-mixture adversary, on generated events. For each, on an
independent test sample: background rejection at 50 % signal efficiency and 1/JSD of the
background m_WWbb (``f26``) histogram before vs after that cut. Also the training time of
each run relative to the plain training measured in the same run (autograd and the default
fused path) — noisy on a shared machine, so also the time of one step per method, the
methods interleaved step by step — and a plain AffinePNN scored at its own hypothesis.

Writes ``decorrelation-tradeoff.png``, ``decorrelation-sculpting.png``,
``decorrelation-pnn.png`` and ``decorrelation.json`` into ``--output`` and prints a
Markdown table (docs/decorrelation.md).

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/bench_decorrelation.py --output docs/figures``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from hep_pnn._io import atomic_path
from hep_pnn.data import generate
from hep_pnn.data.table import EventTable
from hep_pnn.evaluation import plot_sculpting
from hep_pnn.evaluation.decorrelation import TradeoffPoint, plot_tradeoff, tradeoff_point
from hep_pnn.evaluation.plots import figure_png, plot_style
from hep_pnn.evaluation.scoring import score_table
from hep_pnn.evaluation.sculpting import sculpting
from hep_pnn.models import build_model, preset
from hep_pnn.training.config import TrainingConfig
from hep_pnn.training.loop import Trainer
from machine import cpu_model

DISCO_STRENGTHS = (0.3, 1.0, 3.0, 10.0, 30.0)
ADVERSARY_STRENGTHS = (0.3, 1.0, 3.0, 10.0)


def train(
    table: EventTable,
    *,
    preset_name: str,
    decorrelation: dict[str, Any] | None,
    epochs: int,
    force_autograd: bool = False,
) -> tuple[Any, tuple[float, float]]:
    """A trained network (best epoch) and its training time: (wall, CPU) seconds."""
    net = build_model(
        preset(preset_name, hidden=(64, 64)), feature_names=table.feature_names, seed=3
    )
    config = TrainingConfig.model_validate(
        {"epochs": epochs, "batch_size": 512, "seed": 4, "decorrelation": decorrelation}
    )
    trainer = Trainer(net, table, config, generators={"dropout": net.generator}, log=lambda _: None)
    if force_autograd:
        trainer.direct = None
    start, cpu_start = time.perf_counter(), time.process_time()
    trainer.fit()
    seconds = (time.perf_counter() - start, time.process_time() - cpu_start)
    net.load_state_dict(trainer.best_state)
    net.training_masses = trainer.training_masses
    return net, seconds


def point(net: Any, test: EventTable, strength: float) -> TradeoffPoint:
    return tradeoff_point(
        score_table(net, test), test.label, test.column("f26"), weight=None, strength=strength
    )


def save(ax: Any, path: Path) -> None:
    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_bytes(figure_png(ax, dpi=90))


def sculpting_figure(curves: dict[str, TradeoffPoint], path: Path) -> None:
    with plot_style():
        figure = Figure(figsize=(6.0 * len(curves), 5.0), layout="constrained")
        axes = figure.subplots(1, len(curves))
    for ax, (name, p) in zip(np.atleast_1d(axes), curves.items(), strict=True):
        plot_sculpting(p.sculpting, ax=ax)
        ax.set_title(
            f"{name}: rejection {p.rejection:.1f}, JSD {p.js_divergence:.3g} bits",
            fontsize="medium",
        )
    save(np.atleast_1d(axes)[0], path)


def pnn_figure(table: EventTable, test: EventTable, *, epochs: int, path: Path) -> dict:
    """A plain AffinePNN at its own hypothesis: the background it keeps peaks at m."""
    net, _ = train(table, preset_name="affine", decorrelation=None, epochs=epochs)
    masses = (750.0, 1250.0)
    with plot_style():
        figure = Figure(figsize=(12.0, 5.0), layout="constrained")
        axes = figure.subplots(1, len(masses))
    results = {}
    for ax, mass in zip(axes, masses, strict=True):
        result = sculpting(net, test, mass=mass)
        plot_sculpting(result, ax=ax)
        results[mass] = result.js_divergence
    save(axes[0], path)
    return results


def step_overhead(table: EventTable, *, rounds: int = 200, batch_size: int = 512) -> dict:
    """Median time of one training step per method, the methods interleaved step by step
    (so load from other processes hits all alike), relative to plain autograd."""
    trainers = {}
    for name, decorrelation in (
        ("plain (fused path)", None),
        ("plain (autograd)", None),
        ("DisCo", {"method": "disco", "strength": 1.0}),
        ("adversary (5 steps)", {"method": "adversary", "strength": 1.0}),
        ("adversary (1 step)", {"method": "adversary", "strength": 1.0, "adversary_steps": 1}),
    ):
        net = build_model(
            preset("blind", hidden=(64, 64)), feature_names=table.feature_names, seed=3
        )
        config = TrainingConfig.model_validate({"seed": 4, "decorrelation": decorrelation})
        trainer = Trainer(net, table, config, generators={"dropout": net.generator}, log=print)
        if name == "plain (autograd)":
            trainer.direct = None
        trainers[name] = trainer
    rows = np.random.default_rng(0).choice(len(table), batch_size, replace=False)
    batch = (
        torch.from_numpy(table.features[rows]),
        torch.from_numpy(table.mass[rows]),
        torch.from_numpy(table.label[rows].astype(np.float32)),
        torch.ones(batch_size),
    )
    protected = torch.from_numpy(table.column("f26")[rows])
    times: dict[str, list[float]] = {name: [] for name in trainers}
    for _ in range(rounds):
        for name, trainer in trainers.items():
            start = time.perf_counter()
            trainer.train_step(*batch, protected=protected)
            times[name].append(time.perf_counter() - start)
    median = {name: float(np.median(t[rounds // 10 :])) for name, t in times.items()}
    return {name: value / median["plain (autograd)"] for name, value in median.items()} | {
        "plain autograd step (ms)": 1e3 * median["plain (autograd)"]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signal-per-mass", type=int, default=3000)
    parser.add_argument("--background", type=int, default=30000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--output", type=Path, default=Path("docs/figures"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--overhead-only", action="store_true", help="Only the per-step time of each method."
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.output.mkdir(parents=True, exist_ok=True)
    sizes = {"n_signal_per_mass": args.signal_per_mass, "n_background": args.background}
    table = generate(**sizes, seed=1)
    overhead = step_overhead(table)
    print(
        f"{cpu_model() or '?'}; {args.threads} threads; one training step (batch 512), "
        "median of interleaved steps, relative to plain autograd:"
    )
    print("\n".join(f"  {name}: {value:.2f}" for name, value in overhead.items()))
    if args.overhead_only:
        return
    test = generate(**sizes, seed=2)
    print(
        f"{cpu_model() or '?'}; {len(table)} training / {len(test)} test events, "
        f"{args.epochs} epochs, MLP 64-64 without mass input"
    )

    train(table, preset_name="blind", decorrelation=None, epochs=1)  # compiles the kernels
    plain, plain_seconds = train(table, preset_name="blind", decorrelation=None, epochs=args.epochs)
    autograd, autograd_seconds = train(
        table, preset_name="blind", decorrelation=None, epochs=args.epochs, force_autograd=True
    )
    baseline = point(plain, test, 0.0)
    curves: dict[str, list[TradeoffPoint]] = {"DisCo": [baseline], "adversary": [baseline]}
    rows = [("plain (fused path)", 0.0, baseline, plain_seconds)]
    rows.append(("plain (autograd)", 0.0, point(autograd, test, 0.0), autograd_seconds))
    for method, name, strengths in (
        ("disco", "DisCo", DISCO_STRENGTHS),
        ("adversary", "adversary", ADVERSARY_STRENGTHS),
    ):
        for strength in strengths:
            net, seconds = train(
                table,
                preset_name="blind",
                decorrelation={"method": method, "strength": strength},
                epochs=args.epochs,
            )
            p = point(net, test, strength)
            curves[name].append(p)
            rows.append((name, strength, p, seconds))

    save(plot_tradeoff(curves), args.output / "decorrelation-tradeoff.png")
    disco_pick = next(p for p in curves["DisCo"] if p.strength == 10.0)
    adversary_pick = next(p for p in curves["adversary"] if p.strength == 3.0)
    sculpting_figure(
        {"plain": baseline, "DisCo λ=10": disco_pick, "adversary λ=3": adversary_pick},
        args.output / "decorrelation-sculpting.png",
    )
    pnn = pnn_figure(table, test, epochs=args.epochs, path=args.output / "decorrelation-pnn.png")

    print(
        "\n| method | λ | rejection at 50 % sig. eff. | JSD (bits) | 1/JSD | training time / "
        "plain autograd: wall | CPU |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, strength, p, (wall, cpu) in rows:
        print(
            f"| {name} | {strength:g} | {p.rejection:.1f} | {p.js_divergence:.4f} | "
            f"{p.inverse_jsd:.1f} | {wall / autograd_seconds[0]:.2f} | "
            f"{cpu / autograd_seconds[1]:.2f} |"
        )
    print(
        "\nAffinePNN at its own hypothesis, JSD of background f26 before/after the cut: "
        + ", ".join(f"m = {m:g}: {j:.3f}" for m, j in pnn.items())
    )
    record = {
        "cpu": cpu_model(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "rows": [
            {"method": n, **p.summary(), "seconds": s[0], "cpu_seconds": s[1]}
            for n, _, p, s in rows
        ],
        "pnn_jsd_at_own_mass": {str(m): j for m, j in pnn.items()},
        "step_time_over_plain_autograd": overhead,
    }
    with atomic_path(args.output / "decorrelation.json", overwrite=True) as tmp:
        tmp.write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
