"""Study definitions: which runs a published study trains, on which data, and at which size."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hep_pnn.errors import ConfigError, from_validation_error
from hep_pnn.run_files import EVALUATION_DIR, METRICS_JSON

__all__ = [
    "SIZES",
    "RunSpec",
    "StudyConfig",
    "StudyData",
    "find_study",
    "list_studies",
    "load_study",
]

#: Data size, epochs and evaluation of each ``--size``. ``fraction`` scales the generator
#: preset (10.5M events for ``hepmass``): its training part as published (two thirds of
#: HEPMASS; all of HEPMASS-IMB's signal beside two thirds of HEPMASS's background) and a
#: third of HEPMASS as the test sample.
SIZES: dict[str, dict[str, Any]] = {
    # a smoke test of the machinery (seconds per run); its numbers mean little
    "tiny": {"fraction": 0.002, "epochs": 1, "epoch_length": 10_000, "grid_signal": 500},
    "small": {"fraction": 0.03, "epochs": 5, "epoch_length": 200_000, "grid_signal": 4000},
    # the published data sizes, 8 epochs of 1M events: every study within an hour on 2 cores
    "medium": {"fraction": 1.0, "epochs": 8, "epoch_length": 1_000_000, "grid_signal": 20_000},
    "full": {"fraction": 1.0, "epochs": 25, "epoch_length": None, "grid_signal": 50_000},
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StudyData(_Strict):
    """The study's events: a generator preset (or the user's files) and the training masses."""

    preset: Literal["hepmass", "hepmass-imb"] = "hepmass"
    #: Signal masses kept for training (default: all); evaluation always uses all of them.
    training_masses: list[float] | None = None
    #: Share of the preset's training background that is generated. The published
    #: conditioning study kept the background rows whose stored mass was a training mass
    #: (2 of 5, i.e. 0.4): its checkpoints took 1,281 steps of 1,024 per epoch, 75 % of
    #: 351k signal + 1.4M background.
    background_fraction: float = Field(default=1.0, gt=0.0, le=1.0)


class StudyConfig(_Strict):
    """One study: named runs (experiment-config overrides) and the published numbers."""

    name: str
    description: str = ""
    data: StudyData = Field(default_factory=StudyData)
    grid: str | None = None
    runs: dict[str, dict[str, Any]] = Field(min_length=1)
    #: Published AUC per run and mass, shown beside ours.
    published: dict[str, dict[float, float]] = Field(default_factory=dict)
    #: Published mean AUC per run (when the paper only gives a mean).
    published_mean: dict[str, float] = Field(default_factory=dict)


def _study_folders() -> list[Path]:
    folders = [Path.cwd() / "studies"]
    checkout = Path(__file__).resolve().parents[3] / "studies"
    if checkout not in folders:
        folders.append(checkout)
    return [folder for folder in folders if folder.is_dir()]


def list_studies() -> list[str]:
    """Names of the studies that ship with hep-pnn (``studies/*.yaml``).

    Example:
        >>> "hepmass" in list_studies()
        True
    """
    return sorted({path.stem for folder in _study_folders() for path in folder.glob("*.yaml")})


def find_study(name: str | os.PathLike[str]) -> Path:
    """The YAML file of a study given by name or path."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    for folder in _study_folders():
        candidate = folder / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"unknown study {str(name)!r}",
        where="study name",
        fix=f"use one of {', '.join(list_studies())} or the path of a study YAML file",
    )


def load_study(name: str | os.PathLike[str]) -> StudyConfig:
    """Read and validate a study definition; errors name the file and the key.

    Example:
        >>> load_study("hepmass").runs["pnn"]
        {'model': {'preset': 'pnn'}}
    """
    path = find_study(name)
    try:
        raw = yaml.safe_load(path.read_text())
        return StudyConfig.model_validate(raw)
    except yaml.YAMLError as err:
        raise ConfigError(f"invalid YAML: {err}", where=str(path)) from None
    except ValidationError as err:
        raise from_validation_error(err, where=str(path), fix="see docs/studies.md") from None


@dataclass(frozen=True)
class RunSpec:
    """One training of a study: its name, seed, experiment config and folder."""

    name: str
    seed: int
    config: dict[str, Any]
    run_dir: Path

    @property
    def finished(self) -> bool:
        return (self.run_dir / EVALUATION_DIR / METRICS_JSON).is_file()
