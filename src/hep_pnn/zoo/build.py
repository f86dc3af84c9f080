"""Train the zoo (``make zoo``, ``benchmarks/zoo.py``) and check it against fresh events.

:func:`train_zoo_model` runs a recipe of :mod:`hep_pnn.zoo.recipes` through
``train_experiment``, measures the per-mass AUC on the run's held-out test sample and
writes the shipped run files plus the card. :func:`fresh_auc` scores a zoo model on newly
generated events, which is how the tests notice stale weights after a generator change.
"""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from safetensors import safe_open

from hep_pnn import __version__
from hep_pnn._io import atomic_dir
from hep_pnn.data.table import EventTable
from hep_pnn.evaluation.masses import evaluate_masses
from hep_pnn.models.serialization import load_model
from hep_pnn.run_files import CONFIG_FILE, HISTORY_CSV, MODEL_DIR, MODEL_WEIGHTS
from hep_pnn.scorer import Scorer
from hep_pnn.training.config import ExperimentConfig
from hep_pnn.zoo.catalogue import CARD_FILE, ModelCard, load_zoo_model, write_four_top_events
from hep_pnn.zoo.recipes import FOUR_TOP_FILE, RECIPES, ZooRecipe

__all__ = ["fresh_auc", "per_mass_auc", "train_zoo_model"]


def per_mass_auc(model: Scorer, table: EventTable) -> dict[float, float]:
    """Unweighted ROC AUC at each signal mass of ``table`` (all its background at that mass).

    Example:
        >>> from hep_pnn.data import generate
        >>> table = generate(masses=[1000.0], n_signal_per_mass=300, n_background=300, seed=3)
        >>> auc = per_mass_auc(load_zoo_model("pnn-hepmass"), table)
        >>> list(auc), bool(auc[1000.0] > 0.9)
        ([1000.0], True)
    """
    frame = evaluate_masses(model, table).frame
    return {
        float(m): round(float(a), 5) for m, a in zip(frame["mass"], frame["roc_auc"], strict=True)
    }


def _fresh_table(recipe: ZooRecipe, *, size: int, seed: int) -> EventTable:
    if recipe.four_top is not None:
        from hep_pnn.data.four_top import four_top_table

        spec = recipe.four_top
        return four_top_table(n_events=size, zprime_mass=spec.zprime_mass, seed=seed)
    from hep_pnn.data.generator import generate

    data = recipe.config().data
    masses = list(getattr(data, "masses", ()))
    return generate(
        masses=masses, n_signal_per_mass=size, n_background=size * len(masses), seed=seed
    )


def fresh_auc(name: str, *, size: int = 4000, seed: int = 12345) -> dict[float, float]:
    """Per-mass AUC of zoo model ``name`` on events generated now with ``seed``.

    ``size`` is the signal events per mass (background: ``size`` × the number of masses);
    for a four-top model, the number of events (4 tops each).
    """
    recipe = RECIPES[name]
    return per_mass_auc(load_zoo_model(name), _fresh_table(recipe, size=size, seed=seed))


def _parameters(weights: Path) -> int:
    with safe_open(str(weights), framework="numpy") as handle:
        names = [key for key in handle.keys() if "preprocessing" not in key]
        return int(sum(np.prod(handle.get_slice(key).get_shape()) for key in names))


def _card(
    recipe: ZooRecipe,
    config: ExperimentConfig,
    auc: dict[float, float],
    test: EventTable,
    folder: Path,
    *,
    seconds: float,
) -> ModelCard:
    from hep_pnn.data.generator import GENERATOR_VERSION

    weights = folder / MODEL_DIR / MODEL_WEIGHTS
    return ModelCard(
        name=recipe.name,
        title=recipe.title,
        summary=recipe.summary,
        preset=str(config.model.preset),
        seed=config.training.seed,
        generator_version=GENERATOR_VERSION,
        package_version=__version__,
        test_auc=auc,
        test_events={
            "signal": int(test.is_signal.sum()),
            "background": int((~test.is_signal).sum()),
        },
        parameters=_parameters(weights),
        weights_bytes=weights.stat().st_size,
        epochs=config.training.epochs,
        training_seconds=round(seconds, 1),
        cpu_model="",
        date=datetime.date.today().isoformat(),
        command="make zoo",
        references=list(recipe.references),
        data={"four_top": vars(recipe.four_top)} if recipe.four_top else {},
    )


def train_zoo_model(
    name: str,
    output: str | os.PathLike[str],
    *,
    cpu_model: str = "",
    command: str = "make zoo",
    overwrite: bool = False,
    progress: bool = False,
) -> ModelCard:
    """Train zoo model ``name`` from its recipe and write its run files and card to ``output``."""
    from hep_pnn.training.runs import train_experiment

    recipe = RECIPES[name]
    with tempfile.TemporaryDirectory(prefix="pnn-zoo-") as work:
        data_path = Path(work) / FOUR_TOP_FILE
        if recipe.four_top is not None:
            write_four_top_events(recipe.four_top, data_path)
        config = recipe.config(data_path=str(data_path))
        start = time.perf_counter()
        run = train_experiment(config, Path(work) / "run", progress=progress)
        seconds = time.perf_counter() - start
        test = run.load_test_data()
        auc = per_mass_auc(run.model, test)
        with atomic_dir(output, overwrite=overwrite, option="output") as tmp:
            shutil.copytree(run.run_dir / MODEL_DIR, tmp / MODEL_DIR)
            shutil.copy2(run.run_dir / HISTORY_CSV, tmp / HISTORY_CSV)
            raw: dict[str, Any] = config.model_dump(mode="json")
            if recipe.four_top is not None:  # read next to the exported run (export writes it)
                raw["data"]["paths"] = [FOUR_TOP_FILE]
            (tmp / CONFIG_FILE).write_text(yaml.safe_dump(raw, sort_keys=False))
            card = _card(recipe, config, auc, test, tmp, seconds=seconds)
            card = replace(card, cpu_model=cpu_model, command=command)
            (tmp / CARD_FILE).write_text(card.to_json())
            load_model(tmp / MODEL_DIR)  # the shipped files load
    return card
