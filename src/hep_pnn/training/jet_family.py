"""The jet-tagger families: ``model.preset: jet_cnn``, ``particlenet``, ``particlenet_lite``,
``parametric_particlenet`` with ``data.source: jets``, trained by ``pnn train`` like the
networks (run folder, checkpoints, ``--resume``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from hep_pnn.errors import ConfigError
from hep_pnn.models.jets import JET_TAGGERS, JetTagger, load_tagger
from hep_pnn.models.jets.registry import tagger_config
from hep_pnn.scorer import Scorer
from hep_pnn.training.config import ExperimentConfig
from hep_pnn.training.estimators import TrainingData, register_family
from hep_pnn.training.jet_data import LabelledJets
from hep_pnn.training.jet_loop import train_tagger

__all__ = ["JetTaggerFamily"]

#: Training options the jet trainer does not use, with the values that mean "not used".
_UNUSED = {"lr_schedule": "none", "loss": "bce", "optimizer": "adam"}


class JetTaggerFamily:
    """One jet tagger of :data:`~hep_pnn.models.jets.JET_TAGGERS`, trained on labelled jets.

    Example:
        >>> from hep_pnn.training.estimators import family_of
        >>> family_of("particlenet").data_kind, family_of("particlenet").resumable
        ('jets', True)
    """

    resumable: ClassVar[bool] = True
    data_kind: ClassVar[str] = "jets"

    def __init__(self, name: str) -> None:
        self.name = name

    def check(self, config: ExperimentConfig, *, where: str) -> None:
        tagger_config(self.name, config.model.options, where=where)
        for key, value in _UNUSED.items():
            if getattr(config.training, key) != value:
                raise ConfigError(
                    f"jet taggers do not support training.{key}={getattr(config.training, key)}",
                    where=f"{where}, key training.{key}",
                    fix=f"use {value}",
                )
        parametric = JET_TAGGERS[self.name].tagger.parametric
        if parametric and getattr(config.data, "parameter", None) is None:
            raise ConfigError(
                f"{self.name} is conditioned on a parameter per jet",
                where=f"{where}, key data.parameter",
                fix="name the jet-level column to condition on (e.g. resonance_mass)",
            )

    def fit(
        self,
        config: ExperimentConfig,
        table: TrainingData,
        run_dir: Path,
        log: Callable[[str], None],
        *,
        resume: bool,
        progress: bool,
    ) -> Scorer:
        assert isinstance(table, LabelledJets), "config checks give jet taggers jets"
        tagger: JetTagger = train_tagger(config, table, run_dir, log, resume=resume)
        return tagger

    def load(self, directory: Path) -> Scorer:
        tagger: JetTagger = load_tagger(directory)
        return tagger


for _name in JET_TAGGERS:
    register_family(_name, JetTaggerFamily(_name))
