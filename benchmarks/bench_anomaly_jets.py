"""Autoencoder anomaly detection on toy jets: QCD-trained flags tops, and the inverse.

Toy jets (:func:`hep_pnn.data.jets.toy.toy_jets`: one-prong QCD-like vs three-prong top-like
jets, pure numpy — no Pythia) as 40 × 40 images (:func:`hep_pnn.data.jets.images.jet_images`),
the convolutional autoencoder of :mod:`hep_pnn.models.autoencoder` trained on one class;
prints ROC-AUC, rejection at 50 % anomaly efficiency and dCorr²(log score, jet mass) on the
training class for both directions, and draws the score against the jet mass.

``--file jets.parquet``: the jets of a file (``pnn generate --process top-tagging``, Pythia)
instead, split per class (seeded) into training and ``--test-fraction`` test jets; figures
``anomaly-jets-file-{qcd,top}.png``.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/bench_anomaly_jets.py --output docs/figures``
or ``... --file jets.parquet --output docs/figures``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from hep_pnn._io import atomic_path
from hep_pnn.anomaly import train_and_score
from hep_pnn.data.jets.images import jet_images
from hep_pnn.data.jets.reader import load_jets
from hep_pnn.data.jets.sample import JetSample
from hep_pnn.data.jets.toy import toy_jets
from hep_pnn.evaluation.anomaly import plot_score_vs_mass
from hep_pnn.evaluation.metrics import binary_metrics
from hep_pnn.evaluation.plots import figure_png
from hep_pnn.training.autoencoder import AutoencoderTrainingConfig
from hep_pnn.training.decorrelation import distance_correlation
from hep_pnn.training.jet_data import LabelledJets, split_jets
from machine import cpu_model


def file_jets(path: Path, *, test_fraction: float, seed: int) -> tuple[JetSample, JetSample]:
    """Training and test jets of ``path``, split per class."""
    jets = LabelledJets(load_jets(path))
    kept, held = split_jets(jets.jets.labels, fraction=test_fraction, seed=seed)
    return jets.select(kept).jets, jets.select(held).jets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jets", type=int, default=6000, help="Per class, training.")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--file", type=Path, help="Parquet jets instead of toy jets.")
    parser.add_argument("--test-fraction", type=float, default=0.4)
    parser.add_argument("--output", type=Path, default=Path("docs/figures"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.file is None:
        train, test = toy_jets(args.jets, args.jets, seed=1), toy_jets(2000, 2000, seed=2)
        source, prefix = f"toy jets {2 * args.jets} training", "anomaly-jets"
    else:
        train, test = file_jets(args.file, test_fraction=args.test_fraction, seed=1)
        source, prefix = f"{args.file.name}: {len(train)} training", "anomaly-jets-file"
    train_images, test_images = jet_images(train.constituents), jet_images(test.constituents)
    test_mass = test.features["jet_mass"].to_numpy()
    print(
        f"{cpu_model() or '?'}; {args.threads} thread(s); {source}, {len(test)} test jets; "
        f"40x40 images; {args.epochs} epochs"
    )
    print("| trained on | anomaly | ROC-AUC | rejection at 50 % | dCorr²(log score, m_jet) | s |")
    print("|---|---|---|---|---|---|")
    for normal_label, name, other in ((0, "QCD", "top"), (1, "top", "QCD")):
        start = time.perf_counter()
        normal = train.labels == normal_label
        _, score, _ = train_and_score(
            "conv",
            train_images[normal],
            test_images,
            training=AutoencoderTrainingConfig(epochs=args.epochs, seed=3),
            log=lambda _: None,
        )
        anomaly = (test.labels != normal_label).astype(np.int8)
        metrics = binary_metrics(score, anomaly)
        keep = test.labels == normal_label
        dependence = float(
            distance_correlation(
                torch.from_numpy(np.log(score[keep][:2000] + 1e-12)).double(),
                torch.from_numpy(test_mass[keep][:2000]).double(),
            )
        )
        print(
            f"| {name} | {other} | {metrics['roc_auc']:.3f} | {metrics['rejection_50']:.2f} "
            f"| {dependence:.3f} | {time.perf_counter() - start:.0f} |"
        )
        ax = plot_score_vs_mass(
            score, test_mass, {name: keep, other: ~keep}, xlabel="jet mass [GeV]"
        )
        kind = "toy" if args.file is None else args.file.name
        ax.set_title(f"conv autoencoder trained on {name} jets ({kind})", fontsize="small")
        with atomic_path(args.output / f"{prefix}-{name.lower()}.png", overwrite=True) as tmp:
            tmp.write_bytes(figure_png(ax))


if __name__ == "__main__":
    main()
