r"""Jet-level baselines: any event model (a BDT, an MLP) scoring jets by their jet-level
features (mass, τ32, τ21, ...) instead of their constituents.

:class:`JetFeatureModel` wraps the fitted event model and the names of the features it was
trained on. Jets read from a file carry these features already
(:attr:`~hep_pnn.data.jets.sample.JetSample.features`); bare constituents get them from
:func:`~hep_pnn.data.jets.substructure.jet_features`, the one implementation the readers and
the generator use too.

References:
    Thaler & Van Tilburg, "Identifying Boosted Objects with N-subjettiness",
    arXiv:1011.2268 (τ32, τ21); Kasieczka et al., "The Machine Learning Landscape of Top
    Taggers", arXiv:1902.09914 (a BDT on jet mass and N-subjettiness as the baseline).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pandas as pd

from hep_pnn.data.jets.sample import JET_FEATURES, JetSample
from hep_pnn.errors import ConfigError
from hep_pnn.scorer import Scorer

__all__ = ["BDT_FEATURES", "JetFeatureModel", "check_jet_features"]

#: The features of the cut-based and BDT taggers: jet mass and N-subjettiness ratios.
BDT_FEATURES: tuple[str, ...] = ("jet_mass", "tau32", "tau21")


def check_jet_features(names: Sequence[str], *, where: str) -> tuple[str, ...]:
    """``names`` as a tuple; an empty list, a repeat or a name outside
    :data:`~hep_pnn.data.jets.sample.JET_FEATURES` raises ConfigError.

    Example:
        >>> check_jet_features(["jet_mass", "tau32"], where="x")
        ('jet_mass', 'tau32')
    """
    unknown = [name for name in names if name not in JET_FEATURES]
    if unknown or not names or len(set(names)) != len(names):
        raise ConfigError(
            f"bad jet features {list(names)!r}"
            + (f" ({unknown[0]!r} is not a jet-level feature)" if unknown else ""),
            where=where,
            fix=f"choose distinct names among {', '.join(JET_FEATURES)}",
        )
    return tuple(names)


class JetFeatureModel:
    """A jet tagger made of an event model on jet-level features.

    Args:
        model: the fitted event scorer (``predict(features, mass)``; the mass is unused).
        feature_names: the jet-level columns it takes, in order.
        kind: the ``model.preset`` it was trained as (``jet_bdt``, ``jet_mlp``).

    Example:
        >>> from hep_pnn.data.jets.toy import toy_jets
        >>> class MassCut:
        ...     def predict(self, features, mass):
        ...         return (features[:, 0] > 140).astype(float)
        >>> jets = toy_jets(50, 50, seed=0)
        >>> model = JetFeatureModel(MassCut(), feature_names=("jet_mass",), kind="cut")
        >>> bool(model.predict_jets(jets)[jets.labels == 1].mean() > 0.5)
        True
    """

    #: Jet-level baselines take no conditioning parameter.
    parametric: ClassVar[bool] = False

    def __init__(self, model: Scorer, *, feature_names: Sequence[str], kind: str) -> None:
        self.model = model
        self.feature_names = tuple(feature_names)
        self.kind = kind

    def __repr__(self) -> str:
        return f"JetFeatureModel({self.kind}: {type(self.model).__name__} on {self.feature_names})"

    def features(self, frame: pd.DataFrame) -> np.ndarray:
        """The model's input columns of jet-level ``frame``, ``(n, n_features)`` float32."""
        return frame.loc[:, list(self.feature_names)].to_numpy(np.float32)

    def predict_jets(self, jets: JetSample, parameter: np.ndarray | None = None) -> np.ndarray:
        """Probability that each jet is a top, from the jet-level features of ``jets``."""
        missing = [name for name in self.feature_names if name not in jets.features.columns]
        if missing:
            return self.predict(jets.constituents)
        x = self.features(jets.features)
        return np.asarray(self.model.predict(x, np.zeros(len(x), np.float32)))

    def predict(self, constituents: np.ndarray, parameter: np.ndarray | None = None) -> np.ndarray:
        """Probability that each jet of ``(n, m, 4)`` constituents is a top (features are
        computed from the constituents)."""
        from hep_pnn.data.jets.substructure import jet_features

        x = self.features(jet_features(constituents))
        return np.asarray(self.model.predict(x, np.zeros(len(x), np.float32)))
