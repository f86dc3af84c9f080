"""Evaluation plots: one function per plot, ``ax=None``, draws and returns the axes.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot, so no GUI backend and no
global figure state) inside the mplhep CMS style as a context, which does not leak into the
caller's style. The caller saves: ``ax.figure.savefig("roc.png")``.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal, TypeVar

import matplotlib.style
import mplhep
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import roc_curve

from hep_pnn.evaluation.masses import MassMetrics
from hep_pnn.evaluation.representation import Representation2D
from hep_pnn.evaluation.scoring import MassSample
from hep_pnn.evaluation.sculpting import SculptingResult

__all__ = [
    "figure_png",
    "new_axes",
    "plot_auc_vs_mass",
    "plot_history",
    "plot_representation",
    "plot_roc",
    "plot_score_distribution",
    "plot_sculpting",
    "plot_style",
]

F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def plot_style() -> Iterator[None]:
    """The mplhep CMS style, only inside the ``with`` block."""
    font_log = logging.getLogger("matplotlib.font_manager")
    level = font_log.level
    # The CMS style names fonts that may be missing; matplotlib's fallback is fine.
    font_log.setLevel(logging.ERROR)
    try:
        with matplotlib.style.context(mplhep.style.CMS):
            yield
    finally:
        font_log.setLevel(level)


def _styled(function: F) -> F:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with plot_style():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def new_axes(*, size: tuple[float, float] = (8.0, 6.0)) -> Axes:
    """Axes on a new pyplot-free figure in the plot style.

    Example:
        >>> new_axes().figure.get_size_inches().tolist()
        [8.0, 6.0]
    """
    with plot_style():
        return Figure(figsize=size, layout="constrained").add_subplot()


def figure_png(ax: Axes, *, dpi: int = 80) -> bytes:
    """The figure holding ``ax`` as PNG bytes (drawn in the plot style).

    Example:
        >>> figure_png(new_axes())[:4]
        b'\\x89PNG'
    """
    figure = ax.get_figure(root=True)  # the whole figure, also for axes in a subfigure
    assert figure is not None, "axes that belong to no figure"
    buffer = io.BytesIO()
    with plot_style():  # fonts are resolved when drawing
        figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _samples(samples: Mapping[float, MassSample] | MassMetrics) -> Mapping[float, MassSample]:
    return samples.samples if isinstance(samples, MassMetrics) else samples


@_styled
def plot_roc(
    samples: Mapping[float, MassSample] | MassMetrics,
    *,
    weighted: bool = False,
    ax: Axes | None = None,
) -> Axes:
    """ROC curve (signal vs background efficiency) at each mass, AUC in the legend.

    Unweighted by default, like the headline ``roc_auc``; ``weighted=True`` uses the event
    weights (``roc_auc_weighted``).

    Example:
        >>> from hep_pnn.evaluation.scoring import MassSample
        >>> s = MassSample(500.0, np.array([0.9, 0.2, 0.4]), np.array([1, 0, 1]), np.ones(3))
        >>> len(plot_roc({500.0: s}).get_lines())  # one curve + the random-guess diagonal
        2
    """
    ax = ax or new_axes()
    for mass, sample in sorted(_samples(samples).items()):
        weight = sample.weight if weighted else None
        fpr, tpr, _ = roc_curve(sample.label, sample.score, sample_weight=weight)
        ax.plot(fpr, tpr, label=f"m = {mass:g} GeV (AUC {np.trapezoid(tpr, fpr):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="random")
    ax.set(xlabel="Background efficiency", ylabel="Signal efficiency", xlim=(0, 1), ylim=(0, 1))
    ax.legend(fontsize="x-small", loc="lower right")
    return ax


@_styled
def plot_score_distribution(sample: MassSample, *, bins: int = 40, ax: Axes | None = None) -> Axes:
    """Normalised weighted score histograms of signal and background at one mass.

    Example:
        >>> from hep_pnn.evaluation.scoring import MassSample
        >>> s = MassSample(500.0, np.array([0.9, 0.2, 0.4]), np.array([1, 0, 1]), np.ones(3))
        >>> len(plot_score_distribution(s).patches)
        2
    """
    ax = ax or new_axes()
    edges = np.linspace(min(0.0, sample.score.min()), max(1.0, sample.score.max()), bins + 1)
    for name, mask in (("signal", sample.is_signal), ("background", ~sample.is_signal)):
        counts, _ = np.histogram(sample.score[mask], bins=edges, weights=sample.weight[mask])
        total = counts.sum()
        ax.stairs(counts / total if total > 0 else counts, edges, label=name, linewidth=2)
    ax.set(xlabel="Classifier score", ylabel="Fraction of events", yscale="log")
    ax.set_title(f"m = {sample.mass:g} GeV", fontsize="small")
    ax.legend(fontsize="x-small")
    return ax


_LINE_STYLES = ("-", "--", ":", "-.")
_LEGEND_INSIDE = 6  # curves whose legend still fits inside the axes


@_styled
def plot_auc_vs_mass(
    curves: Mapping[str, pd.DataFrame],
    *,
    training_masses: Mapping[str, Sequence[float]] | None = None,
    metric: str = "roc_auc",
    ax: Axes | None = None,
) -> Axes:
    """``metric`` against mass for several models; trained masses drawn as filled markers.

    Args:
        curves: model name → frame with ``mass`` and ``metric`` columns (e.g. from
            :func:`~hep_pnn.evaluation.auc_vs_mass` or ``MassMetrics.frame``).
        training_masses: model name → its training masses.

    Example:
        >>> grid = pd.DataFrame({"mass": [500, 750, 1000], "roc_auc": [0.8, 0.9, 0.95]})
        >>> ax = plot_auc_vs_mass({"pnn": grid}, training_masses={"pnn": [500, 1000]})
        >>> len(ax.get_lines()), len(ax.collections)
        (1, 1)
    """
    ax = ax or new_axes()
    training_masses = training_masses or {}
    colours = len(matplotlib.rcParams["axes.prop_cycle"].by_key().get("color", ())) or 1
    for index, (name, frame) in enumerate(curves.items()):
        frame = frame.sort_values("mass")
        # once the colours repeat, the line style tells the curves apart
        style = _LINE_STYLES[(index // colours) % len(_LINE_STYLES)]
        (line,) = ax.plot(frame["mass"], frame[metric], marker=".", linestyle=style, label=name)
        trained = np.asarray(training_masses.get(name, ()), dtype=float)
        if trained.size:
            at = np.interp(trained, frame["mass"], frame[metric])
            ax.scatter(trained, at, s=90, color=line.get_color(), edgecolor="black", zorder=3)
    handles, labels = ax.get_legend_handles_labels()
    if any(len(m) for m in training_masses.values()):
        handles.append(Line2D([], [], marker="o", markersize=9, color="white", mec="black"))
        labels.append("training mass")
    if len(curves) > _LEGEND_INSIDE:  # beside the axes, where it hides no curve
        ax.legend(handles, labels, fontsize="x-small", loc="upper left", bbox_to_anchor=(1.02, 1))
    else:
        ax.legend(handles, labels, fontsize="x-small")
    ax.set(xlabel="Mass hypothesis $m$ [GeV]", ylabel=metric.replace("_", "-").upper())
    return ax


@_styled
def plot_history(history: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Training and validation loss per epoch, with mean validation AUC on a right axis.

    Example:
        >>> h = pd.DataFrame({"epoch": [1, 2], "train_loss": [0.6, 0.5], "val_loss": [0.62, 0.55],
        ...                   "val_auc_mean": [0.8, 0.85]})
        >>> ax = plot_history(h)
        >>> len(ax.get_lines()), len(ax.figure.axes)
        (2, 2)
    """
    ax = ax or new_axes()
    for column in ("train_loss", "val_loss"):
        if column in history:
            ax.plot(history["epoch"], history[column], label=column.replace("_", " "))
    ax.set(xlabel="Epoch", ylabel="Loss")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles, labels = ax.get_legend_handles_labels()
    scores = {
        "val_auc_mean": ("validation AUC (mean)", "--"),
        "train_accuracy": ("training accuracy", ":"),
        "val_accuracy": ("validation accuracy", "-."),
    }
    present = [column for column in scores if column in history]
    if present:
        right = ax.twinx()
        for column in present:
            # baselines fill some columns in one row only: drop the empty rows, mark points
            rows = history[["epoch", column]].dropna()
            label, style = scores[column]
            right.plot(
                rows["epoch"], rows[column], color="black", linestyle=style, marker=".", label=label
            )
        right.set_ylabel("AUC / accuracy" if len(present) > 1 else "Validation AUC")
        more_handles, more_labels = right.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    ax.legend(handles, labels, fontsize="x-small", loc="center right")
    return ax


