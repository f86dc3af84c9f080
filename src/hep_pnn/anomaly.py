"""``pnn anomaly``: an autoencoder trained on one class flags the other, in both directions.

On HEPMASS-like events (generated or read as for ``pnn train``): trained on background, the
signal of each mass is the anomaly; trained on signal (every mass together), the background
is (the inverse task of Finke et al.). For each direction the output folder gets the model,
the history, ROC curves and the score against the protected mass (m_WWbb), and one
``metrics.json`` / ``metrics.md`` for all: ROC-AUC and rejection per mass, and the distance
correlation between score and mass on the training class (how much of the mass the
autoencoder learned).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hep_pnn._io import atomic_dir, check_writable
from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError, from_validation_error
from hep_pnn.evaluation.anomaly import anomaly_metrics, anomaly_samples, plot_score_vs_mass
from hep_pnn.evaluation.plots import figure_png, plot_roc
from hep_pnn.evaluation.scoring import MassSample
from hep_pnn.models.autoencoder import Autoencoder, build_autoencoder, save_autoencoder
from hep_pnn.training.autoencoder import (
    AutoencoderTraining,
    AutoencoderTrainingConfig,
    train_autoencoder,
)
from hep_pnn.training.config import DataSection, ExperimentConfig, GeneratedData, apply_overrides
from hep_pnn.training.datasets import load_experiment_data
from hep_pnn.training.decorrelation import distance_correlation

__all__ = [
    "AnomalyConfig",
    "DenseSection",
    "load_anomaly_config",
    "run_anomaly",
    "train_and_score",
]

Direction = Literal["background", "signal"]
_BOTH: tuple[Direction, ...] = ("background", "signal")


class DenseSection(BaseModel):
    """The dense autoencoder of ``pnn anomaly`` and the features it does not see."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hidden: tuple[int, ...] = (64, 32)
    latent: int = Field(6, gt=0)
    exclude: list[str] = Field(default_factory=list)


class AnomalyConfig(BaseModel):
    """``data`` (as for ``pnn train``), ``model``, ``training``, the directions, the mass.

    Example:
        >>> AnomalyConfig().train_on
        ['background', 'signal']
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    data: DataSection = Field(default_factory=GeneratedData)
    model: DenseSection = Field(default_factory=DenseSection)
    training: AutoencoderTrainingConfig = Field(default_factory=AutoencoderTrainingConfig)
    train_on: list[Direction] = Field(default_factory=lambda: list(_BOTH), min_length=1)
    protected: str = "f26"


def load_anomaly_config(
    path: str | os.PathLike[str] | None = None, overrides: list[str] | None = None
) -> AnomalyConfig:
    """Read and validate an anomaly YAML file (``None``: every default) plus overrides.

    Example:
        >>> load_anomaly_config(None, ["training.epochs=2"]).training.epochs
        2
    """
    where = "default config" if path is None else str(path)
    raw: Any = {}
    if path is not None:
        try:
            raw = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"cannot read the config: {err}", where=where) from None
    raw = apply_overrides(raw, list(overrides or []))
    if isinstance(raw.get("data"), dict):
        raw["data"] = {"source": "generate", **raw["data"]}
    try:
        return AnomalyConfig.model_validate(raw)
    except ValidationError as err:
        raise from_validation_error(err, where=where, fix="see docs/anomaly.md") from None


def train_and_score(
    kind: str,
    normal: np.ndarray,
    test: np.ndarray,
    *,
    model_options: dict[str, Any] | None = None,
    training: AutoencoderTrainingConfig | None = None,
    protected: np.ndarray | None = None,
    log: Callable[[str], None] = print,
) -> tuple[Autoencoder, np.ndarray, AutoencoderTraining]:
    """Train the autoencoder ``kind`` on ``normal`` events, return it and ``test``'s scores.

    Works on any array per event: features ``(n, f)``, jet constituents ``(n, 200, 4)``
    (``dense``), jet images ``(n, 40, 40)`` (``conv``); ``protected`` (one value per normal
    event, e.g. the jet mass) is needed with ``training.disco_strength > 0``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> images = rng.random((64, 8, 8)).astype(np.float32)
        >>> model, score, run = train_and_score(
        ...     "conv", images, images[:5], model_options={"channels": (2, 2), "latent": 3},
        ...     training=AutoencoderTrainingConfig(epochs=1), log=lambda line: None)
        >>> model.kind, score.shape
        ('conv', (5,))
    """
    training = training or AutoencoderTrainingConfig()
    options = {"seed": training.seed, **(model_options or {})}
    model = build_autoencoder(kind, normal.shape[1:], **options)
    run = train_autoencoder(model, normal, config=training, protected=protected, log=log)
    return model, model.score(test), run


def _inputs(table: EventTable, exclude: list[str]) -> np.ndarray:
    keep = [i for i, name in enumerate(table.feature_names) if name not in exclude]
    return np.ascontiguousarray(table.features[:, keep])


def _mass_dependence(score: np.ndarray, mass: np.ndarray, *, seed: int) -> float:
    """dCorr² between log score and mass on (at most 2,000 of) the given events."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(score), min(len(score), 2000), replace=False)
    log_score = torch.from_numpy(np.log(score[rows] + 1e-12))
    return float(distance_correlation(log_score, torch.from_numpy(mass[rows].astype(np.float64))))


