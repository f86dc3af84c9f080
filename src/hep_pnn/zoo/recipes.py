"""The recipes of the pretrained models: what ``make zoo`` trains, one entry per model.

Each recipe is an experiment config (the published recipe: Adam, learning rate 1e-3,
batch 1024, balanced batches, background masses drawn like the signal masses) on events
of the built-in generator, with fewer events and epochs than the published 7M × 25 so the
whole zoo retrains in minutes after a generator change.

Example:
    >>> [recipe.name for recipe in RECIPES.values()][:2]
    ['affine-hepmass', 'pnn-hepmass']
    >>> RECIPES["pnn-hepmass"].config().model.preset
    'pnn'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hep_pnn.data.features import HEPMASS_MASSES
from hep_pnn.training.config import ExperimentConfig

__all__ = ["FOUR_TOP_FILE", "RECIPES", "FourTopData", "ZooRecipe"]

#: File name of the four-top events next to an exported four-top model.
FOUR_TOP_FILE = "four_top.parquet"

#: Events of the HEPMASS-like recipes: per signal mass and background (training sample;
#: the test sample is half of each, from an independent seed stream).
_SIGNAL_PER_MASS = 40_000
_BACKGROUND = 200_000
_EPOCHS = 8
_SEED = 20


@dataclass(frozen=True)
class FourTopData:
    """Four-top events made with :func:`hep_pnn.data.four_top.generate_four_top`."""

    n_events: int
    zprime_mass: float
    seed: int


@dataclass(frozen=True)
class ZooRecipe:
    """One pretrained model: its name, what it is, and the experiment that trains it."""

    name: str
    title: str
    summary: str
    experiment: Mapping[str, Any]
    four_top: FourTopData | None = None
    references: tuple[str, ...] = field(default=())

    def config(self, *, data_path: str | None = None) -> ExperimentConfig:
        """The experiment config; four-top recipes read their events from ``data_path``."""
        raw = dict(self.experiment)
        if self.four_top is not None:
            raw["data"] = {**raw["data"], "paths": [data_path or FOUR_TOP_FILE]}
        return ExperimentConfig.model_validate(raw)


def _hepmass(preset: str) -> dict[str, Any]:
    return {
        "data": {
            "source": "generate",
            "masses": list(HEPMASS_MASSES),
            "n_signal_per_mass": _SIGNAL_PER_MASS,
            "n_background": _BACKGROUND,
            "seed": _SEED,
        },
        "model": {"preset": preset},
        "training": {"epochs": _EPOCHS, "sampler": "balanced", "seed": _SEED},
    }


_RECIPES = (
    ZooRecipe(
        name="affine-hepmass",
        title="AffinePNN on HEPMASS-like events",
        summary="affine conditioning after every hidden layer, dropout 0.25, 300-150-100-50",
        experiment=_hepmass("affine"),
        references=("Anzalone, Diotalevi, Bonacorsi, arXiv:2202.00424",),
    ),
    ZooRecipe(
        name="pnn-hepmass",
        title="Baldi pNN on HEPMASS-like events",
        summary="mass concatenated to the features at the input, dropout 0.25, 300-150-100-50",
        experiment=_hepmass("pnn"),
        references=("Baldi et al., arXiv:1601.07913",),
    ),
    ZooRecipe(
        name="individual-hepmass",
        title="One network per mass on HEPMASS-like events",
        summary=(
            "five 300-150-100-50 networks, dropout 0.25; an event goes to the nearest trained mass"
        ),
        experiment=_hepmass("individual"),
        references=("Baldi et al., arXiv:1601.07913",),
    ),
    ZooRecipe(
        name="mlp-four-top",
        title="Plain MLP tagging the resonance tops of tt̄ Z′ (four-top) events",
        summary="pT, η, φ, m of a top quark; resonance (Z′ at 1 TeV) vs spectator tops",
        experiment={
            "data": {"source": "files", "test_fraction": 0.25, "seed": 0},
            "model": {"preset": "mlp"},
            "training": {
                "epochs": 15,
                "batch_size": 512,
                "sampler": "plain",
                "seed": 0,
            },
        },
        four_top=FourTopData(n_events=20_000, zprime_mass=1000.0, seed=0),
    ),
)

#: Every recipe, by model name (the order ``pnn zoo list`` shows).
RECIPES: dict[str, ZooRecipe] = {recipe.name: recipe for recipe in _RECIPES}