@_styled
def plot_sculpting(result: SculptingResult, *, ax: Axes | None = None) -> Axes:
    """Background shape of the feature before and after the cut, JSD in the title.

    Example:
        >>> r = SculptingResult(500.0, "f26", 0.5, 0.5, 0.1, np.array([0.0, 1, 2]),
        ...                     np.array([0.5, 0.5]), np.array([0.9, 0.1]), 0.2)
        >>> len(plot_sculpting(r).patches)
        2
    """
    ax = ax or new_axes()
    ax.stairs(result.before, result.bin_edges, label="no cut", linewidth=2)
    ax.stairs(
        result.after,
        result.bin_edges,
        linewidth=2,
        label=f"cut: {result.signal_efficiency:.0%} signal eff.",
    )
    xlabel = f"{result.feature} (m_WWbb)" if result.feature == "f26" else result.feature
    ax.set(xlabel=xlabel, ylabel="Background fraction")
    ax.set_title(
        f"m = {result.mass:g} GeV, JSD = {result.js_divergence:.3g} bits", fontsize="small"
    )
    ax.legend(fontsize="x-small", title="background", title_fontsize="x-small")
    return ax


@_styled
def plot_representation(
    representation: Representation2D,
    *,
    color_by: Literal["mass", "label"] = "mass",
    ax: Axes | None = None,
) -> Axes:
    """Scatter of the 2-D hidden-layer map, coloured by mass hypothesis or by class.

    Example:
        >>> r = Representation2D(np.zeros((4, 2)), np.array([1, 0, 1, 0]),
        ...                      np.array([500.0, 500, 1000, 1000]), "pca")
        >>> len(plot_representation(r, color_by="label").collections)
        2
    """
    ax = ax or new_axes()
    x, y = representation.coordinates.T
    if color_by == "label":
        for value, name in ((0, "background"), (1, "signal")):
            mask = representation.label == value
            ax.scatter(x[mask], y[mask], s=4, alpha=0.5, label=name)
        ax.legend(fontsize="x-small", markerscale=4)
    else:
        points = ax.scatter(x, y, c=representation.mass, s=4, alpha=0.6, cmap="viridis")
        ax.figure.colorbar(points, ax=ax, label="Mass hypothesis [GeV]")
    ax.set(xlabel=f"{representation.method.upper()} 1", ylabel=f"{representation.method.upper()} 2")
    ax.set_title(f"Last hidden layer, coloured by {color_by}", fontsize="small")
    return ax
