"""The local executor: Optuna trials in this process, or in ``jobs`` worker processes that
share the study's storage."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from hep_pnn._extras import require
from hep_pnn._random import child_seed
from hep_pnn.errors import PNNError
from hep_pnn.tuning.scan import TuneSetup
from hep_pnn.tuning.storage import open_study
from hep_pnn.tuning.trial import train_trial, trial_dir

__all__ = ["run_local"]


def _objective(setup: TuneSetup, trial: Any) -> float:
    optuna = require("optuna", feature="pnn tune")
    raw = setup.space.suggest(trial)
    config = setup.trial_config(raw, where=f"trial {trial.number}")
    run_dir = trial_dir(setup.output, f"{trial.number:04d}")
    trial.set_user_attr("run_dir", str(run_dir))

    def report(epoch: int, best_auc: float) -> None:
        trial.report(best_auc, step=epoch)
        # a trial that has trained its last epoch is complete, whatever its rung says
        if epoch < config.training.epochs and trial.should_prune():
            raise optuna.TrialPruned(f"pruned after epoch {epoch}")

    return train_trial(config, run_dir, report=report)


def _worker_seed(seed: int, worker: int) -> int:
    """The sampler seed of worker ``worker``: ``seed`` itself for the first, so one worker
    proposes what a single process would; independent streams for the others.

    Example:
        >>> _worker_seed(7, 0), _worker_seed(7, 1) != _worker_seed(7, 2)
        (7, True)
    """
    if worker == 0:
        return seed
    return child_seed(seed, worker)


def _optimize(setup: TuneSetup, target: int, budget: int, worker: int = 0) -> None:
    """Run trials until ``target`` have finished in the study (at most ``budget`` here)."""
    optuna = require("optuna", feature="pnn tune")
    seed = _worker_seed(setup.seed, worker)
    study = open_study(setup.storage, name=setup.study_name, seed=seed)
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    study.optimize(
        lambda trial: _objective(setup, trial),
        n_trials=budget,
        # a trial whose parameters cannot train (NaN loss, ...) is recorded as failed
        catch=(PNNError,),
        callbacks=[optuna.study.MaxTrialsCallback(target, states=states)],
    )


def run_local(setup: TuneSetup, *, target: int, remaining: int, address: str | None) -> None:
    """Run ``remaining`` trials so the study reaches ``target`` finished ones."""
    del address  # the local executor has no cluster
    if setup.jobs == 1:
        _optimize(setup, target, remaining)
        return
    # spawn: fresh interpreters, no forked torch/numba thread pools
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(setup.jobs, mp_context=context) as pool:
        # the remaining trials split between the workers, each with its own sampler stream
        budgets = [
            remaining // setup.jobs + (i < remaining % setup.jobs) for i in range(setup.jobs)
        ]
        futures = [
            pool.submit(_optimize, setup, target, budget, worker)
            for worker, budget in enumerate(budgets)
            if budget
        ]
        for future in futures:
            future.result()
