"""The interpolation test of the pNN studies on boosted tops: a parametric ParticleNet-Lite
conditioned on the Z′ mass, trained without the middle masses, against ParticleNet-Lite.

    python benchmarks/zprime_interpolation.py                       # ≈ 10–15 min on 2 cores
    python benchmarks/zprime_interpolation.py --jets 60 --epochs 1  # a quick check

1. Generates Z′ → tt̄ top jets and QCD jets in the pT window of each Z′ mass of ``--masses``
   (:mod:`hep_pnn.data.jets.zprime`; ``--jets`` of each per mass, MPI off unless ``--mpi``)
   and splits every (mass, class) 75 / 25 into training and test files.
2. Trains with ``pnn train``'s machinery (one run folder each under ``--runs``):
   the parametric ParticleNet-Lite (``parametric_particlenet``, ``data.parameter:
   zprime_mass``, ``data.signal_parameters`` = the training masses), ParticleNet-Lite on the
   same masses, and ParticleNet-Lite on all masses (it has seen the held-out ones).
3. Scores every test mass: its top jets against the QCD jets of its window, the parametric
   tagger at that mass; AUC with the Hanley–McNeil standard error. Prints the table and
   writes ``zprime_interpolation.png`` to ``--figures``.

References: Baldi et al., arXiv:1601.07913 (pNN, interpolation test); Qu & Gouskos,
arXiv:1902.08570 (ParticleNet); Hanley & McNeil, Radiology 143 (1982) 29 (AUC error).
"""

from __future__ import annotations

import argparse
import datetime
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from matplotlib.axes import Axes

from hep_pnn._tables import markdown_table
from hep_pnn.data.jets.layout import write_jets_parquet
from hep_pnn.data.jets.sample import JetSample
from hep_pnn.data.jets.zprime import MASS_COLUMN, generate_zprime_tagging
from hep_pnn.evaluation.jet_metrics import tagger_metrics
from hep_pnn.evaluation.plots import figure_png, plot_auc_vs_mass
from hep_pnn.models.jets.base import JetTagger
from hep_pnn.training import load_experiment, train_experiment
from machine import cpu_model

MASSES = (1000.0, 1250.0, 1500.0, 1750.0, 2000.0, 2250.0, 2500.0)
HELD_OUT = (1500.0, 1750.0, 2000.0)


def _select(jets: JetSample, rows: np.ndarray) -> JetSample:
    return JetSample(
        jets.constituents[rows],
        jets.labels[rows],
        jets.features.iloc[rows].reset_index(drop=True),
    )


