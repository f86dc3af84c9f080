"""Plots of jet taggers: rejection against efficiency, jet images, pixel correlations.

One function per plot, ``ax=None``, the axes returned; the caller saves.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from sklearn.metrics import roc_curve

from hep_pnn.evaluation.plots import new_axes, plot_style

__all__ = ["plot_jet_image", "plot_pixel_correlation", "plot_rejection"]


def plot_rejection(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]], *, ax: Axes | None = None
) -> Axes:
    """Background rejection 1/ε_B against signal efficiency ε_S, one curve per tagger
    (``name → (score, label)``), AUC in the legend: the top-tagging comparison's ROC.

    Example:
        >>> label = np.array([1, 1, 0, 0])
        >>> ax = plot_rejection({"a": (np.array([0.9, 0.4, 0.5, 0.1]), label)})
        >>> ax.get_yscale(), len(ax.get_lines())  # the curve, random guessing, ε_S = 0.3
        ('log', 3)
    """
    with plot_style():
        ax = ax or new_axes()
        for name, (score, label) in curves.items():
            background, signal, _ = roc_curve(label, score)
            keep = background > 0
            auc = float(np.trapezoid(signal, background))
            ax.plot(signal[keep], 1 / background[keep], label=f"{name} (AUC {auc:.3f})")
        grid = np.linspace(0.01, 1, 100)
        ax.plot(grid, 1 / grid, color="grey", linestyle=":", label="random")
        ax.axvline(0.3, color="grey", linewidth=0.8)
        ax.set(
            xlabel=r"Signal efficiency $\varepsilon_S$",
            ylabel=r"Background rejection $1/\varepsilon_B$",
            yscale="log",
            xlim=(0, 1),
        )
        ax.legend(fontsize="x-small", loc="lower left")
    return ax


def plot_jet_image(
    image: np.ndarray, *, title: str = "", extent: float = 1.0, ax: Axes | None = None
) -> Axes:
    """A (mean) jet image, pT fraction per pixel on a log colour scale.

    Example:
        >>> ax = plot_jet_image(np.full((4, 4), 1 / 16), title="flat")
        >>> ax.get_title()
        'flat'
    """
    with plot_style():
        ax = ax or new_axes(size=(7.5, 6.0))
        positive = image[image > 0]
        low = max(float(positive.min()), float(positive.max()) * 1e-4) if positive.size else 1e-6
        shown = ax.imshow(
            np.where(image > 0, image, np.nan),
            origin="lower",
            extent=(-extent, extent, -extent, extent),
            norm=LogNorm(vmin=low, vmax=max(float(image.max()), low * 10)),
            cmap="viridis",
        )
        ax.figure.colorbar(shown, ax=ax, label="pT fraction")
        ax.set(xlabel=r"$\eta'$", ylabel=r"$\phi'$")
        ax.set_title(title, fontsize="small")
    return ax


def plot_pixel_correlation(
    correlation: np.ndarray, *, extent: float = 1.0, ax: Axes | None = None
) -> Axes:
    """Pearson correlation of each pixel with the tagger output, red positive, blue negative.

    Example:
        >>> plot_pixel_correlation(np.zeros((4, 4))).get_title()
        'Pixel correlation with the output'
    """
    with plot_style():
        ax = ax or new_axes(size=(7.5, 6.0))
        limit = max(float(np.abs(correlation).max()), 1e-6)
        shown = ax.imshow(
            correlation,
            origin="lower",
            extent=(-extent, extent, -extent, extent),
            cmap="RdBu_r",
            vmin=-limit,
            vmax=limit,
        )
        ax.figure.colorbar(shown, ax=ax, label="Pearson correlation")
        ax.set(xlabel=r"$\eta'$", ylabel=r"$\phi'$")
        ax.set_title("Pixel correlation with the output", fontsize="small")
    return ax
