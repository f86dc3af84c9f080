"""The main job a newcomer runs first (``make demo`` / ``pnn demo``).

Generates HEPMASS-like events with the built-in generator, trains the AffinePNN with
balanced mini-batches and the Baldi pNN on the five published masses, evaluates both at
those masses and on a fine mass grid (interpolation to masses never seen in training), and
writes one HTML report comparing them.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hep_pnn._io import atomic_dir
from hep_pnn.data.features import HEPMASS_MASSES
from hep_pnn.evaluation.command import generator_signal_factory
from hep_pnn.evaluation.report import comparison_table, write_report
from hep_pnn.evaluation.runs import RunEvaluation, evaluate_run, write_evaluation
from hep_pnn.evaluation.scoring import ExtrapolationWarning
from hep_pnn.mass_lists import parse_masses
from hep_pnn.run_files import EVALUATION_DIR, REPORT_FILE
from hep_pnn.training.config import ExperimentConfig
from hep_pnn.training.runs import train_experiment

__all__ = ["DemoResult", "demo_configs", "run_demo"]

#: The two models the demo compares: (run name, model preset).
DEMO_MODELS = (("affine", "affine"), ("pnn", "pnn"))


@dataclass(frozen=True)
class DemoResult:
    """What the demo produced: the per-mass AUC table, the report path and the time taken."""

    auc: pd.DataFrame
    grid_auc: pd.DataFrame
    report: Path
    seconds: float


def demo_configs(
    *, n_signal_per_mass: int, n_background: int, epochs: int, seed: int
) -> dict[str, ExperimentConfig]:
    """The experiment configs of the demo, by run name (published recipe, fewer epochs).

    Example:
        >>> configs = demo_configs(n_signal_per_mass=10, n_background=50, epochs=1, seed=0)
        >>> sorted(configs), configs["affine"].training.sampler
        (['affine', 'pnn'], 'balanced')
    """
    configs = {}
    for name, preset in DEMO_MODELS:
        configs[name] = ExperimentConfig.model_validate(
            {
                "data": {
                    "masses": list(HEPMASS_MASSES),
                    "n_signal_per_mass": n_signal_per_mass,
                    "n_background": n_background,
                    # a smaller test sample: it is scored at every mass of the fine grid
                    "test_signal_per_mass": max(1, n_signal_per_mass // 5),
                    "test_background": max(1, n_background // 5),
                    "seed": seed,
                },
                "model": {"preset": preset},
                "training": {"epochs": epochs, "sampler": "balanced", "seed": seed},
            }
        )
    return configs


def run_demo(
    output: str | os.PathLike[str],
    *,
    n_signal_per_mass: int = 100_000,
    n_background: int = 500_000,
    epochs: int = 5,
    grid: str = "400:1600:50",
    grid_signal: int = 5000,
    seed: int = 0,
    overwrite: bool = False,
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> DemoResult:
    """Run the demo into ``output`` (built under a temporary name, then swapped in).

    Writes ``runs/<name>/`` (run directories with ``evaluation/``) and ``report.html``.
    """
    start = time.perf_counter()
    configs = demo_configs(
        n_signal_per_mass=n_signal_per_mass, n_background=n_background, epochs=epochs, seed=seed
    )
    masses = list(parse_masses(grid, option="--grid"))
    factory = generator_signal_factory(n_signal=grid_signal, seed=seed + 1)
    with atomic_dir(output, overwrite=overwrite, option="--output") as tmp:
        evaluations: list[RunEvaluation] = []
        for name, config in configs.items():
            echo(f"[demo] training {name} ({config.model.preset}) for {epochs} epochs")
            run = train_experiment(config, tmp / "runs" / name, progress=progress)
            echo(
                f"[demo] evaluating {name}: {len(HEPMASS_MASSES)} masses, {len(masses)} grid masses"
            )
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ExtrapolationWarning)
                evaluation = evaluate_run(
                    run, name=name, grid=masses, signal_factory=factory, seed=seed
                )
            for message in dict.fromkeys(str(w.message) for w in caught):
                echo(f"[demo] note: {message}")
            write_evaluation(evaluation, tmp / "runs" / name / EVALUATION_DIR)
            evaluations.append(evaluation)
        write_report(evaluations, tmp / REPORT_FILE, title="hep-pnn demo: AffinePNN vs pNN")
    auc = comparison_table(evaluations, "roc_auc")
    grid_auc = pd.DataFrame(
        {e.name: e.grid.set_index("mass")["roc_auc"] for e in evaluations if e.grid is not None}
    )
    return DemoResult(
        auc=auc,
        grid_auc=grid_auc,
        report=Path(output) / REPORT_FILE,
        seconds=time.perf_counter() - start,
    )
