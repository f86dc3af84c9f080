"""Jet taggers by name: ``model.preset`` in an experiment config → class and default options.

A new tagger is one :class:`~hep_pnn.models.jets.base.JetTagger` subclass with a config
class and one :func:`register_tagger` call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from hep_pnn.errors import ConfigError, from_validation_error
from hep_pnn.models.jets.base import JetModelConfig, JetTagger
from hep_pnn.models.jets.cnn import JetCNN, JetCNNConfig
from hep_pnn.models.jets.parametric import ParametricParticleNet, ParametricParticleNetConfig
from hep_pnn.models.jets.particlenet import ParticleNet, ParticleNetConfig

__all__ = ["JET_TAGGERS", "TaggerSpec", "build_tagger", "register_tagger", "tagger_config"]


@dataclass(frozen=True)
class TaggerSpec:
    """A tagger class, its config class and the options a preset sets on top of the defaults."""

    tagger: type[JetTagger]
    config: type[JetModelConfig]
    defaults: Mapping[str, Any] = field(default_factory=dict)


_FULL_PARTICLENET = {
    "edge_convs": [
        {"k": 16, "channels": [64, 64, 64]},
        {"k": 16, "channels": [128, 128, 128]},
        {"k": 16, "channels": [256, 256, 256]},
    ],
    "fc": [256],
}

#: Every jet tagger by preset name.
JET_TAGGERS: dict[str, TaggerSpec] = {}


def register_tagger(name: str, spec: TaggerSpec) -> None:
    """Make ``spec`` the tagger of ``model.preset: name``.

    Example:
        >>> register_tagger("jet_cnn", JET_TAGGERS["jet_cnn"])
        Traceback (most recent call last):
        ...
        ValueError: jet tagger 'jet_cnn' is already registered
    """
    if name in JET_TAGGERS:
        raise ValueError(f"jet tagger {name!r} is already registered")
    JET_TAGGERS[name] = spec


register_tagger("jet_cnn", TaggerSpec(JetCNN, JetCNNConfig))
register_tagger("particlenet_lite", TaggerSpec(ParticleNet, ParticleNetConfig))
register_tagger("particlenet", TaggerSpec(ParticleNet, ParticleNetConfig, _FULL_PARTICLENET))
register_tagger(
    "parametric_particlenet", TaggerSpec(ParametricParticleNet, ParametricParticleNetConfig)
)


def tagger_config(name: str, options: Mapping[str, Any], *, where: str) -> JetModelConfig:
    """The validated config of tagger ``name`` with ``options`` over its preset's defaults.

    Example:
        >>> tagger_config("particlenet", {}, where="x").edge_convs[0].k
        16
    """
    spec = JET_TAGGERS[name]
    try:
        return spec.config.model_validate({**spec.defaults, **options})
    except ValidationError as err:
        raise from_validation_error(
            err,
            where=where,
            fix=f"see {spec.config.__name__} for the options of {name}",
            prefix=("model", "options"),
        ) from None


def build_tagger(
    name: str, options: Mapping[str, Any] | None = None, *, seed: int = 0
) -> JetTagger:
    """A new tagger ``name`` (a key of :data:`JET_TAGGERS`) with ``options``.

    Example:
        >>> build_tagger("jet_cnn", {"dense": [16]}).kind
        'jet_cnn'
    """
    if name not in JET_TAGGERS:
        raise ConfigError(
            f"unknown jet tagger {name!r}",
            where="model.preset",
            fix=f"choose one of {', '.join(JET_TAGGERS)}",
        )
    config = tagger_config(name, options or {}, where="model.options")
    tagger: JetTagger = JET_TAGGERS[name].tagger(config, seed=seed)
    return tagger
