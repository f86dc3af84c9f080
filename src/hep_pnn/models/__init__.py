"""Conditioning layers, parametric networks, presets, save/load and export."""

from hep_pnn.models.conditioning import (
    CONDITIONINGS,
    Affine,
    AffineInMass,
    Bias,
    Concat,
    Conditioning,
    Line,
    Scale,
)
from hep_pnn.models.config import PRESETS, ModelConfig, preset
from hep_pnn.models.ensemble import PerMassEnsemble
from hep_pnn.models.export import export_program
from hep_pnn.models.fast import dropout_mask, effective_dropout
from hep_pnn.models.folding import FoldedNet, fold_at_mass
from hep_pnn.models.network import HiddenBlock, ParametricNet, build_model
from hep_pnn.models.preprocessing import Preprocessing
from hep_pnn.models.serialization import load_model, save_model
from hep_pnn.models.summary import describe_model

__all__ = [
    "CONDITIONINGS",
    "PRESETS",
    "Affine",
    "AffineInMass",
    "Bias",
    "Concat",
    "Conditioning",
    "FoldedNet",
    "HiddenBlock",
    "Line",
    "ModelConfig",
    "ParametricNet",
    "PerMassEnsemble",
    "Preprocessing",
    "Scale",
    "build_model",
    "describe_model",
    "dropout_mask",
    "effective_dropout",
    "export_program",
    "fold_at_mass",
    "load_model",
    "preset",
    "save_model",
]
