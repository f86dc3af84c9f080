"""Evaluate a jet-tagger run: metrics on its held-out jets (or given files) and plots,
written to ``RUN_DIR/evaluation`` like the networks' evaluations.

A parametric tagger is evaluated at each signal parameter value ``p``: the signal jets at
``p`` against every background jet — or, when the background jets carry their own values
(QCD generated in each Z′ mass's pT window), against those at ``p`` — all scored with the
hypothesis ``p``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure

from hep_pnn._io import atomic_dir, check_writable
from hep_pnn._tables import markdown_table
from hep_pnn.data.jets.images import jet_images
from hep_pnn.evaluation.jet_metrics import pixel_correlation, tagger_metrics
from hep_pnn.evaluation.jet_plots import plot_jet_image, plot_pixel_correlation, plot_rejection
from hep_pnn.evaluation.jet_report import SCORES_FILE
from hep_pnn.evaluation.plots import figure_png, plot_style
from hep_pnn.models.jets import JetScorer
from hep_pnn.run_files import CONFIG_FILE, EVALUATION_DIR, METRICS_JSON, METRICS_MD

__all__ = ["evaluate_jet_run", "is_jet_run", "jet_figures", "score_jets"]

Curves = dict[str, tuple[np.ndarray, np.ndarray]]


def is_jet_run(run_dir: str | os.PathLike[str]) -> bool:
    """Whether ``run_dir`` holds a run trained on jets (``data.source: jets``).

    Example:
        >>> is_jet_run("/no/such/run")
        False
    """
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        return False
    raw = yaml.safe_load(path.read_text()) or {}
    return isinstance(raw.get("data"), dict) and raw["data"].get("source") == "jets"


def score_jets(tagger: JetScorer, data: object) -> tuple[pd.DataFrame, Curves]:
    """Metrics table (one row per sample) and ``name → (score, label)`` of ``data``
    (:class:`~hep_pnn.training.jet_data.LabelledJets`)."""
    from hep_pnn.training.jet_data import LabelledJets

    assert isinstance(data, LabelledJets)
    jets = data.jets
    curves: Curves = {}
    if not tagger.parametric or data.parameter is None:
        curves["all jets"] = (tagger.predict_jets(jets), jets.labels)
    else:
        signal = jets.labels == 1
        for value in np.unique(data.parameter[signal]):
            here = signal & (data.parameter == value)
            # background generated at each hypothesis: its own jets; else every jet
            against = ~signal & ((data.parameter == value) | (not data.own_background))
            background = jets.constituents[against]
            scores = np.concatenate(
                [
                    tagger.predict(jets.constituents[here], np.full(int(here.sum()), value)),
                    tagger.predict(background, np.full(len(background), value)),
                ]
            )
            labels = np.r_[np.ones(int(here.sum()), np.int8), np.zeros(len(background), np.int8)]
            curves[f"parameter {value:g}"] = (scores, labels)
    table = pd.DataFrame({name: tagger_metrics(*curve) for name, curve in curves.items()}).T
    table.index.name = "sample"
    return table, curves


def jet_figures(tagger: JetScorer, data: object, curves: Curves) -> dict[str, bytes]:
    """``rejection.png``, ``jet_images.png`` (mean top and QCD images) and
    ``pixel_correlation.png`` (each pixel against the tagger output)."""
    from hep_pnn.training.jet_data import LabelledJets

    assert isinstance(data, LabelledJets)
    figures = {"rejection.png": figure_png(plot_rejection(curves))}
    images = jet_images(data.jets.constituents)
    labels = data.jets.labels
    with plot_style():
        axes = Figure(figsize=(15, 6), layout="constrained").subplots(1, 2)
    for ax, (label, name) in zip(axes, ((1, "top"), (0, "QCD")), strict=True):
        mean = images[labels == label].mean(axis=0)
        plot_jet_image(mean, title=f"mean {name} jet ({int((labels == label).sum())} jets)", ax=ax)
    figures["jet_images.png"] = figure_png(axes[0])
    score = next(iter(curves.values()))[0] if not tagger.parametric else None
    if score is not None:
        correlation = pixel_correlation(images, score)
        figures["pixel_correlation.png"] = figure_png(plot_pixel_correlation(correlation))
    return figures


def evaluate_jet_run(
    run_dir: str | os.PathLike[str],
    *,
    data: Sequence[str | os.PathLike[str]] = (),
    overwrite: bool = False,
) -> tuple[pd.DataFrame, Path]:
    """Metrics and plots of a jet run on its test jets (or the jet files ``data``), written
    to ``RUN_DIR/evaluation`` (``metrics.json``, ``metrics.md``, ``scores.parquet``, PNGs);
    nothing is written unless everything succeeds."""
    from hep_pnn.training.config import JetData
    from hep_pnn.training.jet_data import load_labelled_jets, read_jet_files, with_parameter
    from hep_pnn.training.runs import load_run

    run_dir = Path(run_dir)
    run = load_run(run_dir)
    output = check_writable(run_dir / EVALUATION_DIR, overwrite=overwrite, option="--overwrite")
    config = cast(JetData, run.config.data)
    tagger = cast(JetScorer, run.model)
    jets = (
        with_parameter(
            read_jet_files(data, columns=[config.parameter] if config.parameter else []),
            config,
            seed=config.seed,
        )
        if data
        else load_labelled_jets(config, test=True)
    )
    table, curves = score_jets(tagger, jets)
    figures = jet_figures(tagger, jets, curves)
    with atomic_dir(output, overwrite=overwrite, option="evaluation folder") as tmp:
        records = json.loads(table.to_json(orient="index"))
        (tmp / METRICS_JSON).write_text(
            json.dumps({"tagger": run.config.model.preset, "metrics": records}, indent=2) + "\n"
        )
        (tmp / METRICS_MD).write_text(markdown_table(table, index_name="sample") + "\n")
        for name, png in figures.items():
            (tmp / name).write_bytes(png)
        scores = [
            pd.DataFrame({"sample": name, "score": score, "label": label})
            for name, (score, label) in curves.items()
        ]
        pd.concat(scores, ignore_index=True).to_parquet(tmp / SCORES_FILE)
    return table, output
