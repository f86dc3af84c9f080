"""The DisCo / adversary trade-off for a top tagger: QCD rejection vs 1/JSD of the QCD jet mass.

A jet-image CNN (``model.preset: jet_cnn``, a small layout by default) is trained with
``training.decorrelation`` (the jet mass protected) at several strengths λ on the jets of
``--file`` (Parquet written by ``pnn generate --process top-tagging``); the jets are split
(seeded, per class) into training and test jets. For each λ, on the test jets: QCD
rejection at 50 % top efficiency and 1/JSD of the QCD jet-mass histogram before vs after
that cut (Kasieczka & Shih, arXiv:2001.05310, Fig. 3 style).

Writes ``decorrelation-jets-tradeoff.png``, ``decorrelation-jets-sculpting.png`` and
``decorrelation-jets.json`` into ``--output`` and prints a Markdown table.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/bench_decorrelation_jets.py
--file jets.parquet --output docs/figures``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from scipy.spatial.distance import jensenshannon

from hep_pnn._io import atomic_path
from hep_pnn.data.jets.reader import load_jets
from hep_pnn.evaluation import plot_sculpting
from hep_pnn.evaluation.decorrelation import TradeoffPoint, plot_tradeoff, tradeoff_point
from hep_pnn.evaluation.plots import figure_png, plot_style
from hep_pnn.evaluation.sculpting import _normalised_histogram
from hep_pnn.training.config import ExperimentConfig
from hep_pnn.training.jet_data import LabelledJets, split_jets
from hep_pnn.training.jet_loop import _logits, prepared_inputs, protected_jet_variable, train_tagger
from machine import cpu_model

#: A CNN small enough for a λ scan on two cores (the DeepTop layout is options={}).
SMALL_CNN: dict[str, Any] = {}  # the DeepTop layout: 40 × 40 images, 4 convolutions
DISCO_STRENGTHS = (0.1, 0.3, 1.0, 2.0, 3.0, 5.0, 10.0)
ADVERSARY_STRENGTHS = (1.0, 3.0, 10.0, 30.0)
BINS = 20


def run(
    train: LabelledJets,
    test: LabelledJets,
    *,
    decorrelation: dict[str, Any] | None,
    epochs: int,
    seed: int,
) -> tuple[TradeoffPoint, float]:
    """Train one tagger; its trade-off point on ``test`` and its training time (s)."""
    training: dict[str, Any] = {
        "epochs": epochs,
        "batch_size": 128,
        "learning_rate": 1e-3,
        "seed": seed,
        "validation_fraction": 0.2,
    }
    if decorrelation:
        training["decorrelation"] = {**decorrelation, "variable": "jet_mass"}
    config = ExperimentConfig.model_validate(
        {
            "data": {"source": "jets", "paths": ["unused.parquet"]},
            "model": {"preset": "jet_cnn", "options": SMALL_CNN},
            "training": training,
        }
    )
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        tagger = train_tagger(config, train, Path(folder), log=lambda _: None)
    seconds = time.perf_counter() - start
    score = _logits(tagger, prepared_inputs(tagger, test), batch_size=1024, device="cpu")
    strength = 0.0 if not decorrelation else float(decorrelation["strength"])
    point = tradeoff_point(
        score.numpy(),
        test.jets.labels,
        protected_jet_variable(test, "jet_mass"),
        strength=strength,
        feature="jet mass [GeV]",
        bins=BINS,
    )
    return point, seconds


def random_cut_jsd(mass: np.ndarray, kept: int, *, draws: int = 200, seed: int = 0) -> float:
    """Median JSD (bits, the bins of :func:`tradeoff_point`) between the QCD jet mass and a
    *random* subset of ``kept`` QCD jets: the floor finite statistics put under the JSD of a
    cut that keeps as many."""
    rng = np.random.default_rng(seed)
    low, high = np.quantile(mass, [0.005, 0.995])
    edges = np.linspace(low, high, BINS + 1)
    ones = np.ones(len(mass))
    before = _normalised_histogram(mass, ones, edges)
    values = []
    for _ in range(draws):
        subset = rng.choice(len(mass), size=max(kept, 1), replace=False)
        after = _normalised_histogram(mass[subset], ones[subset], edges)
        values.append(float(jensenshannon(before, after, base=2) ** 2))
    return float(np.median(values))


def save(ax: Any, path: Path) -> None:
    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_bytes(figure_png(ax, dpi=90))


def sculpting_figure(curves: dict[str, TradeoffPoint], path: Path) -> None:
    with plot_style():
        figure = Figure(figsize=(5.0 * len(curves), 4.5), layout="constrained")
        axes = np.atleast_1d(figure.subplots(1, len(curves)))
    for ax, (name, p) in zip(axes, curves.items(), strict=True):
        plot_sculpting(p.sculpting, ax=ax)
        ax.set_title(
            f"{name}: rejection {p.rejection:.1f}, JSD {p.js_divergence:.3g} bits",
            fontsize="medium",
        )
    save(axes[0], path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, required=True, help="Parquet jets (top tagging).")
    parser.add_argument("--test-fraction", type=float, default=0.4)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--disco", type=float, nargs="*", default=list(DISCO_STRENGTHS))
    parser.add_argument("--adversary", type=float, nargs="*", default=list(ADVERSARY_STRENGTHS))
    parser.add_argument("--output", type=Path, default=Path("docs/figures"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    jets = LabelledJets(load_jets(args.file))
    kept, held = split_jets(jets.jets.labels, fraction=args.test_fraction, seed=args.seed)
    train, test = jets.select(kept), jets.select(held)
    n_qcd = int((test.jets.labels == 0).sum())
    qcd_mass = protected_jet_variable(test, "jet_mass")[test.jets.labels == 0].astype(np.float64)
    print(
        f"{cpu_model() or '?'}; {args.threads} thread(s); {args.file.name}: {len(train)} "
        f"training jets (20 % of them for validation), {len(test)} test jets ({n_qcd} QCD); "
        f"jet_cnn {SMALL_CNN}; {args.epochs} epochs"
    )
    plan: list[tuple[str, dict[str, Any] | None]] = [("plain", None)]
    plan += [("DisCo", {"method": "disco", "strength": s}) for s in args.disco]
    plan += [("adversary", {"method": "adversary", "strength": s}) for s in args.adversary]
    print(
        "| method | λ | QCD rejection at 50 % top eff. | QCD jets kept | JSD (bits) | 1/JSD "
        "| JSD of a random cut keeping as many | training s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    rows, curves = [], {"DisCo": [], "adversary": []}  # type: ignore[var-annotated]
    points: dict[str, TradeoffPoint] = {}
    for name, decorrelation in plan:
        point, seconds = run(
            train, test, decorrelation=decorrelation, epochs=args.epochs, seed=args.seed
        )
        kept = round(n_qcd / point.rejection)
        floor = random_cut_jsd(qcd_mass, kept)
        print(
            f"| {name} | {point.strength:g} | {point.rejection:.1f} | "
            f"{n_qcd / point.rejection:.0f} | {point.js_divergence:.4f} | "
            f"{point.inverse_jsd:.1f} | {floor:.4f} | {seconds:.0f} |",
            flush=True,
        )
        rows.append(
            {"method": name, "seconds": seconds, "random_cut_jsd": floor, **point.summary()}
        )
        if name == "plain":
            for curve in curves.values():
                curve.append(point)
        elif decorrelation is not None:
            curves[name].append(point)
        points[f"{name} λ={point.strength:g}"] = point
    curves = {k: v for k, v in curves.items() if len(v) > 1}
    args.output.mkdir(parents=True, exist_ok=True)
    ax = plot_tradeoff(curves)
    ax.set(
        xlabel="1 / JSD of the QCD jet mass",
        ylabel="QCD rejection (50% top eff.)",
        yscale="log",
    )
    ax.set_title(f"jet CNN on {len(test)} test jets", fontsize="small")
    save(ax, args.output / "decorrelation-jets-tradeoff.png")
    shown = ["plain λ=0", *[k for k in points if k.startswith("DisCo")][-2:-1]]
    sculpting_figure(
        {k: points[k] for k in shown}, args.output / "decorrelation-jets-sculpting.png"
    )
    with atomic_path(args.output / "decorrelation-jets.json", overwrite=True) as tmp:
        tmp.write_text(json.dumps({"cpu": cpu_model(), "runs": rows}, indent=1))


if __name__ == "__main__":
    main()
