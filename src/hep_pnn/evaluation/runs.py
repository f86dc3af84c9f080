"""Evaluate a whole model or training run, and write / read ``RUN_DIR/evaluation/``.

``evaluate_scorer`` (any model and test table) and ``evaluate_run`` (a ``TrainedRun``) return
a :class:`RunEvaluation`; :func:`write_evaluation` saves it atomically as ``metrics.json``,
``metrics.md`` and PNG plots; :func:`load_evaluation` reads it back for the HTML report.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from hep_pnn._io import atomic_dir
from hep_pnn._random import SeedLike
from hep_pnn.data.features import MWWBB_FEATURE
from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError, DataError
from hep_pnn.evaluation.masses import MassMetrics, auc_vs_mass, evaluate_masses
from hep_pnn.evaluation.plots import (
    figure_png,
    plot_auc_vs_mass,
    plot_history,
    plot_representation,
    plot_roc,
    plot_score_distribution,
    plot_sculpting,
    plot_style,
)
from hep_pnn.evaluation.representation import Representation2D, representation_2d
from hep_pnn.evaluation.scoring import ScoresLike
from hep_pnn.evaluation.sculpting import SculptingResult, sculpting_from_sample
from hep_pnn.run_files import CONFIG_FILE, EVALUATION_DIR, HISTORY_CSV, METRICS_JSON, METRICS_MD

__all__ = [
    "RunEvaluation",
    "evaluate_run",
    "evaluate_scorer",
    "load_evaluation",
    "render_figures",
    "write_evaluation",
]

#: The plots of an evaluation, in the order they are shown.
FIGURES = (
    "roc.png",
    "scores.png",
    "auc_vs_mass.png",
    "history.png",
    "sculpting.png",
    "representation.png",
)


@dataclass
class RunEvaluation:
    """Everything the evaluation of one model produced.

    Attributes:
        name: model or run name (the run directory's name for runs).
        metrics: per-mass metrics (:func:`~hep_pnn.evaluation.evaluate_masses`).
        grid: metrics on a fine mass grid (:func:`~hep_pnn.evaluation.auc_vs_mass`), if made.
        sculpting: one :class:`SculptingResult` per evaluated mass.
        history: training history (epoch, train_loss, val_loss, val_auc_mean, ...), if any.
        representation: 2-D map of the last hidden layer, for networks.
        config_text: the run's configuration as YAML text.
        figures: PNG bytes by file name; filled by :func:`render_figures` or when loading.
    """

    name: str
    metrics: MassMetrics
    grid: pd.DataFrame | None = None
    sculpting: list[SculptingResult] = field(default_factory=list)
    history: pd.DataFrame | None = None
    representation: Representation2D | None = None
    config_text: str = ""
    figures: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def training_masses(self) -> tuple[float, ...]:
        return self.metrics.training_masses

    def to_dict(self) -> dict[str, Any]:
        """The JSON content of ``metrics.json``."""
        data = {"name": self.name, **self.metrics.to_dict()}
        data["grid"] = None if self.grid is None else MassMetrics(self.grid).to_dict()["masses"]
        data["sculpting"] = [result.summary() for result in self.sculpting]
        return data


def evaluate_scorer(
    scorer_or_scores: ScoresLike,
    table: EventTable,
    *,
    name: str = "model",
    masses: Iterable[float] | None = None,
    training_masses: Iterable[float] | None = None,
    grid: Iterable[float] | None = None,
    signal_factory: Callable[[float], EventTable] | None = None,
    bootstrap: int = 0,
    seed: SeedLike = 0,
    representation: Literal["pca", "tsne"] | None = "pca",
    history: pd.DataFrame | None = None,
    config_text: str = "",
) -> RunEvaluation:
    """Per-mass metrics, sculpting, optional mass grid and hidden-layer map of one model.

    Args:
        scorer_or_scores: a scorer, a callable ``f(features, mass)`` or precomputed scores.
        table: test events.
        name: name shown in tables and plots.
        masses: hypotheses to evaluate (default: the signal masses in ``table``).
        training_masses: default ``scorer.training_masses``.
        grid: fine mass grid; needs ``signal_factory`` (see :func:`auc_vs_mass`).
        bootstrap, seed: bootstrap replicas for uncertainties, and their seed.
        representation: ``"pca"``, ``"tsne"`` or ``None``; only for networks.
        history, config_text: copied into the result for plots and the report.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(300, 1)) + np.repeat([1.0, 0.0], 150)[:, None]
        >>> t = EventTable.from_arrays(x, label=np.repeat([1, 0], 150), mass=np.full(300, 500),
        ...                            feature_names=["f26"])
        >>> ev = evaluate_scorer(lambda f, m: f[:, 0], t, name="cut")
        >>> ev.metrics.frame.mass.tolist(), bool(ev.sculpting[0].js_divergence > 0.05)
        ([500.0], True)
    """
    if representation not in (None, "pca", "tsne"):
        raise ConfigError(
            f"unknown hidden-layer map {representation!r}",
            where="--representation",
            fix="use pca, tsne or none",
        )
    metrics = evaluate_masses(
        scorer_or_scores,
        table,
        masses=masses,
        training_masses=training_masses,
        bootstrap=bootstrap,
        seed=seed,
    )
    results = []
    if MWWBB_FEATURE in table.feature_names:
        values = table.select(~table.is_signal).column(MWWBB_FEATURE)
        results = [sculpting_from_sample(sample, values) for sample in metrics.samples.values()]
    grid_frame = None
    if grid is not None:
        if signal_factory is None:
            raise DataError(
                "a mass grid needs a way to make signal at each grid mass",
                where="grid",
                fix="pass signal_factory (e.g. one built on hep_pnn.data.generate)",
            )
        grid_frame = auc_vs_mass(
            scorer_or_scores,
            masses=grid,
            signal_factory=signal_factory,
            background=table,
            training_masses=metrics.training_masses,
        )
    embedding = None
    if representation and hasattr(scorer_or_scores, "hidden_representation"):
        embedding = representation_2d(scorer_or_scores, table, method=representation, seed=seed)
    return RunEvaluation(
        name=name,
        metrics=metrics,
        grid=grid_frame,
        sculpting=results,
        history=history,
        representation=embedding,
        config_text=config_text,
    )


def _config_text(config: Any) -> str:
    if hasattr(config, "to_yaml"):
        return config.to_yaml()
    if hasattr(config, "model_dump"):
        config = config.model_dump(mode="json")
    return config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False)


def evaluate_run(
    run: Any,
    *,
    data: EventTable | None = None,
    name: str | None = None,
    **options: Any,
) -> RunEvaluation:
    """:func:`evaluate_scorer` on a ``TrainedRun`` (from ``hep_pnn.training.load_run``).

    Uses the run's held-out test data unless ``data`` is given, and carries over its
    history, configuration and training masses. ``options`` go to :func:`evaluate_scorer`.
    """
    table = run.load_test_data() if data is None else data
    directory = getattr(run, "run_dir", None)
    return evaluate_scorer(
        run.model,
        table,
        name=name or (Path(directory).name if directory else "run"),
        training_masses=options.pop("training_masses", run.training_masses),
        history=getattr(run, "history", None),
        config_text=_config_text(getattr(run, "config", "")),
        **options,
    )


def _grid_of_axes(count: int, *, columns: int = 3, size: float = 7.0) -> list[Axes]:
    columns = min(columns, max(count, 1))
    rows = -(-count // columns)
    with plot_style():
        # Fixed margins: a layout engine doubles the drawing time of these panel grids.
        width, height = size * columns, 0.8 * size * rows
        figure = Figure(figsize=(width, height))
        # Margins in inches, for tick labels and axis titles of the CMS style.
        figure.subplots_adjust(
            left=1.7 / width,
            right=1 - 0.3 / width,
            bottom=1.0 / height,
            top=1 - 0.5 / height,
            wspace=0.45,
            hspace=0.45,
        )
        axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for unused in axes[count:]:
        unused.set_visible(False)
    return list(axes[:count])


def render_figures(evaluation: RunEvaluation) -> dict[str, bytes]:
    """Draw every plot the evaluation supports; PNG bytes by file name (also stored on it)."""
    figures = {}
    if evaluation.metrics.samples:
        figures["roc.png"] = figure_png(plot_roc(evaluation.metrics))
        samples = list(evaluation.metrics.samples.values())
        axes = _grid_of_axes(len(samples))
        for sample, ax in zip(samples, axes, strict=True):
            plot_score_distribution(sample, ax=ax)
        figures["scores.png"] = figure_png(axes[0])
    curve = evaluation.grid if evaluation.grid is not None else evaluation.metrics.frame
    figures["auc_vs_mass.png"] = figure_png(
        plot_auc_vs_mass(
            {evaluation.name: curve}, training_masses={evaluation.name: evaluation.training_masses}
        )
    )
    if evaluation.history is not None and len(evaluation.history):
        figures["history.png"] = figure_png(plot_history(evaluation.history))
    if evaluation.sculpting:
        axes = _grid_of_axes(len(evaluation.sculpting))
        for result, ax in zip(evaluation.sculpting, axes, strict=True):
            plot_sculpting(result, ax=ax)
        figures["sculpting.png"] = figure_png(axes[0])
    if evaluation.representation is not None:
        axes = _grid_of_axes(2, columns=2)
        plot_representation(evaluation.representation, color_by="mass", ax=axes[0])
        plot_representation(evaluation.representation, color_by="label", ax=axes[1])
        figures["representation.png"] = figure_png(axes[0])
    evaluation.figures = figures
    return figures


def write_evaluation(
    evaluation: RunEvaluation, directory: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write ``metrics.json``, ``metrics.md`` and the PNG plots into ``directory`` atomically.

    Returns the directory. Refuses an existing one unless ``overwrite``.
    """
    figures = evaluation.figures or render_figures(evaluation)
    with atomic_dir(directory, overwrite=overwrite, option="evaluation folder") as tmp:
        (tmp / METRICS_JSON).write_text(json.dumps(evaluation.to_dict(), indent=2) + "\n")
        (tmp / METRICS_MD).write_text(evaluation.metrics.to_markdown() + "\n")
        for file_name, png in figures.items():
            (tmp / file_name).write_bytes(png)
    return Path(directory)


