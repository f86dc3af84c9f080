"""One trial of a scan: a normal training run whose per-epoch validation AUC is reported."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from hep_pnn.training.config import ExperimentConfig
from hep_pnn.training.feedback import epoch_listener
from hep_pnn.training.runs import train_experiment

__all__ = ["METRIC", "TRIALS_DIR", "train_trial", "trial_dir"]

#: What a scan maximises: the best mean validation AUC so far (the epoch ``model/`` keeps).
METRIC = "val_auc_best"
#: Sub-folder of the scan's output holding one run folder per trial.
TRIALS_DIR = "trials"


def trial_dir(output: Path, name: str) -> Path:
    """The run folder of trial ``name`` (an Optuna number or a Ray Tune trial id).

    Example:
        >>> trial_dir(Path("scan"), "0007").as_posix()
        'scan/trials/trial-0007'
    """
    return output / TRIALS_DIR / f"trial-{name}"


def train_trial(
    config: ExperimentConfig, run_dir: Path, *, report: Callable[[int, float], None]
) -> float:
    """Train ``config`` into ``run_dir``; ``report(epoch, best AUC so far)`` after every
    epoch (it may raise to stop a pruned trial). Returns the best mean validation AUC.

    A trial folder left by a killed scan is replaced: the trial starts again.
    """
    best = -math.inf

    def on_epoch(row: dict[str, float]) -> None:
        nonlocal best
        auc = float(row["val_auc_mean"])
        if not math.isnan(auc):
            best = max(best, auc)
            report(int(row["epoch"]), best)

    with epoch_listener(on_epoch):
        run = train_experiment(config, run_dir, overwrite=True, progress=False)
    return float(run.history["val_auc_mean"].max())
