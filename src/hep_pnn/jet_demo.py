"""The small built-in jet example (``pnn demo --jets`` / ``make demo-jets``).

Generates top and QCD jets with Pythia 8 and FastJet (``pnn generate --process
top-tagging``; needs ``hep-pnn[jets]``), trains the DeepTop-style CNN, ParticleNet-Lite and
the BDT on (jet mass, τ32, τ21) on the same jets with ``pnn train``'s machinery, evaluates
each on the same held-out jets and writes one HTML report comparing them.

The output folder holds ``jets.parquet``, ``runs/<name>/`` (run folders with their
``evaluation/``) and ``report.html``; it is built under a temporary name and swapped in when
complete. The runs' ``config.yaml`` name the jet file relative to the run folder, so
``pnn evaluate`` works on them wherever the folder is moved.

References:
    Kasieczka et al., "The Machine Learning Landscape of Top Taggers", arXiv:1902.09914
    (the jets, the metrics); Kasieczka et al., arXiv:1701.08784 (the CNN); Qu & Gouskos,
    arXiv:1902.08570 (ParticleNet-Lite).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hep_pnn._io import atomic_dir, atomic_path
from hep_pnn.run_files import CONFIG_FILE, REPORT_FILE
from hep_pnn.training.config import ExperimentConfig

__all__ = ["JET_DEMO_MODELS", "JetDemoResult", "jet_demo_config", "run_jet_demo"]

#: The taggers of the demo: run name → (model preset, model options).
JET_DEMO_MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "cnn": ("jet_cnn", {}),
    "particlenet_lite": ("particlenet_lite", {"n_particles": 50}),
    "bdt": ("jet_bdt", {}),
}
#: The jet file inside the demo folder, and as the runs' configs name it.
JETS_FILE = "jets.parquet"
_FROM_RUN = f"../../{JETS_FILE}"


@dataclass(frozen=True)
class JetDemoResult:
    """The metrics table (one row per tagger), the report path and the time taken."""

    metrics: pd.DataFrame
    report: Path
    seconds: float


def jet_demo_config(
    preset: str,
    options: dict[str, Any],
    *,
    jets: str | os.PathLike[str],
    epochs: int,
    seed: int,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
) -> ExperimentConfig:
    """The experiment config of one demo tagger on the jet file ``jets``.

    Example:
        >>> config = jet_demo_config("jet_bdt", {}, jets="jets.parquet", epochs=2, seed=0)
        >>> config.data.source, config.model.preset, config.training.epochs
        ('jets', 'jet_bdt', 2)
    """
    return ExperimentConfig.model_validate(
        {
            "data": {"source": "jets", "paths": [str(jets)], "test_fraction": 0.25, "seed": seed},
            "model": {"preset": preset, "options": options},
            "training": {
                "epochs": epochs,
                "batch_size": batch_size,
                "learning_rate": learning_rate,
                "early_stopping_patience": epochs,
                "seed": seed,
                "threads": 2,
            },
        }
    )


def _generate(path: Path, *, n_jets: int, seed: int, mpi: bool, progress: bool) -> None:
    from hep_pnn.data.jets.generate import generate_top_tagging_file

    generate_top_tagging_file(
        path, n_top=n_jets, n_qcd=n_jets, seed=seed, mpi=mpi, progress=progress
    )


def _relocatable(run_dir: Path, config: ExperimentConfig) -> None:
    """Name the jet file in the run's ``config.yaml`` relative to the run folder."""
    data = config.data.model_copy(update={"paths": [_FROM_RUN]})
    with atomic_path(run_dir / CONFIG_FILE, overwrite=True) as tmp:
        tmp.write_text(config.model_copy(update={"data": data}).to_yaml())


def run_jet_demo(
    output: str | os.PathLike[str],
    *,
    n_jets: int = 2000,
    epochs: int = 5,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    seed: int = 0,
    mpi: bool = False,
    jets: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> JetDemoResult:
    """Run the jet demo into ``output``.

    Args:
        output: the demo folder (refused if it exists, unless ``overwrite``).
        n_jets: generated top jets, and as many QCD jets.
        epochs: training epochs of the CNN and ParticleNet-Lite.
        batch_size: their mini-batch size.
        learning_rate: their Adam learning rate.
        seed: seed of the generation, the split and the training.
        mpi: multi-parton interactions in Pythia (≈ 3× slower generation).
        jets: an existing jet file (Parquet or the reference HDF5) to use instead of
            generating (written into ``output`` as Parquet).
        overwrite: replace an existing ``output``.
        progress: progress bars of generation and training.
        echo: where the progress lines go.
    """
    from hep_pnn.data.jets.layout import write_jets_parquet
    from hep_pnn.data.jets.reader import load_jets
    from hep_pnn.evaluation.jet_report import jet_metrics_table, write_jet_report
    from hep_pnn.evaluation.jet_runs import evaluate_jet_run
    from hep_pnn.training.runs import train_experiment

    start = time.perf_counter()
    with atomic_dir(output, overwrite=overwrite, option="--output") as tmp:
        path = tmp / JETS_FILE
        if jets is None:
            mode = "with" if mpi else "without"
            echo(f"[demo] generating {n_jets} top and {n_jets} QCD jets ({mode} MPI)")
            _generate(path, n_jets=n_jets, seed=seed, mpi=mpi, progress=progress)
        else:  # read and written again: checks the file, and a reference .h5 becomes Parquet
            write_jets_parquet(load_jets(jets), path)
        echo(f"[demo] jets ready after {time.perf_counter() - start:.0f} s")
        run_dirs = []
        for name, (preset, options) in JET_DEMO_MODELS.items():
            config = jet_demo_config(
                preset, options, jets=path, epochs=epochs, seed=seed,
                batch_size=batch_size, learning_rate=learning_rate,
            )  # fmt: skip
            echo(f"[demo] training {name} ({preset})")
            run = train_experiment(config, tmp / "runs" / name, progress=progress)
            _relocatable(run.run_dir, config)
            echo(f"[demo] evaluating {name}")
            evaluate_jet_run(run.run_dir)
            run_dirs.append(run.run_dir)
        title = "hep-pnn jet demo: CNN, ParticleNet-Lite and BDT on top vs QCD jets"
        write_jet_report(run_dirs, tmp / REPORT_FILE, title=title)
        metrics = jet_metrics_table(run_dirs)
    return JetDemoResult(
        metrics=metrics, report=Path(output) / REPORT_FILE, seconds=time.perf_counter() - start
    )
