"""Training throughput (jets/s) of the CNN and ParticleNet-Lite through ``pnn train``'s
machinery, against a plain PyTorch loop of the same model measured in the same process.

    python benchmarks/bench_jet_throughput.py --file jets.parquet  # from pnn generate
    python benchmarks/bench_jet_throughput.py                      # toy jets

For each tagger: the plain loop (the tagger built with the same seed, its inputs prepared
once as tensors, ``torch.optim.Adam``, the same batch size, BCE with logits, nothing else),
then ``train_experiment`` (the run folder, with validation, checkpoints and the best model
saved after every epoch), then the plain loop again; jets/s of the optimizer steps of each
epoch (the trainer's ``history.csv`` ``events_per_s``) and of the whole run. The ratio of
the medians, taken minutes apart in one process, is the figure that survives a loaded
machine; absolute jets/s do not.
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

from hep_pnn._random import spawn
from hep_pnn._tables import markdown_table
from hep_pnn.data.jets.layout import write_jets_parquet
from hep_pnn.data.jets.toy import toy_jets
from hep_pnn.models._inference import torch_threads
from hep_pnn.models.jets import build_tagger
from hep_pnn.training import ExperimentConfig, load_experiment, train_experiment
from hep_pnn.training.jet_data import load_labelled_jets, split_jets
from hep_pnn.training.jet_loop import prepared_inputs
from machine import cpu_model

TAGGERS = {"CNN (jet_cnn)": "jet_cnn", "ParticleNet-Lite (particlenet_lite)": "particlenet_lite"}


def plain_epochs(preset: str, config: ExperimentConfig, *, epochs: int) -> list[float]:
    """jets/s of each epoch of a bare PyTorch loop on the trainer's training jets."""
    options = config.training
    data = load_labelled_jets(config.data, test=False)
    split_seed, init_seed, order_seed = spawn(options.seed, 3)
    kept, _ = split_jets(data.jets.labels, fraction=options.validation_fraction, seed=split_seed)
    train = data.select(kept)
    model = build_tagger(preset, config.model.options, seed=int(init_seed.generate_state(1)[0]))
    inputs = {k: torch.as_tensor(v) for k, v in prepared_inputs(model, train).items()}
    labels = torch.as_tensor(train.jets.labels, dtype=torch.float32)
    optimizer = torch.optim.Adam(model.parameters(), lr=options.learning_rate)
    rng = np.random.default_rng(order_seed)
    rates = []
    model.train()
    for _ in range(epochs):
        order = torch.as_tensor(rng.permutation(len(train)))
        started = time.perf_counter()
        for start in range(0, len(order), options.batch_size):
            index = order[start : start + options.batch_size]
            if len(index) < 2:
                continue
            optimizer.zero_grad()
            logits = model({k: v[index] for k, v in inputs.items()})
            torch.nn.functional.binary_cross_entropy_with_logits(logits, labels[index]).backward()
            optimizer.step()
        rates.append(len(train) / (time.perf_counter() - started))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="jet file (default: toy jets)")
    parser.add_argument("--jets", type=int, default=1500, help="toy jets per class")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="presets to measure (default: both)")
    parser.add_argument("--runs", type=Path, default=Path(tempfile.mkdtemp()) / "runs")
    args = parser.parse_args()
    args.runs.mkdir(parents=True, exist_ok=True)
    path = args.file
    if path is None:
        path = args.runs / "toy_jets.parquet"
        write_jets_parquet(toy_jets(args.jets, args.jets, seed=1), path, overwrite=True)
    base = {
        "data": {"source": "jets", "paths": [str(path.resolve())], "test_fraction": 0.25},
        "training": {
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "threads": args.threads,
            "early_stopping_patience": args.epochs,
        },
    }
    (args.runs / "config.yaml").write_text(yaml.safe_dump(base))
    rows = {}
    for label, preset in TAGGERS.items():
        if args.only and preset not in args.only:
            continue
        config = load_experiment(args.runs / "config.yaml", [f"model.preset={preset}"])
        with torch_threads(args.threads):
            plain = plain_epochs(preset, config, epochs=args.epochs)
        started = time.perf_counter()
        run = train_experiment(config, args.runs / preset, overwrite=True, progress=False)
        run_s = time.perf_counter() - started
        with torch_threads(args.threads):
            plain += plain_epochs(preset, config, epochs=args.epochs)
        steps = run.history["events_per_s"].to_numpy()
        n_train = float(steps[0] * run.history["seconds"].iloc[0])
        rows[label] = {
            "training jets": n_train,
            "plain loop jets/s": float(np.median(plain)),
            "plain epochs": " ".join(f"{rate:.0f}" for rate in plain),
            "pnn train epochs": " ".join(f"{rate:.0f}" for rate in steps),
            "pnn train jets/s (steps)": float(np.median(steps)),
            "ratio (steps)": float(np.median(steps) / np.median(plain)),
            "pnn train jets/s (whole run)": n_train * args.epochs / run_s,
            "ratio (whole run)": n_train * args.epochs / run_s / float(np.median(plain)),
        }
    print(markdown_table(pd.DataFrame(rows).T, digits=3, index_name="tagger"))
    print(
        f"\n{args.epochs} epochs per measurement, batch {args.batch_size}, Adam, "
        f"{args.threads} threads; {cpu_model()}, {datetime.date.today().isoformat()}; "
        f"source: {args.file or 'toy jets'}"
    )


if __name__ == "__main__":
    main()
