"""What ``pnn evaluate`` does, as library functions: evaluate a run directory.

This module composes training (reading the run) and evaluation, so the ``evaluation``
package itself does not import it: ``hep_pnn.training`` uses ``evaluation.metrics``.

Its ``--masses`` and ``--grid`` are read by :func:`hep_pnn.mass_lists.parse_masses`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hep_pnn._io import check_writable
from hep_pnn.data.table import EventTable
from hep_pnn.evaluation.runs import RunEvaluation, evaluate_run, write_evaluation
from hep_pnn.evaluation.scoring import feature_matrix
from hep_pnn.run_files import EVALUATION_DIR
from hep_pnn.training.runs import load_run

__all__ = ["evaluate_run_directory", "generator_signal_factory"]


def generator_signal_factory(
    *, n_signal: int = 5000, seed: int = 0
) -> Callable[[float], EventTable]:
    """Signal at any mass from the built-in generator, seeded per mass (for the mass grid).

    Only meaningful when the test background also comes from the generator.
    """
    from hep_pnn.data.generator import generate

    def make(mass: float) -> EventTable:
        mass_seed = int(np.random.SeedSequence([seed, round(mass * 1000)]).generate_state(1)[0])
        # The generator wants at least one background event; it is dropped here.
        table = generate(masses=[mass], n_signal_per_mass=n_signal, n_background=1, seed=mass_seed)
        return table.signal()

    return make


def evaluate_run_directory(
    run_dir: str | os.PathLike[str],
    *,
    data: Sequence[str | os.PathLike[str]] = (),
    masses: Sequence[float] | None = None,
    grid: Sequence[float] | None = None,
    grid_signal: int = 5000,
    bootstrap: int = 0,
    seed: int = 0,
    overwrite: bool = False,
    **options: Any,
) -> tuple[RunEvaluation, Path]:
    """Evaluate a training run and write ``RUN_DIR/evaluation/``; returns it and the folder.

    Args:
        run_dir: a directory written by ``pnn train``.
        data: event files to evaluate on (default: the run's own held-out test data).
        masses: hypotheses (default: the signal masses of the data).
        grid: fine mass grid; signal there comes from the built-in generator.
        grid_signal: generated signal events per grid mass.
        bootstrap, seed: bootstrap replicas and seed.
        overwrite: replace an existing ``evaluation/`` folder.
        options: passed to :func:`~hep_pnn.evaluation.evaluate_scorer`.

    Nothing is written unless the whole evaluation succeeds.
    """
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    output = check_writable(run_dir / EVALUATION_DIR, overwrite=overwrite, option="--overwrite")
    table = None
    if data:
        from hep_pnn.data.readers import read_events

        table = read_events(list(data))
        feature_matrix(run.model, table, where=f"--data {', '.join(str(p) for p in data)}")
    factory = None if grid is None else generator_signal_factory(n_signal=grid_signal, seed=seed)
    evaluation = evaluate_run(
        run,
        data=table,
        name=run_dir.resolve().name,
        masses=masses,
        grid=grid,
        signal_factory=factory,
        bootstrap=bootstrap,
        seed=seed,
        **options,
    )
    write_evaluation(evaluation, output, overwrite=overwrite)
    return evaluation, output
