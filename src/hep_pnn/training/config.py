"""The experiment configuration: one YAML file with ``data``, ``model``, ``training`` sections."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from hep_pnn.data.features import HEPMASS_MASSES
from hep_pnn.errors import ConfigError, from_validation_error
from hep_pnn.training.decorrelation import DecorrelationConfig
from hep_pnn.training.estimators import check_data_kind, family_of
from hep_pnn.training.mass_strategies import MASS_STRATEGIES

__all__ = [
    "BackgroundMassConfig",
    "ExperimentConfig",
    "FileData",
    "GeneratedData",
    "JetData",
    "ModelSection",
    "TrainingConfig",
    "WeightsConfig",
    "apply_overrides",
    "load_experiment",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GeneratedData(_Section):
    """Events made by the built-in generator; the test sample uses an independent seed stream."""

    source: Literal["generate"] = "generate"
    masses: list[float] = Field(default_factory=lambda: list(HEPMASS_MASSES), min_length=1)
    n_signal_per_mass: int = Field(4000, gt=0)
    n_background: int = Field(20000, gt=0)
    seed: int = 0
    #: Test sizes as a fraction of the training sizes (HEPMASS: 3.5M test for 7M training).
    test_fraction: float = Field(0.5, gt=0)
    test_signal_per_mass: int | None = Field(None, gt=0)
    test_background: int | None = Field(None, gt=0)
    #: Further keyword options passed to :func:`hep_pnn.data.generate`.
    options: dict[str, Any] = Field(default_factory=dict)


class FileData(_Section):
    """Events from files: ``paths`` split by ``test_fraction``, or separate train/test files."""

    source: Literal["files"]
    paths: list[str] = Field(default_factory=list)
    train_paths: list[str] = Field(default_factory=list)
    test_paths: list[str] = Field(default_factory=list)
    description: str | None = None
    test_fraction: float = Field(0.25, gt=0, lt=1)
    seed: int = 0
    #: Keep only signal at these masses for training (e.g. to test interpolation to the
    #: others); the test sample keeps every mass. Default: all.
    signal_masses: list[float] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one_way_to_give_files(self) -> FileData:
        _check_paths(self.paths, self.train_paths, self.test_paths)
        return self


def _check_paths(paths: list[str], train_paths: list[str], test_paths: list[str]) -> None:
    if bool(paths) == bool(train_paths or test_paths):
        raise ValueError("give either 'paths' or both 'train_paths' and 'test_paths'")
    if not paths and not (train_paths and test_paths):
        raise ValueError("'train_paths' and 'test_paths' must both be given")


class JetData(_Section):
    """Jets from files in the top-tagging layout (Parquet from ``pnn generate --process
    top-tagging``, or the reference HDF5): ``paths`` split by ``test_fraction``, or separate
    train/test files. Train a jet tagger on them (``model.preset: particlenet``, ...).

    ``parameter`` names a jet-level column (e.g. a resonance mass) that parametric taggers
    are conditioned on: signal jets keep their value, background jets get one drawn from the
    signal values. ``signal_parameters`` keeps only signal at these values for training.
    """

    source: Literal["jets"]
    paths: list[str] = Field(default_factory=list)
    train_paths: list[str] = Field(default_factory=list)
    test_paths: list[str] = Field(default_factory=list)
    test_fraction: float = Field(0.25, gt=0, lt=1)
    seed: int = 0
    parameter: str | None = None
    signal_parameters: list[float] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one_way_to_give_files(self) -> JetData:
        _check_paths(self.paths, self.train_paths, self.test_paths)
        if self.signal_parameters is not None and self.parameter is None:
            raise ValueError("'signal_parameters' needs 'parameter' (the column to select on)")
        return self


DataSection = Annotated[GeneratedData | FileData | JetData, Field(discriminator="source")]


class ModelSection(_Section):
    """A model preset (``affine``, ``pnn``, ``individual``, ...) and overrides of its options.

    With ``preset: null``, ``options`` must be a complete model configuration.
    """

    preset: str | None = "affine"
    options: dict[str, Any] = Field(default_factory=dict)

    def resolve(self) -> Any:
        """The :class:`hep_pnn.models.ModelConfig` this section describes."""
        from hep_pnn.models.config import ModelConfig, preset

        if self.preset is None:
            return ModelConfig.model_validate(self.options)
        base = preset(self.preset).model_dump()
        return ModelConfig.model_validate({**base, **self.options})


class BackgroundMassConfig(_Section):
    """How background events get a mass hypothesis during training.

    ``identical``: drawn from the signal masses with ``identical_weighting``: ``sampler`` (the
    default) follows the signal mass distribution the sampler feeds the network — uniform
    over the masses with balanced batches, each mass's share of the normalised training
    weight with plain batches (uniform with ``classes_per_mass``, the file's frequencies
    with unit weights and ``normalise: none``); ``uniform`` and ``frequency`` force one.
    ``uniform``: uniform in ``range`` (default: the signal mass range); both either drawn
    ``once`` per event or re-drawn for every batch. ``copy``: every background event at
    every signal mass, its weight divided by the number of masses.
    """

    strategy: str = "identical"  # a name in hep_pnn.training.mass_strategies.MASS_STRATEGIES
    identical_weighting: Literal["sampler", "frequency", "uniform"] = "sampler"
    range: tuple[float, float] | None = None
    redraw: Literal["once", "batch"] = "batch"

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, name: str) -> str:
        if name not in MASS_STRATEGIES:
            raise ValueError(f"unknown strategy {name!r}: use one of {', '.join(MASS_STRATEGIES)}")
        return name

    @model_validator(mode="after")
    def _ordered_range(self) -> BackgroundMassConfig:
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError("range must be [low, high] with low < high")
        return self


class WeightsConfig(_Section):
    """Per-event weights in the loss and their normalisation (formulas in docs/training.md)."""

    use_event_weights: bool = True
    normalise: Literal["none", "classes", "classes_per_mass"] = "classes_per_mass"


class TrainingConfig(_Section):
    """Training options; the defaults are the published recipe."""

    loss: Literal["bce"] = "bce"
    optimizer: Literal["adam"] = "adam"
    learning_rate: float = Field(1e-3, gt=0)
    batch_size: int = Field(1024, gt=1)
    epochs: int = Field(25, gt=0)
    validation_fraction: float = Field(0.25, gt=0, lt=1)
    sampler: Literal["balanced", "plain"] = "balanced"
    #: How balanced batches split their background half between background processes:
    #: ``weight`` in proportion to each process's total training weight (its physical
    #: share; its event count without event weights), ``equal`` the same for each.
    background_share: Literal["weight", "equal"] = "weight"
    epoch_length: int | None = Field(None, gt=0)
    background_mass: BackgroundMassConfig = Field(default_factory=BackgroundMassConfig)
    weights: WeightsConfig = Field(default_factory=WeightsConfig)
    lr_schedule: Literal["none", "cosine", "plateau"] = "none"
    early_stopping_patience: int | None = Field(None, gt=0)
    validation_batch_size: int = Field(65536, gt=0)
    seed: int = 0
    threads: int = Field(2, gt=0)
    device: str = "cpu"
    #: Decorrelate the score from a protected variable (DisCo or an adversary; None: off).
    decorrelation: DecorrelationConfig | None = None


class ExperimentConfig(_Section):
    """One experiment: where the events come from, which model, how to train it.

    Example:
        >>> config = ExperimentConfig.model_validate({"training": {"epochs": 3}})
        >>> config.training.epochs, config.training.batch_size, config.model.preset
        (3, 1024, 'affine')
    """

    data: DataSection = Field(default_factory=GeneratedData)
    model: ModelSection = Field(default_factory=ModelSection)
    training: TrainingConfig = Field(default_factory=TrainingConfig)

    @model_validator(mode="before")
    @classmethod
    def _generated_by_default(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and isinstance(raw.get("data"), dict):
            raw = {**raw, "data": {"source": "generate", **raw["data"]}}
        return raw

    def to_yaml(self) -> str:
        """The resolved configuration as YAML (every default written out)."""
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` overrides (values parsed as YAML) to a nested dict.

    Example:
        >>> apply_overrides({}, ["training.epochs=3", "data.masses=[500, 1000]"])
        {'training': {'epochs': 3}, 'data': {'masses': [500, 1000]}}
    """
    result = dict(raw)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"override {item!r} is not of the form key=value",
                where="--set",
                fix="write e.g. --set training.epochs=3",
            )
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ConfigError(
                f"cannot parse the value of {key!r}: {err}", where="--set", fix="use YAML syntax"
            ) from None
        node = result
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.get(part)
            node[part] = dict(child) if isinstance(child, dict) else {}
            node = node[part]
        node[parts[-1]] = value
    return result


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            "file not found", where=str(path), fix="check the path of the config"
        ) from None
    except yaml.YAMLError as err:
        raise ConfigError(f"invalid YAML: {err}", where=str(path)) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(
            "the config must be a mapping with data/model/training sections", where=str(path)
        )
    return raw


