"""The jet-level baselines: ``model.preset: jet_bdt`` (xgboost on jet mass, τ32, τ21) and
``jet_mlp`` (the ``mlp`` network on every jet-level feature), with ``data.source: jets``.

Each is an event family of the project (:class:`~hep_pnn.training.baselines.BaselineFamily`
for ``bdt``, the network family of ``mlp``) fitted on a table of the jets' jet-level
features, one row per jet, and saved as that family saves; loading wraps it in a
:class:`~hep_pnn.models.jets.JetFeatureModel` so ``pnn evaluate`` scores jets with it.
``model.options`` are those of the event model plus ``features`` (the jet-level columns).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from hep_pnn.data.jets.sample import JET_FEATURES
from hep_pnn.data.table import EventTable
from hep_pnn.models.jets import BDT_FEATURES, JetFeatureModel, check_jet_features
from hep_pnn.scorer import Scorer
from hep_pnn.training.config import ExperimentConfig
from hep_pnn.training.estimators import TrainingData, family_of, register_family
from hep_pnn.training.jet_data import LabelledJets

__all__ = ["JetFeatureBaseline", "JetFeatureNetwork", "jet_feature_table"]


def jet_feature_table(data: LabelledJets, feature_names: tuple[str, ...]) -> EventTable:
    """The jet-level ``feature_names`` of every jet as an event table (label: top = 1).

    Example:
        >>> from hep_pnn.data.jets.toy import toy_jets
        >>> table = jet_feature_table(LabelledJets(toy_jets(3, 2, seed=0)), ("jet_mass",))
        >>> table.feature_names, table.label.tolist()
        (('jet_mass',), [1, 1, 1, 0, 0])
    """
    features = data.jets.features.loc[:, list(feature_names)].to_numpy(np.float32)
    return EventTable.from_arrays(features, label=data.jets.labels, feature_names=feature_names)


class _JetFeatureFamily:
    """An event family (``inner``) fitted on jet-level features, scoring jets."""

    resumable: ClassVar[bool]
    data_kind: ClassVar[str] = "jets"

    def __init__(
        self,
        name: str,
        *,
        inner: str,
        features: tuple[str, ...],
        defaults: dict[str, Any] | None = None,
    ) -> None:
        self.name, self.inner = name, inner
        self.default_features, self.defaults = features, defaults or {}

    def _split(
        self, config: ExperimentConfig, *, where: str
    ) -> tuple[ExperimentConfig, tuple[str, ...]]:
        """The config of the inner event model and the jet-level feature names."""
        options = {**self.defaults, **config.model.options}
        names = options.pop("features", self.default_features)
        features = check_jet_features(list(names), where=f"{where}, key model.options.features")
        model = config.model.model_copy(update={"preset": self.inner, "options": options})
        return config.model_copy(update={"model": model}), features

    def check(self, config: ExperimentConfig, *, where: str) -> None:
        inner, _ = self._split(config, where=where)
        family_of(self.inner).check(inner, where=where)

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
        assert isinstance(table, LabelledJets), "config checks give jet families jets"
        inner, features = self._split(config, where="config")
        log(f"{self.name}: {self.inner} on the jet-level features {', '.join(features)}")
        events = jet_feature_table(table, features)
        model = family_of(self.inner).fit(
            inner, events, run_dir, log, resume=resume, progress=progress
        )
        return JetFeatureModel(model, feature_names=features, kind=self.name)

    def load(self, directory: Path) -> Scorer:
        model = family_of(self.inner).load(directory)
        names = tuple(getattr(model, "feature_names", ()))  # both inner models record them
        return JetFeatureModel(model, feature_names=names, kind=self.name)


class JetFeatureBaseline(_JetFeatureFamily):
    """``jet_bdt``: fitted once, no checkpoints (as ``bdt``).

    Example:
        >>> family_of("jet_bdt").data_kind, family_of("jet_bdt").resumable
        ('jets', False)
    """

    resumable: ClassVar[bool] = False


class JetFeatureNetwork(_JetFeatureFamily):
    """``jet_mlp``: trained epoch by epoch, resumable (as ``mlp``).

    Example:
        >>> family_of("jet_mlp").resumable
        True
    """

    resumable: ClassVar[bool] = True


register_family("jet_bdt", JetFeatureBaseline("jet_bdt", inner="bdt", features=BDT_FEATURES))
register_family(
    "jet_mlp",
    JetFeatureNetwork(
        "jet_mlp", inner="mlp", features=JET_FEATURES, defaults={"hidden": [64, 64, 64]}
    ),
)