def load_evaluation(run_dir: str | os.PathLike[str]) -> RunEvaluation:
    """Read what :func:`write_evaluation` wrote under ``RUN_DIR/evaluation`` (plus the run's
    ``config.yaml`` and ``history.csv`` when present)."""
    run_dir = Path(run_dir)
    folder = run_dir if (run_dir / METRICS_JSON).is_file() else run_dir / EVALUATION_DIR
    if folder == run_dir:
        run_dir = run_dir.parent
    metrics_file = folder / METRICS_JSON
    if not metrics_file.is_file():
        raise DataError(
            f"no evaluation found in {run_dir} (missing {metrics_file})",
            where="report input",
            fix=f"run `pnn evaluate {run_dir}` first",
        )
    try:
        data: Mapping[str, Any] = json.loads(metrics_file.read_text())
        metrics = MassMetrics.from_dict(dict(data))
    except (ValueError, KeyError) as err:
        raise DataError(
            f"unreadable metrics file: {err}", where=str(metrics_file), fix="re-run pnn evaluate"
        ) from None
    grid = (
        None
        if not data.get("grid")
        else MassMetrics.from_dict({"training_masses": [], "masses": data["grid"]}).frame
    )
    history_file, config_file = run_dir / HISTORY_CSV, run_dir / CONFIG_FILE
    return RunEvaluation(
        name=str(data.get("name") or run_dir.name),
        metrics=metrics,
        grid=grid,
        history=pd.read_csv(history_file) if history_file.is_file() else None,
        config_text=config_file.read_text() if config_file.is_file() else "",
        figures={
            name: (folder / name).read_bytes() for name in FIGURES if (folder / name).is_file()
        },
    )
