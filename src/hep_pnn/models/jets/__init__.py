"""Jet taggers: a CNN on jet images, ParticleNet on constituents, a parametric ParticleNet,
and the jet-level baselines (an event model on mass, τ32, τ21, ...: :class:`JetFeatureModel`).

All are :class:`JetTagger` modules returning one logit per jet, registered by name in
:data:`JET_TAGGERS`, saved with :func:`save_tagger` and read with :func:`load_tagger`.
"""

from __future__ import annotations

from hep_pnn.models.jets.base import JetModelConfig, JetScorer, JetTagger, to_tensors
from hep_pnn.models.jets.cnn import JetCNN, JetCNNConfig
from hep_pnn.models.jets.features import BDT_FEATURES, JetFeatureModel, check_jet_features
from hep_pnn.models.jets.io import load_tagger, save_tagger
from hep_pnn.models.jets.parametric import ParametricParticleNet, ParametricParticleNetConfig
from hep_pnn.models.jets.particlenet import (
    EdgeConv,
    EdgeConvSpec,
    ParticleNet,
    ParticleNetConfig,
    nearest_neighbours,
    particle_net_lite,
)
from hep_pnn.models.jets.registry import JET_TAGGERS, TaggerSpec, build_tagger, register_tagger

__all__ = [
    "BDT_FEATURES",
    "JET_TAGGERS",
    "EdgeConv",
    "EdgeConvSpec",
    "JetCNN",
    "JetCNNConfig",
    "JetFeatureModel",
    "JetModelConfig",
    "JetScorer",
    "JetTagger",
    "ParametricParticleNet",
    "ParametricParticleNetConfig",
    "ParticleNet",
    "ParticleNetConfig",
    "TaggerSpec",
    "build_tagger",
    "check_jet_features",
    "load_tagger",
    "nearest_neighbours",
    "particle_net_lite",
    "register_tagger",
    "save_tagger",
    "to_tensors",
]