def split(jets: JetSample, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (training, test): a quarter of every (mass, class) held out for testing."""
    rng = np.random.default_rng(seed)
    test = np.zeros(len(jets), dtype=bool)
    groups = pd.Series(np.arange(len(jets))).groupby(
        [jets.features[MASS_COLUMN].to_numpy(), jets.labels]
    )
    for _, members in groups:
        rows = members.to_numpy()
        test[rows[rng.permutation(len(rows))[: len(rows) // 4]]] = True
    return np.flatnonzero(~test), np.flatnonzero(test)


def hanley_mcneil(auc: float, n_signal: int, n_background: int) -> float:
    """Standard error of an AUC from the numbers of signal and background jets.

    Example:
        >>> round(hanley_mcneil(0.9, 100, 100), 4)
        0.0226
    """
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (
        auc * (1 - auc) + (n_signal - 1) * (q1 - auc**2) + (n_background - 1) * (q2 - auc**2)
    ) / (n_signal * n_background)
    return float(np.sqrt(variance))


def auc_per_mass(tagger: JetTagger, test: JetSample) -> pd.DataFrame:
    """AUC of each test mass: its top jets against the QCD jets of its pT window."""
    masses = test.features[MASS_COLUMN].to_numpy()
    rows = []
    for mass in np.unique(masses):
        here = masses == mass
        parameter = np.full(int(here.sum()), mass) if tagger.parametric else None
        score = tagger.predict(test.constituents[here], parameter)
        metrics = tagger_metrics(score, test.labels[here])
        n_signal, n_background = int(metrics["n_signal"]), int(metrics["n_background"])
        error = hanley_mcneil(metrics["auc"], n_signal, n_background)
        rows.append({"mass": mass, "roc_auc": metrics["auc"], "error": error})
    return pd.DataFrame(rows)


def draw(frame: pd.DataFrame, held_out: list[float]) -> Axes:
    """AUC against Z′ mass per model (index: model; columns mass, roc_auc, error, trained)."""
    curves = {name: rows for name, rows in frame.groupby(level=0, sort=False)}
    seen = {name: rows["mass"][rows["trained"]].tolist() for name, rows in curves.items()}
    ax = plot_auc_vs_mass(curves, training_masses=seen)
    for line, rows in zip(ax.get_lines(), curves.values(), strict=False):
        ax.errorbar(
            rows["mass"],
            rows["roc_auc"],
            yerr=rows["error"],
            fmt="none",
            color=line.get_color(),
            capsize=3,
        )
    for mass in held_out:
        ax.axvspan(mass - 60, mass + 60, color="0.9", zorder=0)
    legend = ax.get_legend()
    ax.legend(
        legend.legend_handles,
        [text.get_text() for text in legend.get_texts()],
        loc="lower left",
        fontsize="small",
    )
    ax.set_xlabel(r"$Z^\prime$ mass (GeV)")
    ax.set_ylabel("AUC")
    ax.set_title(
        "top vs QCD jets in each mass's pT window; shaded: held out of the\n"
        "parametric and same-masses training (" + ", ".join(f"{m:g}" for m in held_out) + " GeV)",
        fontsize="small",
    )
    return ax


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jets", type=int, default=600, help="top and QCD jets per mass")
    parser.add_argument("--masses", default=",".join(f"{m:g}" for m in MASSES))
    parser.add_argument("--held-out", default=",".join(f"{m:g}" for m in HELD_OUT))
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--mpi", action="store_true", help="multi-parton interactions on")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=Path, default=Path(tempfile.mkdtemp()) / "zprime")
    parser.add_argument("--figures", type=Path, default=Path("docs/figures"))
    parser.add_argument("--figure", default="zprime_interpolation.png", help="file name")
    parser.add_argument("--replot", type=Path, help="draw from an auc_per_mass.csv and stop")
    args = parser.parse_args()
    masses = [float(m) for m in args.masses.split(",")]
    held_out = [float(m) for m in args.held_out.split(",")]
    trained = [m for m in masses if m not in held_out]
    if args.replot is not None:
        frame = pd.read_csv(args.replot, index_col="model")
        args.figures.mkdir(parents=True, exist_ok=True)
        (args.figures / args.figure).write_bytes(figure_png(draw(frame, held_out)))
        return
    folder = args.runs
    folder.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    jets = generate_zprime_tagging(
        masses, n_signal=args.jets, n_qcd=args.jets, seed=args.seed, mpi=args.mpi, progress=True
    )
    generation_s = time.perf_counter() - started
    train_rows, test_rows = split(jets, seed=args.seed)
    train, test = _select(jets, train_rows), _select(jets, test_rows)
    on_trained = np.isin(train.features[MASS_COLUMN].to_numpy(), trained)
    write_jets_parquet(train, folder / "train.parquet", overwrite=True)
    write_jets_parquet(
        _select(train, np.flatnonzero(on_trained)), folder / "train_subset.parquet", overwrite=True
    )
    write_jets_parquet(test, folder / "test.parquet", overwrite=True)

    models = {
        "parametric ParticleNet-Lite": (
            "parametric_particlenet",
            "train.parquet",
            {"parameter": MASS_COLUMN, "signal_parameters": trained},
            trained,
        ),
        "ParticleNet-Lite, same masses": ("particlenet_lite", "train_subset.parquet", {}, trained),
        "ParticleNet-Lite, all masses": ("particlenet_lite", "train.parquet", {}, masses),
    }
    curves, seen, times = {}, {}, {}
    for name, (preset, file, data, masses_seen) in models.items():
        config = {
            "data": {
                "source": "jets",
                "train_paths": [str(folder / file)],
                "test_paths": [str(folder / "test.parquet")],
                **data,
            },
            "model": {"preset": preset, "options": {}},
            "training": {
                "epochs": args.epochs,
                "batch_size": args.batch_size,
                "learning_rate": 1e-3,
                "threads": 2,
                "seed": args.seed,
            },
        }
        path = folder / f"{preset}-{len(masses_seen)}.yaml"
        path.write_text(yaml.safe_dump(config))
        begun = time.perf_counter()
        run = train_experiment(
            load_experiment(path), path.with_suffix(""), overwrite=True, progress=False
        )
        times[name] = time.perf_counter() - begun
        curves[name] = auc_per_mass(run.model, test)
        seen[name] = masses_seen

    table = pd.DataFrame(index=pd.Index(curves[next(iter(curves))]["mass"].to_numpy()))
    for name, frame in curves.items():
        values = frame.set_index("mass")
        table[name] = [
            f"{a:.3f} ± {e:.3f}" for a, e in zip(values["roc_auc"], values["error"], strict=True)
        ]
    table.insert(
        0, "in pNN training", ["yes" if m in trained else "**held out**" for m in table.index]
    )
    table.index = [f"{m:g}" for m in table.index]
    print(markdown_table(table, index_name="Z′ mass (GeV)"))
    n_test = pd.Series(test.labels).groupby(test.features[MASS_COLUMN].to_numpy()).value_counts()
    print(f"\ntest jets per mass (mass, label → count):\n{n_test.unstack().to_string()}")
    print(
        f"\n{len(jets)} jets generated in {generation_s:.0f} s "
        f"({len(jets) / generation_s:.1f} jets/s, "
        f"MPI {'on' if args.mpi else 'off'}); training runs (s): "
        + ", ".join(f"{n} {t:.0f}" for n, t in times.items())
        + f"; {args.epochs} epochs, batch {args.batch_size}; {cpu_model()}, "
        f"{datetime.date.today().isoformat()}"
    )
    frame = pd.concat(curves, names=["model", "row"]).reset_index("row", drop=True)
    frame["trained"] = [m in seen[name] for name, m in zip(frame.index, frame["mass"], strict=True)]
    frame.to_csv(folder / "auc_per_mass.csv")
    args.figures.mkdir(parents=True, exist_ok=True)
    (args.figures / args.figure).write_bytes(figure_png(draw(frame, held_out)))
    print(f"figure in {args.figures / args.figure}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
