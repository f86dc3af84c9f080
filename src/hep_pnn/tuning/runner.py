"""``pnn tune``: a hyper-parameter scan with Optuna, run locally or on Ray Tune."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from hep_pnn._extras import require
from hep_pnn._io import atomic_path
from hep_pnn.errors import ConfigError, OutputExistsError
from hep_pnn.training.config import load_experiment
from hep_pnn.tuning.local import run_local
from hep_pnn.tuning.results import BEST_CONFIG, TUNE_FILE, is_scan_folder, write_results
from hep_pnn.tuning.scan import TuneSetup
from hep_pnn.tuning.space import load_space
from hep_pnn.tuning.storage import (
    finished_trials,
    local_storage_url,
    open_study,
    restart_interrupted,
)

__all__ = ["EXECUTORS", "TUNE_FILE", "TuneResult", "is_scan_folder", "run_tune"]


class Executor(Protocol):
    def __call__(
        self, setup: TuneSetup, *, target: int, remaining: int, address: str | None
    ) -> None: ...


def _run_ray(setup: TuneSetup, *, target: int, remaining: int, address: str | None) -> None:
    from hep_pnn.tuning.ray_executor import run_ray

    run_ray(setup, target=target, remaining=remaining, address=address)


#: How trials run: ``local`` (this machine, ``jobs`` processes) or ``ray`` (Ray Tune).
EXECUTORS: dict[str, Executor] = {"local": run_local, "ray": _run_ray}


@dataclass(frozen=True)
class TuneResult:
    """A finished scan: its folder, the trial table (best first) and the best config file."""

    folder: Path
    table: pd.DataFrame
    best_config: Path | None


def _definition(setup: TuneSetup) -> dict[str, Any]:
    return {
        "config": setup.config.model_dump(mode="json"),
        "space": [asdict(d) for d in setup.space.dimensions],
        "study_name": setup.study_name,
        "storage": None if setup.owned else setup.storage,
    }


def _prepare_output(setup: TuneSetup, *, overwrite: bool) -> bool:
    """Create the output folder, or check it holds the same scan; True when resuming."""
    output, path = setup.output, setup.output / TUNE_FILE
    definition = json.loads(json.dumps(_definition(setup)))
    if path.is_file() and not overwrite:
        if json.loads(path.read_text()) != definition:
            raise ConfigError(
                "the folder holds a scan with another config, space or storage",
                where=str(path),
                fix="run the same command to resume it, or pass --overwrite to start anew",
            )
        return True
    if output.exists() and any(output.iterdir()):
        if not path.is_file():
            raise OutputExistsError(
                f"{output} is not a scan folder (no {TUNE_FILE}); refusing to use it",
                where="--output",
                fix="choose an empty or new folder",
            )
        shutil.rmtree(output)  # --overwrite of a scan folder
    output.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_text(json.dumps(definition, indent=1))
    return False


def run_tune(
    config: str | os.PathLike[str] | None,
    *,
    space: str | os.PathLike[str],
    trials: int,
    output: str | os.PathLike[str] = "pnn-tune",
    executor: str = "local",
    address: str | None = None,
    jobs: int = 1,
    storage: str | None = None,
    study_name: str = "pnn-tune",
    seed: int = 0,
    overrides: list[str] | None = None,
    overwrite: bool = False,
    echo: Callable[[str], None] = print,
) -> TuneResult:
    """Scan the hyper-parameters of ``space`` around the experiment ``config``.

    Every trial trains a normal run folder ``OUTPUT/trials/trial-N``, reporting its best
    mean validation AUC after every epoch so that poor trials stop early (successive
    halving). The study lives in ``OUTPUT/optuna.db`` (or the RDB URL ``storage``, to share
    one scan between machines); running the same command again continues a stopped scan
    up to ``trials`` completed or pruned trials.

    Args:
        executor: ``local`` (``jobs`` processes here) or ``ray`` (Ray Tune's OptunaSearch
            and ASHA on the cluster at ``address``; a local Ray instance without it).
        seed: seed of the TPE sampler (each trial trains with the config's own seed).

    Returns:
        the folder, the trial table (``results.md``) and ``best.yaml``.
    """
    require("optuna", feature="pnn tune")
    if executor not in EXECUTORS:
        raise ConfigError(
            f"unknown executor {executor!r}",
            where="--executor",
            fix=f"use one of {', '.join(EXECUTORS)}",
        )
    if trials < 1 or jobs < 1:
        raise ConfigError("must be at least 1", where="--trials/--jobs", fix="e.g. --trials 20")
    if address is not None and executor != "ray":
        raise ConfigError(
            "--address needs --executor ray", where="--address", fix="add --executor ray"
        )
    base = load_experiment(config, overrides)
    search_space = load_space(space)
    search_space.check(base)
    folder = Path(output).resolve()
    setup = TuneSetup(
        config=base,
        space=search_space,
        output=folder,
        storage=storage or local_storage_url(folder),
        study_name=study_name,
        seed=seed,
        owned=storage is None,
        jobs=jobs,
    )
    if executor == "ray":  # an unreachable cluster fails before the folder is made
        from hep_pnn._ray import connect

        connect(address, feature="pnn tune --executor ray")
    if not setup.owned:  # an unreachable database fails before the folder is made
        open_study(setup.storage, name=study_name, seed=seed)
    resuming = _prepare_output(setup, overwrite=overwrite)
    study = open_study(setup.storage, name=study_name, seed=seed)
    if resuming and setup.owned:
        restarted = restart_interrupted(study)
        if restarted:
            echo(f"[tune] {restarted} interrupted trial(s) queued again")
    done = finished_trials(study)
    remaining = max(0, trials - done)
    echo(f"[tune] {folder}: {done} trial(s) finished, {remaining} to run ({executor})")
    if remaining:
        EXECUTORS[executor](setup, target=trials, remaining=remaining, address=address)
    study = open_study(setup.storage, name=study_name, seed=seed)
    table = write_results(study, setup)
    best = folder / BEST_CONFIG
    return TuneResult(folder=folder, table=table, best_config=best if best.is_file() else None)
