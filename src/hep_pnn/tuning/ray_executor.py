"""The Ray executor of ``pnn tune``: Ray Tune runs the trials, Optuna (through Ray Tune's
``OptunaSearch``, same TPE sampler and storage as the local executor) proposes them and
ASHA stops poor ones on the per-epoch validation AUC."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hep_pnn._extras import require
from hep_pnn._ray import connect
from hep_pnn.tuning.scan import TuneSetup
from hep_pnn.tuning.storage import rdb_storage
from hep_pnn.tuning.trial import METRIC, train_trial, trial_dir

__all__ = ["run_ray"]


#: The parameter that carries the Optuna trial number to the Ray Tune trial.
_NUMBER = "optuna_trial"


def _trainable(params: dict[str, Any], *, setup: TuneSetup) -> None:
    """One Ray Tune trial: a normal run folder named after its Optuna trial number."""
    from ray import tune

    number = int(params[_NUMBER])
    config = setup.trial_config(params, where=f"trial {number}")

    def report(epoch: int, best_auc: float) -> None:
        tune.report({METRIC: best_auc, "epoch": epoch})

    train_trial(config, trial_dir(setup.output, f"{number:04d}"), report=report)


@dataclass(frozen=True)
class _DefineByRun:
    """The space as Ray Tune's OptunaSearch asks for it (picklable: Ray saves the searcher),
    recording each trial's run folder."""

    setup: TuneSetup

    def __call__(self, trial: Any) -> dict[str, Any]:
        self.setup.space.suggest(trial)
        trial.set_user_attr("run_dir", str(trial_dir(self.setup.output, f"{trial.number:04d}")))
        return {_NUMBER: trial.number}


def run_ray(setup: TuneSetup, *, target: int, remaining: int, address: str | None) -> None:
    """Run ``remaining`` trials on the Ray cluster at ``address`` (a local Ray without)."""
    del target  # Ray Tune runs exactly ``remaining`` samples
    optuna = require("optuna", feature="pnn tune")
    connect(address, feature="pnn tune --executor ray")
    require("ray.tune", feature="pnn tune --executor ray")
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    search = OptunaSearch(
        space=_DefineByRun(setup),
        metric=METRIC,
        mode="max",
        sampler=optuna.samplers.TPESampler(seed=setup.seed),
        study_name=setup.study_name,
        storage=rdb_storage(setup.storage),
    )
    scheduler = ASHAScheduler(
        metric=METRIC,
        mode="max",
        time_attr="training_iteration",
        max_t=setup.config.training.epochs,
        grace_period=1,
        reduction_factor=3,
    )
    trainable = tune.with_resources(
        tune.with_parameters(_trainable, setup=setup), {"cpu": setup.config.training.threads}
    )
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(search_alg=search, scheduler=scheduler, num_samples=remaining),
        run_config=tune.RunConfig(storage_path=str(setup.output / "ray"), name="tune", verbose=0),
    )
    tuner.fit()
