"""The search space of a scan: YAML over any key of the experiment config.

``space.yaml`` maps dotted config keys to one distribution each::

    model.options.dropout: {float: [0.0, 0.5]}
    training.learning_rate: {float: [1.0e-4, 1.0e-2], log: true}
    training.batch_size: {int: [256, 2048], log: true}
    model.options.conditioning: {choice: [affine, bias]}
    model.options.hidden: {choice: [[64, 64], [128, 128, 128]]}

Keys are addressed as in ``pnn train --set``; ``model.options.X`` is any option of the
resolved model preset. Choices that are not plain scalars (lists, mappings) are handed to
Optuna as their YAML text and parsed back, as Optuna's categorical values must be scalars.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from pydantic import ValidationError

from hep_pnn.errors import ConfigError, from_validation_error
from hep_pnn.training.config import ExperimentConfig
from hep_pnn.training.estimators import family_of

__all__ = ["Dimension", "SearchSpace", "configure", "load_space", "parse_space"]

Kind = Literal["float", "int", "choice"]
_SCALARS = (str, int, float, bool, type(None))


class Suggests(Protocol):
    """What a space needs of a trial: an Optuna ``Trial`` (or Ray Tune's wrapper of one)."""

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float: ...

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False) -> int: ...

    def suggest_categorical(self, name: str, choices: Any) -> Any: ...


@dataclass(frozen=True)
class Dimension:
    """One config key and its distribution: a ``float``/``int`` range or a ``choice``."""

    key: str
    kind: Kind
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    choices: tuple[Any, ...] = ()

    @property
    def encoded_choices(self) -> list[Any]:
        """The choices as Optuna stores them (scalars as they are, others as YAML text)."""
        if all(isinstance(c, _SCALARS) for c in self.choices):
            return list(self.choices)
        return [yaml.safe_dump(c, default_flow_style=True).strip() for c in self.choices]

    def decode(self, raw: Any) -> Any:
        """The config value of a stored Optuna parameter."""
        if self.kind != "choice" or raw in self.choices:
            return raw
        return self.choices[self.encoded_choices.index(raw)]

    def suggest(self, trial: Suggests) -> Any:
        """Draw this dimension's parameter from ``trial`` (the stored, encoded value)."""
        if self.kind == "float":
            return trial.suggest_float(self.key, self.low, self.high, log=self.log)
        if self.kind == "int":
            return trial.suggest_int(self.key, int(self.low), int(self.high), log=self.log)
        return trial.suggest_categorical(self.key, self.encoded_choices)

    def extremes(self) -> list[Any]:
        """Values that must all give a valid config: the range ends or every choice."""
        if self.kind == "choice":
            return list(self.choices)
        cast = int if self.kind == "int" else float
        return [cast(self.low), cast(self.high)]


