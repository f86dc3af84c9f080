"""Plots draw what they should on the given axes and leave the global style alone."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest

from hep_pnn.evaluation import (
    evaluate_masses,
    plot_auc_vs_mass,
    plot_history,
    plot_representation,
    plot_roc,
    plot_score_distribution,
    plot_sculpting,
    representation_2d,
    sculpting,
)
from hep_pnn.evaluation.plots import figure_png, new_axes
from test_evaluation_metrics import MASSES, ToyScorer, toy_table


@pytest.fixture(scope="module")
def metrics():
    return evaluate_masses(ToyScorer(), toy_table())


def test_roc_one_curve_per_mass(metrics) -> None:
    ax = plot_roc(metrics)
    lines = ax.get_lines()
    assert len(lines) == len(MASSES) + 1
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    auc = metrics.frame["roc_auc"].tolist()
    assert labels[0] == f"m = 500 GeV (AUC {auc[0]:.3f})"
    x, y = lines[0].get_data()
    assert x[0] == 0 and x[-1] == 1 and y[-1] == 1


def test_score_distribution_draws_on_given_axes(metrics) -> None:
    ax = new_axes()
    assert plot_score_distribution(metrics.samples[1000.0], ax=ax) is ax
    signal, background = ax.patches
    assert signal.get_label() == "signal" and background.get_label() == "background"
    values = signal.get_data().values
    assert values.sum() == pytest.approx(1.0)


def test_auc_vs_mass_overlays_models() -> None:
    grid = pd.DataFrame({"mass": [500, 750, 1000, 1250], "roc_auc": [0.8, 0.85, 0.9, 0.92]})
    other = grid.assign(roc_auc=grid["roc_auc"] - 0.1)
    ax = plot_auc_vs_mass(
        {"affine": grid, "pnn": other}, training_masses={"affine": [500, 1000], "pnn": [750]}
    )
    assert [line.get_label() for line in ax.get_lines()] == ["affine", "pnn"]
    markers = [c.get_offsets() for c in ax.collections]
    assert np.allclose(markers[0], [[500, 0.8], [1000, 0.9]])
    assert np.allclose(markers[1], [[750, 0.75]])
    assert "training mass" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_auc_vs_mass_keeps_twelve_curves_apart_and_unhidden() -> None:
    # the conditioning study's 12 runs: the colour cycle repeats, the legend must not cover
    grid = pd.DataFrame({"mass": [500, 750, 1000], "roc_auc": [0.8, 0.3, 0.5]})
    curves = {f"run{i}": grid.assign(roc_auc=grid["roc_auc"] + i / 100) for i in range(12)}
    ax = plot_auc_vs_mass(curves)
    looks = {(line.get_color(), line.get_linestyle()) for line in ax.get_lines()}
    assert len(looks) == 12
    png = figure_png(ax)  # drawn: the legend's place is known
    assert png[:4] == b"\x89PNG"
    legend_box = ax.get_legend().get_window_extent()
    assert legend_box.x0 >= ax.get_window_extent().x1  # beside the axes, not on the curves
    few = plot_auc_vs_mass({"a": grid, "b": grid})
    assert {line.get_linestyle() for line in few.get_lines()} == {"-"}


def test_history_has_loss_and_auc_axes() -> None:
    history = pd.DataFrame(
        {
            "epoch": [1, 2, 3],
            "train_loss": [0.7, 0.6, 0.5],
            "val_loss": [0.71, 0.62, 0.58],
            "val_auc_mean": [0.7, 0.8, 0.85],
        }
    )
    ax = plot_history(history)
    assert [line.get_label() for line in ax.get_lines()] == ["train loss", "val loss"]
    right = next(other for other in ax.figure.axes if other is not ax)
    assert np.allclose(right.get_lines()[0].get_ydata(), [0.7, 0.8, 0.85])


def test_sculpting_and_representation_plots() -> None:
    table = toy_table()
    result = sculpting(ToyScorer(), table, mass=1000)
    ax = plot_sculpting(result)
    before, after = ax.patches
    assert np.allclose(before.get_data()[0], result.before)
    assert np.allclose(after.get_data()[0], result.after)
    assert f"{result.js_divergence:.3g}" in ax.get_title()
    representation = representation_2d(ToyScorer(), table, max_events=300)
    by_label = plot_representation(representation, color_by="label")
    assert len(by_label.collections) == 2
    by_mass = plot_representation(representation, color_by="mass")
    assert len(by_mass.collections) == 1 and len(by_mass.figure.axes) == 2  # with a colorbar


def test_style_does_not_leak() -> None:
    before = dict(mpl.rcParams)
    plot_roc(evaluate_masses(ToyScorer(), toy_table(n_signal=50, n_background=50)))
    assert dict(mpl.rcParams) == before
