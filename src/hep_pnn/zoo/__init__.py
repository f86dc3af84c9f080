"""Pretrained models (``pnn zoo``): trained on the built-in generator, shipped with the package.

Example:
    >>> from hep_pnn.zoo import list_models
    >>> [card.name for card in list_models()]
    ['affine-hepmass', 'pnn-hepmass', 'individual-hepmass', 'mlp-four-top']
"""

from hep_pnn.zoo.build import fresh_auc, per_mass_auc, train_zoo_model
from hep_pnn.zoo.catalogue import (
    ZOO_DIR,
    ModelCard,
    describe_card,
    export_model,
    list_models,
    load_zoo_model,
    model_card,
    model_path,
)
from hep_pnn.zoo.recipes import RECIPES, ZooRecipe

__all__ = [
    "RECIPES",
    "ZOO_DIR",
    "ModelCard",
    "ZooRecipe",
    "describe_card",
    "export_model",
    "fresh_auc",
    "list_models",
    "load_zoo_model",
    "model_card",
    "model_path",
    "per_mass_auc",
    "train_zoo_model",
]
