"""What every trial of a scan needs to know, small enough to send to worker processes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hep_pnn.training.config import ExperimentConfig
from hep_pnn.tuning.space import SearchSpace

__all__ = ["TuneSetup"]


@dataclass(frozen=True)
class TuneSetup:
    """A scan: base config, search space, output folder and Optuna study.

    ``owned`` is True when the study lives in the output folder's SQLite file (nobody
    else runs its trials); an RDB study may be shared by scans on several machines.
    """

    config: ExperimentConfig
    space: SearchSpace
    output: Path
    storage: str
    study_name: str
    seed: int
    owned: bool
    jobs: int = 1

    def trial_config(self, raw_params: dict[str, Any], where: str) -> ExperimentConfig:
        """The experiment config of a trial with the (stored) parameters ``raw_params``."""
        from hep_pnn.tuning.space import configure

        return configure(self.config, self.space.decode(raw_params), where=where)
