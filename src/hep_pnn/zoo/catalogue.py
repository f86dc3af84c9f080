"""The shipped pretrained models: list them, describe them, load them, export them.

Each model is a run directory inside the package (``config.yaml``, ``history.csv``,
``model/`` with ``model.json`` + ``model.safetensors``) plus ``zoo.json``, its card:
training recipe, seed, generator version and per-mass test AUC.

Example:
    >>> cards = list_models()
    >>> cards[0].name, cards[0].generator_version >= 1
    ('affine-hepmass', True)
    >>> model = load_zoo_model("pnn-hepmass")
    >>> model.training_masses
    (500.0, 750.0, 1000.0, 1250.0, 1500.0)
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hep_pnn._io import atomic_dir
from hep_pnn.errors import ConfigError
from hep_pnn.models import load_model
from hep_pnn.run_files import CONFIG_FILE, HISTORY_CSV, MODEL_DIR
from hep_pnn.scorer import Scorer
from hep_pnn.zoo.recipes import FOUR_TOP_FILE, RECIPES, FourTopData

__all__ = [
    "CARD_FILE",
    "ZOO_DIR",
    "ModelCard",
    "describe_card",
    "export_model",
    "list_models",
    "load_zoo_model",
    "model_card",
    "model_path",
    "write_four_top_events",
]

#: The folder holding one sub-folder per shipped model.
ZOO_DIR = Path(__file__).parent / "models"
#: The card of a zoo model, next to its run files.
CARD_FILE = "zoo.json"
#: The run files a zoo model ships (and ``export`` copies).
RUN_FILES = (CONFIG_FILE, HISTORY_CSV, MODEL_DIR, CARD_FILE)


@dataclass(frozen=True)
class ModelCard:
    """What a zoo model is, how it was trained and how good it was on its test sample."""

    name: str
    title: str
    summary: str
    preset: str
    seed: int
    generator_version: int
    package_version: str
    test_auc: dict[float, float]
    test_events: dict[str, int]
    parameters: int
    weights_bytes: int
    epochs: int
    training_seconds: float
    cpu_model: str
    date: str
    command: str
    references: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The card as JSON (masses as strings, as JSON keys must be)."""
        raw = asdict(self)
        raw["test_auc"] = {f"{mass:g}": auc for mass, auc in self.test_auc.items()}
        return json.dumps(raw, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        """Read a card written by :meth:`to_json`."""
        raw = json.loads(text)
        raw["test_auc"] = {float(mass): float(auc) for mass, auc in raw["test_auc"].items()}
        return cls(**raw)


def _unknown(name: str) -> ConfigError:
    return ConfigError(
        f"no zoo model named {name!r}",
        where="model name",
        fix=f"use one of {', '.join(RECIPES)} (pnn zoo list)",
    )


def model_path(name: str) -> Path:
    """The shipped run directory of zoo model ``name`` (read-only: export it to change it)."""
    path = ZOO_DIR / name
    if name not in RECIPES or not (path / CARD_FILE).is_file():
        raise _unknown(name)
    return path


def model_card(name: str) -> ModelCard:
    """The card of zoo model ``name``; raises ``ConfigError`` naming the known models."""
    return ModelCard.from_json((model_path(name) / CARD_FILE).read_text())


def list_models() -> list[ModelCard]:
    """The cards of every shipped model, in recipe order."""
    return [model_card(name) for name in RECIPES if (ZOO_DIR / name / CARD_FILE).is_file()]


def load_zoo_model(name: str) -> Scorer:
    """The trained model ``name`` (a network or a per-mass ensemble), ready to ``predict``."""
    model: Scorer = load_model(model_path(name) / MODEL_DIR)
    return model


def export_model(name: str, output: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Copy zoo model ``name`` to ``output`` as a run directory for ``pnn evaluate``/``apply``.

    A four-top model also gets its events (``four_top.parquet``, re-generated from the
    recorded seed), which its ``config.yaml`` reads, so ``pnn evaluate`` finds its test split.
    """
    source = model_path(name)
    recipe = RECIPES[name]
    with atomic_dir(output, overwrite=overwrite, option="--output") as tmp:
        for item in RUN_FILES:
            if (source / item).is_dir():
                shutil.copytree(source / item, tmp / item)
            else:
                shutil.copy2(source / item, tmp / item)
        if recipe.four_top is not None:
            write_four_top_events(recipe.four_top, tmp / FOUR_TOP_FILE)
    return Path(output)


def write_four_top_events(spec: FourTopData, path: Path) -> Path:
    """The four-top events a recipe trains on, re-generated from its seed, as Parquet."""
    from hep_pnn.data.four_top import generate_four_top, write_four_top

    frame = generate_four_top(n_events=spec.n_events, zprime_mass=spec.zprime_mass, seed=spec.seed)
    return write_four_top(frame, path)


def describe_card(card: ModelCard) -> str:
    """A few lines for people: what the model is, its recipe and its test AUC per mass.

    Example:
        >>> print(describe_card(model_card("pnn-hepmass")).splitlines()[0])
        pnn-hepmass: Baldi pNN on HEPMASS-like events
    """
    auc = ", ".join(f"{mass:g}: {value:.4f}" for mass, value in card.test_auc.items())
    events = ", ".join(f"{key} {value:,}" for key, value in card.test_events.items())
    lines = [
        f"{card.name}: {card.title}",
        f"  model:        preset {card.preset} ({card.summary}); {card.parameters:,} parameters, "
        f"{card.weights_bytes / 1024:.0f} kB of weights",
        f"  trained:      {card.epochs} epochs, seed {card.seed}, generator version "
        f"{card.generator_version}, hep-pnn {card.package_version}; "
        f"{card.training_seconds:.0f} s on {card.cpu_model} ({card.date})",
        f"  test AUC:     {auc}",
        f"  test sample:  {events}",
        f"  reproduce:    {card.command}",
        f"  use:          pnn zoo export {card.name} -o DIR; pnn evaluate DIR; "
        "pnn apply DIR FILES --masses ... -o scores.parquet",
    ]
    lines += [f"  reference:    {reference}" for reference in card.references]
    return "\n".join(lines)
