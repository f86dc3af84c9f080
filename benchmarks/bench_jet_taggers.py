"""Train the jet taggers on the same jets and print the table of docs/taggers.md.

    python benchmarks/bench_jet_taggers.py                      # toy jets (seconds per epoch)
    python benchmarks/bench_jet_taggers.py --file jets.parquet  # pnn generate --process top-tagging

Every tagger is trained with ``pnn train``'s machinery (one run folder each under
``--runs``) and scored on the same held-out jets; the jet-level baselines ``jet_bdt`` (a BDT
on m, τ32, τ21) and ``jet_mlp`` (an MLP on the six jet-level features) are the reference.
Writes the rejection overlay and the mean jet images to ``--figures``.
"""

from __future__ import annotations

import argparse
import datetime
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

from hep_pnn._tables import markdown_table
from hep_pnn.data.jets.layout import write_jets_parquet
from hep_pnn.data.jets.toy import toy_jets
from hep_pnn.evaluation.jet_plots import plot_rejection
from hep_pnn.evaluation.jet_runs import jet_figures, score_jets
from hep_pnn.evaluation.plots import figure_png
from hep_pnn.run_files import CHECKPOINT_DIR, CHECKPOINT_FILE
from hep_pnn.training import load_experiment, train_experiment
from hep_pnn.training.jet_data import load_labelled_jets
from machine import cpu_model

#: label → (run folder, model preset, model options)
TAGGERS = {
    "CNN (DeepTop-style)": ("jet_cnn", "jet_cnn", {}),
    "ParticleNet-Lite": ("particlenet_lite", "particlenet_lite", {}),
    "BDT (m, τ32, τ21)": ("jet_bdt", "jet_bdt", {}),
    "BDT (m, τ32)": ("jet_bdt_m_tau32", "jet_bdt", {"features": ["jet_mass", "tau32"]}),
    "MLP (jet features)": ("jet_mlp", "jet_mlp", {}),
}


def auc_error(auc: float, n_signal: float, n_background: float) -> float:
    """Standard error of a ROC AUC from the test sizes (Hanley & McNeil, Radiology 1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (
        auc * (1 - auc) + (n_signal - 1) * (q1 - auc**2) + (n_background - 1) * (q2 - auc**2)
    ) / (n_signal * n_background)
    return float(np.sqrt(variance))


def _parameters(model: object) -> float:
    """Trainable parameters of a torch tagger (NaN for the BDT, which has none)."""
    if isinstance(model, torch.nn.Module):
        return float(sum(p.numel() for p in model.parameters()))
    inner = getattr(model, "model", None)  # the jet-level baselines wrap an event model
    return _parameters(inner) if inner is not None else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="jet file (default: toy jets)")
    parser.add_argument("--jets", type=int, default=2000, help="toy jets per class")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="run folders to train (default: all)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--particles", type=int, default=100, help="ParticleNet constituents")
    parser.add_argument("--runs", type=Path, default=Path(tempfile.mkdtemp()) / "runs")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue (or keep) the runs already in --runs instead of training them again",
    )
    parser.add_argument("--figures", type=Path, default=Path("docs/figures"))
    args = parser.parse_args()
    folder = args.runs
    folder.mkdir(parents=True, exist_ok=True)
    path = args.file
    if path is None:
        path = folder / "toy_jets.parquet"
        write_jets_parquet(toy_jets(args.jets, args.jets, seed=1), path, overwrite=True)
    config = {
        "data": {"source": "jets", "paths": [str(path.resolve())], "test_fraction": 0.25},
        "training": {"epochs": args.epochs, "batch_size": args.batch_size, "threads": 2},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    rows, curves, test, models = {}, {}, None, {}
    for label, (name, preset, options) in TAGGERS.items():
        if args.only and name not in args.only:
            continue
        if preset == "particlenet_lite":
            options = {**options, "n_particles": args.particles}
        experiment = load_experiment(
            folder / "config.yaml",
            [
                f"model.preset={preset}",
                f"model.options={yaml.safe_dump(options, default_flow_style=True).strip()}",
            ],
        )
        started = time.perf_counter()
        resume = args.resume and (folder / name / CHECKPOINT_DIR / CHECKPOINT_FILE).is_file()
        run = train_experiment(
            experiment, folder / name, overwrite=not resume, resume=resume, progress=False
        )
        seconds = time.perf_counter() - started
        test = test or load_labelled_jets(experiment.data, test=True)
        table, scored = score_jets(run.model, test)
        curves[label] = next(iter(scored.values()))
        metrics = table.iloc[0].to_dict()
        rows[label] = {
            **metrics,
            "auc_error": auc_error(metrics["auc"], metrics["n_signal"], metrics["n_background"]),
            "parameters": _parameters(run.model),
            "train_s": float(run.history["seconds"].sum()),  # the epochs' optimizer steps
            "run_s": seconds,  # the whole run: inputs, validation, checkpoints
            "jets_per_s": float(run.history["events_per_s"].median()),
        }
        models[label] = run.model
    assert test is not None
    train = load_labelled_jets(experiment.data, test=False).jets
    frame = pd.DataFrame(rows).T[
        [
            "auc",
            "auc_error",
            "accuracy",
            "rejection_30",
            "rejection_50",
            "parameters",
            "train_s",
            "run_s",
            "jets_per_s",
        ]
    ]
    print(markdown_table(frame, digits=3, index_name="tagger"))
    print(
        f"\n{len(train)} training jets (25 % of them for validation), {len(test)} test jets, "
        f"{args.epochs} epochs, batch {args.batch_size}; {cpu_model()}, "
        f"{datetime.date.today().isoformat()}; source: {args.file or 'toy jets'}"
    )
    args.figures.mkdir(parents=True, exist_ok=True)
    (args.figures / "taggers_rejection.png").write_bytes(figure_png(plot_rejection(curves)))
    if "CNN (DeepTop-style)" not in models:
        return
    images = jet_figures(models["CNN (DeepTop-style)"], test, {"": curves["CNN (DeepTop-style)"]})
    (args.figures / "taggers_mean_images.png").write_bytes(images["jet_images.png"])
    (args.figures / "taggers_pixel_correlation.png").write_bytes(images["pixel_correlation.png"])
    print(f"figures in {args.figures}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