def _samples(score: np.ndarray, test: EventTable, direction: Direction) -> dict[float, MassSample]:
    if direction == "background":
        return anomaly_samples(score, ~test.is_signal, test.mass, weight=test.weight)
    samples = {}
    for mass in test.signal_masses:  # the signal of one mass is normal, the background anomalous
        keep = ~test.is_signal | (test.mass == mass)
        inverse = anomaly_samples(
            score[keep],
            test.is_signal[keep],
            np.full(int(keep.sum()), mass),
            weight=test.weight[keep],
        )
        samples[float(mass)] = inverse[float(mass)]
    return samples


def _one_direction(
    config: AnomalyConfig,
    train: EventTable,
    test: EventTable,
    direction: Direction,
    folder: Path,
    log: Callable[[str], None],
) -> dict[str, Any]:
    normal = ~train.is_signal if direction == "background" else train.is_signal
    log(f"autoencoder trained on {direction} ({int(normal.sum())} events)")
    model, score, run = train_and_score(
        "dense",
        _inputs(train, config.model.exclude)[normal],
        _inputs(test, config.model.exclude),
        model_options={"hidden": config.model.hidden, "latent": config.model.latent},
        training=config.training,
        protected=train.column(config.protected)[normal],
        log=log,
    )
    save_autoencoder(model, folder / "model")
    pd.DataFrame(run.history).to_csv(folder / "history.csv", index=False)
    samples = _samples(score, test, direction)
    roc = plot_roc(samples)
    roc.set(xlabel=f"{direction.capitalize()} efficiency (normal)", ylabel="Anomaly efficiency")
    (folder / "roc.png").write_bytes(figure_png(roc))
    mass = test.column(config.protected)
    classes = {"background": ~test.is_signal}
    classes.update(
        {f"signal {m:g} GeV": test.is_signal & (test.mass == m) for m in test.signal_masses}
    )
    (folder / "score_vs_mass.png").write_bytes(figure_png(plot_score_vs_mass(score, mass, classes)))
    test_normal = ~test.is_signal if direction == "background" else test.is_signal
    return {
        "best_epoch": run.best_epoch,
        "mass_dependence": _mass_dependence(score[test_normal], mass[test_normal], seed=0),
        "per_mass": {f"{m:g}": v for m, v in anomaly_metrics(samples).items()},
    }


def _markdown(results: dict[str, dict[str, Any]], protected: str) -> str:
    lines = [
        "| trained on | anomaly | mass (GeV) | ROC-AUC | rejection at 50 % | "
        f"dCorr²(log score, {protected}) on the training class |",
        "|---|---|---|---|---|---|",
    ]
    for direction, result in results.items():
        other = "signal" if direction == "background" else "background"
        for mass, metrics in result["per_mass"].items():
            lines.append(
                f"| {direction} | {other} | {mass} | {metrics['roc_auc']:.3f} | "
                f"{metrics['rejection_50']:.2f} | {result['mass_dependence']:.3f} |"
            )
    return "\n".join(lines) + "\n"


def run_anomaly(
    config: AnomalyConfig,
    output: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, dict[str, Any]]:
    """Train and evaluate the autoencoders of ``config``; write everything to ``output``.

    Returns ``{direction: {"best_epoch", "mass_dependence", "per_mass": {mass: metrics}}}``.

    Example (tests/test_anomaly.py runs it through ``pnn anomaly``):
        >>> config = load_anomaly_config(None, ["data.masses=[750]", "training.epochs=1"])
        >>> config.train_on, config.protected
        (['background', 'signal'], 'f26')
    """
    check_writable(output, overwrite=overwrite)  # before the (slow) data
    experiment = ExperimentConfig(data=config.data)
    train, test = load_experiment_data(experiment)
    for name in [config.protected, *config.model.exclude]:
        if name not in train.feature_names:
            raise ConfigError(
                f"no feature {name!r} in the data",
                where="protected" if name == config.protected else "model.exclude",
                fix=f"choose among {', '.join(train.feature_names)}",
            )
    results: dict[str, dict[str, Any]] = {}
    with atomic_dir(output, overwrite=overwrite) as folder:
        (folder / "config.yaml").write_text(
            yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
        )
        for direction in config.train_on:
            (folder / f"trained_on_{direction}").mkdir()
            results[direction] = _one_direction(
                config, train, test, direction, folder / f"trained_on_{direction}", log
            )
        (folder / "metrics.json").write_text(json.dumps(results, indent=1))
        (folder / "metrics.md").write_text(_markdown(results, config.protected))
    return results