@dataclass(frozen=True)
class SearchSpace:
    """The dimensions of a scan, in file order.

    Example:
        >>> space = parse_space({"training.learning_rate": {"float": [1e-4, 1e-2], "log": True},
        ...                      "model.options.hidden": {"choice": [[8], [16, 16]]}})
        >>> [d.kind for d in space.dimensions], space.dimensions[1].encoded_choices
        (['float', 'choice'], ['[8]', '[16, 16]'])
        >>> space.decode({"model.options.hidden": "[16, 16]", "training.learning_rate": 0.001})
        {'model.options.hidden': [16, 16], 'training.learning_rate': 0.001}
    """

    dimensions: tuple[Dimension, ...]
    where: str = "search space"

    def suggest(self, trial: Suggests) -> dict[str, Any]:
        """Draw every parameter from ``trial``; the stored (encoded) values by key."""
        return {d.key: d.suggest(trial) for d in self.dimensions}

    def decode(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Config values (by key) of stored Optuna parameters."""
        by_key = {d.key: d for d in self.dimensions}
        return {key: by_key[key].decode(value) for key, value in raw.items() if key in by_key}

    def check(self, config: ExperimentConfig) -> None:
        """Raise ConfigError if a key is not in ``config`` or a range end / choice is invalid."""
        known = _addressable(config)
        for dim in self.dimensions:
            if not _has_key(known, dim.key):
                raise ConfigError(
                    f"key {dim.key!r} is not in the experiment config",
                    where=f"{self.where}, key {dim.key}",
                    fix="use a dotted key of the resolved config (see config.yaml of a run), "
                    "e.g. training.learning_rate or model.options.dropout",
                )
            for value in dim.extremes():
                configure(config, {dim.key: value}, where=self.where)


def _addressable(config: ExperimentConfig) -> dict[str, Any]:
    """The config as a nested dict, ``model.options`` holding every option of the preset."""
    raw = config.model_dump(mode="json")
    try:
        resolved = config.model.resolve()
    except Exception:  # a family without a network config (a baseline): its options only
        return raw
    raw["model"]["options"] = {**resolved.model_dump(mode="json"), **raw["model"]["options"]}
    return raw


def _has_key(raw: Any, key: str) -> bool:
    for part in key.split("."):
        if not isinstance(raw, dict) or part not in raw:
            return False
        raw = raw[part]
    return True


def _set_key(raw: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split(".")
    for part in parents:
        raw = raw.setdefault(part, {})
    raw[last] = value


def configure(
    config: ExperimentConfig, params: dict[str, Any], *, where: str = "trial parameters"
) -> ExperimentConfig:
    """``config`` with the dotted keys of ``params`` replaced, validated like a config file.

    Example:
        >>> configure(ExperimentConfig(), {"model.options.dropout": 0.2}).model.options
        {'dropout': 0.2}
    """
    raw = config.model_dump(mode="json")
    for key, value in params.items():
        _set_key(raw, key, value)
    try:
        result = ExperimentConfig.model_validate(raw)
    except ValidationError as err:
        raise from_validation_error(err, where=where, fix="narrow the search space") from None
    family_of(result.model.preset).check(result, where=where)
    return result


def _dimension(key: str, spec: Any, where: str) -> Dimension:
    if not isinstance(spec, dict):
        spec = {}
    kinds = [k for k in ("float", "int", "choice") if k in spec]
    extra = set(spec) - {"float", "int", "choice", "log"}
    fix = "write e.g. {float: [0.0, 0.5]}, {int: [1, 4], log: true} or {choice: [a, b]}"
    if len(kinds) != 1 or extra:
        raise ConfigError("needs exactly one of float, int, choice", where=where, fix=fix)
    kind: Kind = kinds[0]  # type: ignore[assignment]
    values, log = spec[kind], bool(spec.get("log", False))
    if kind == "choice":
        if not isinstance(values, list) or not values:
            raise ConfigError("choice needs a non-empty list", where=where, fix=fix)
        return Dimension(key, kind, choices=tuple(values))
    numeric = isinstance(values, list) and len(values) == 2
    numeric = numeric and all(isinstance(v, int | float) for v in values)
    if not numeric or not values[0] < values[1] or (log and values[0] <= 0):
        raise ConfigError(
            f"{kind} needs [low, high] with low < high (low > 0 with log)", where=where, fix=fix
        )
    if kind == "int" and not all(isinstance(v, int) for v in values):
        raise ConfigError("int needs integer ends", where=where, fix=fix)
    return Dimension(key, kind, low=values[0], high=values[1], log=log)


def parse_space(raw: Any, *, where: str = "search space") -> SearchSpace:
    """A :class:`SearchSpace` from the mapping of a space YAML file."""
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(
            "the search space must be a non-empty mapping of config keys to distributions",
            where=where,
            fix="write e.g. 'model.options.dropout: {float: [0.0, 0.5]}'",
        )
    dims = tuple(_dimension(str(k), v, f"{where}, key {k}") for k, v in raw.items())
    return SearchSpace(dims, where=where)


def load_space(path: str | os.PathLike[str]) -> SearchSpace:
    """Read a space YAML file; errors name the file and the key."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError("file not found", where=str(path), fix="check --space") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"invalid YAML: {err}", where=str(path)) from None
    return parse_space(raw, where=str(path))
