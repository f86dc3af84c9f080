"""What a scan writes: the trial table, the best config and Optuna's plots."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from hep_pnn._extras import require
from hep_pnn._io import atomic_path
from hep_pnn._tables import markdown_table
from hep_pnn.run_files import HISTORY_CSV
from hep_pnn.tuning.scan import TuneSetup

__all__ = [
    "BEST_CONFIG",
    "PLOTS_DIR",
    "RESULTS_CSV",
    "RESULTS_MD",
    "TUNE_FILE",
    "is_scan_folder",
    "trial_table",
    "write_plots",
    "write_results",
]

#: The scan's definition in its output folder; a re-run with the same one resumes the scan.
TUNE_FILE = "tune.json"
RESULTS_CSV = "results.csv"
RESULTS_MD = "results.md"
BEST_CONFIG = "best.yaml"
PLOTS_DIR = "plots"


def is_scan_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is the output folder of ``pnn tune``.

    Example:
        >>> is_scan_folder("/no/such/folder")
        False
    """
    return (Path(path) / TUNE_FILE).is_file()


def _epochs(trial: Any) -> int:
    """Epochs a trial trained: its run's history (Ray Tune passes the last epoch to Optuna
    as the final value, not as an intermediate one), else the epochs it reported."""
    history = Path(trial.user_attrs.get("run_dir", "")) / HISTORY_CSV
    if trial.user_attrs.get("run_dir") and history.is_file():
        return max(0, len(history.read_text().splitlines()) - 1)
    return len(trial.intermediate_values)


def trial_table(study: Any) -> pd.DataFrame:
    """One row per trial: state, best validation AUC, epochs reported, parameters, folder;
    best first."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        rows.append(
            {
                "trial": trial.number,
                "state": trial.state.name.lower(),
                "val_auc": trial.value,
                "epochs": _epochs(trial),
                **trial.params,
                "run_dir": trial.user_attrs.get("run_dir", ""),
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return table.sort_values(["val_auc", "trial"], ascending=[False, True]).set_index("trial")


def write_plots(study: Any, folder: Path) -> list[Path]:
    """Optimisation history and parameter importances (Optuna's matplotlib plots) as PNG;
    importances need two completed trials."""
    require("optuna", feature="pnn tune")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as optuna_plots

    folder.mkdir(parents=True, exist_ok=True)
    done = [t for t in study.get_trials(deepcopy=False) if t.value is not None]
    plots: dict[str, Callable[[Any], Any]] = {"history": optuna_plots.plot_optimization_history}
    if len(done) >= 2:
        plots["importances"] = optuna_plots.plot_param_importances
    written = []
    for name, plot in plots.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
            try:
                ax = plot(study)
            except (ValueError, RuntimeError):  # e.g. importances of a constant objective
                continue
        if name == "history":
            ax.set_ylabel("best mean validation AUC of the trial")
        figure = ax.get_figure(root=True)
        figure.set_size_inches(7, 4.5)
        path = folder / f"{name}.png"
        with atomic_path(path, overwrite=True) as tmp:
            figure.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
        plt.close(figure)
        written.append(path)
    return written


def write_results(study: Any, setup: TuneSetup) -> pd.DataFrame:
    """Write ``results.csv``, ``results.md``, ``best.yaml`` and ``plots/``; the table."""
    table = trial_table(study)
    output = setup.output
    with atomic_path(output / RESULTS_CSV, overwrite=True) as tmp:
        table.to_csv(tmp)
    with atomic_path(output / RESULTS_MD, overwrite=True) as tmp:
        tmp.write_text(markdown_table(table, index_name="trial") + "\n")
    if any(t.value is not None for t in study.get_trials(deepcopy=False)):
        best = setup.trial_config(study.best_trial.params, where="best trial")
        with atomic_path(output / BEST_CONFIG, overwrite=True) as tmp:
            tmp.write_text(best.to_yaml())
    write_plots(study, output / PLOTS_DIR)
    return table
