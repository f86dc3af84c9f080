"""Baseline classifiers to compare the pNNs against: kNN, BDT and parametric BDT.

Each implements the scorer interface (``predict(features, mass)``, ``feature_names``,
``training_masses``), trains with ``fit(train, *, seed)`` honouring event weights and saves
without pickle. The plain MLP baseline is the network preset ``mlp``
(:func:`hep_pnn.models.preset`), trained by the normal training engine.
"""

from hep_pnn.models.baselines.base import (
    BASELINE_FORMAT,
    Baseline,
    is_baseline_model,
    load_baseline,
    make_baseline,
)
from hep_pnn.models.baselines.bdt import BDTBaseline, ParametricBDT
from hep_pnn.models.baselines.knn import KNNBaseline
from hep_pnn.models.baselines.options import (
    BASELINE_NAMES,
    BaselineOptions,
    BDTOptions,
    KNNOptions,
    baseline_options,
)

__all__ = [
    "BASELINE_FORMAT",
    "BASELINE_NAMES",
    "BDTBaseline",
    "BDTOptions",
    "Baseline",
    "BaselineOptions",
    "KNNBaseline",
    "KNNOptions",
    "ParametricBDT",
    "baseline_options",
    "is_baseline_model",
    "load_baseline",
    "make_baseline",
]