def _resolve_paths(raw: dict[str, Any], base: Path) -> None:
    """Make relative data paths relative to the config file, so runs work from any folder."""
    data = raw.get("data")
    if not isinstance(data, dict):
        return
    for key in ("paths", "train_paths", "test_paths"):
        if isinstance(data.get(key), list):
            data[key] = [str(base / p) if isinstance(p, str) else p for p in data[key]]
    if isinstance(data.get("description"), str):
        data["description"] = str(base / data["description"])


def load_experiment(
    path: str | os.PathLike[str] | None = None, overrides: list[str] | None = None
) -> ExperimentConfig:
    """Read and validate an experiment YAML file (``None``: every default) plus overrides.

    Errors raise :class:`~hep_pnn.errors.ConfigError` naming the key and the file.

    Example:
        >>> load_experiment(None, ["training.epochs=2"]).training.epochs
        2
    """
    where = "default config" if path is None else str(path)
    raw: dict[str, Any] = {} if path is None else _read_yaml(Path(path))
    raw = apply_overrides(raw, list(overrides or []))
    if path is not None:
        _resolve_paths(raw, Path(path).resolve().parent)
    try:
        config = ExperimentConfig.model_validate(raw)
    except ValidationError as err:
        raise from_validation_error(
            err, where=where, fix="see docs/training.md for the allowed keys and values"
        ) from None
    _check_model(config, where)
    return config


def _check_model(config: ExperimentConfig, where: str) -> None:
    try:
        family = family_of(config.model.preset)
    except ConfigError as err:
        raise ConfigError(err.what, where=f"{where}, key model.preset", fix=err.fix) from None
    check_data_kind(config, where=where)
    family.check(config, where=where)
