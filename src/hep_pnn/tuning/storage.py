"""The Optuna study of a scan: its storage (SQLite in the output folder or an RDB URL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hep_pnn._extras import require
from hep_pnn.errors import ConfigError

__all__ = [
    "STUDY_DB",
    "finished_trials",
    "local_storage_url",
    "open_study",
    "rdb_storage",
    "restart_interrupted",
]

#: The SQLite file holding the study when no RDB URL is given.
STUDY_DB = "optuna.db"


def local_storage_url(output: Path) -> str:
    """The SQLite URL of a scan kept in its output folder.

    Example:
        >>> local_storage_url(Path("/tmp/scan"))
        'sqlite:////tmp/scan/optuna.db'
    """
    return f"sqlite:///{output.resolve() / STUDY_DB}"


def rdb_storage(url: str) -> Any:
    """Optuna's storage at ``url``; ConfigError when it cannot be opened."""
    optuna = require("optuna", feature="pnn tune")
    options: dict[str, Any] = {}
    if url.startswith("sqlite"):
        # trial processes share the file; wait for a lock instead of failing
        options = {"connect_args": {"timeout": 60}}
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=options)
    except Exception as err:  # bad URL, unreachable server, missing driver
        raise ConfigError(
            f"cannot open the Optuna storage {url!r}: {type(err).__name__}: {err}".splitlines()[0],
            where="--storage",
            fix="give a reachable RDB URL (e.g. postgresql://user@host/db) or omit --storage",
        ) from None


def open_study(url: str, *, name: str, seed: int) -> Any:
    """Create or load study ``name``: maximise, TPE sampler (``seed``), asynchronous
    successive halving on the per-epoch AUC (what Ray Tune's ASHA does)."""
    optuna = require("optuna", feature="pnn tune")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        storage=rdb_storage(url),
        study_name=name,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
        load_if_exists=True,
    )


def restart_interrupted(study: Any) -> int:
    """Fail the trials a killed scan left running and queue their parameters again, so the
    scan continues where it stopped; the number restarted. Only for a study this process
    owns alone (the SQLite file of the output folder), never for a shared RDB study."""
    optuna = require("optuna", feature="pnn tune")
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    for trial in running:
        study._storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
        study.enqueue_trial(trial.params, skip_if_exists=False)
    return len(running)


def finished_trials(study: Any) -> int:
    """Trials that count towards ``--trials``: completed or pruned."""
    optuna = require("optuna", feature="pnn tune")
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return len(study.get_trials(deepcopy=False, states=states))
