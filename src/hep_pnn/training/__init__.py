"""Training: experiment configs, samplers, background-mass strategies, the loop and run folders.

Importing this package registers the built-in model families (:mod:`.baselines`,
:mod:`.networks`, the jet taggers, :mod:`.jet_family`, and the jet-level baselines,
:mod:`.jet_baselines`) in :mod:`hep_pnn.training.estimators`.
"""

# Importing these registers the built-in model families.
from hep_pnn.training import (
    baselines,  # noqa: F401
    jet_baselines,  # noqa: F401
    jet_family,  # noqa: F401
    networks,  # noqa: F401
)
from hep_pnn.training.background_mass import BackgroundMasses
from hep_pnn.training.checkpoint import load_checkpoint, save_checkpoint
from hep_pnn.training.config import (
    BackgroundMassConfig,
    ExperimentConfig,
    FileData,
    GeneratedData,
    JetData,
    ModelSection,
    TrainingConfig,
    WeightsConfig,
    load_experiment,
)
from hep_pnn.training.datasets import (
    load_experiment_data,
    load_test_table,
    load_training_table,
    stratified_split,
)
from hep_pnn.training.estimators import ModelFamily, family_of, register_family
from hep_pnn.training.loop import NonFiniteLossError, Trainer, TrainingProgress
from hep_pnn.training.runs import TrainedRun, load_run, train_experiment
from hep_pnn.training.samplers import EpochPlan, Population, plan_epoch
from hep_pnn.training.weights import training_weights, weighted_bce

__all__ = [
    "BackgroundMassConfig",
    "BackgroundMasses",
    "EpochPlan",
    "ExperimentConfig",
    "FileData",
    "GeneratedData",
    "JetData",
    "ModelFamily",
    "ModelSection",
    "NonFiniteLossError",
    "Population",
    "TrainedRun",
    "Trainer",
    "TrainingConfig",
    "TrainingProgress",
    "WeightsConfig",
    "family_of",
    "load_checkpoint",
    "load_experiment",
    "load_experiment_data",
    "load_run",
    "load_test_table",
    "load_training_table",
    "plan_epoch",
    "register_family",
    "save_checkpoint",
    "stratified_split",
    "train_experiment",
    "training_weights",
    "weighted_bce",
]
