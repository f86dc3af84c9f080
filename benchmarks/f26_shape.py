"""The shape of the m_WWbb (f26) peaks: HEPMASS's, read off the published histogram, and
the generator's.

The published repository (Luca96/affine-parametric-networks) shows the real f26 per signal
mass and for the background in HEPMASS's standardised units (``src/f26.png``, a step
histogram of all of HEPMASS). ``--reference DIR`` reads the six curves off that figure:
each colour is followed from its peak outwards, column by column (one column is 0.0084
units, the histogram's bins about 0.028, so a peak and a half-maximum crossing are placed
to about ±0.015), keeping the pixel of that colour nearest the
previous column's, until the curve reaches the axis (below about 1 % of the peak height);
the axes are calibrated on the grid lines. It prints, per curve, the peak, the half-widths
at half maximum on each side and the median above the peak — the numbers that
:data:`HEPMASS_F26_SHAPE` holds. The peaks agree with the ones read before
(``hep_pnn.data.generator.standardise.HEPMASS_F26_PEAKS``) within 0.008.

Without ``--reference`` it compares the generator with those numbers on a generated file
(``--signal`` events per mass, ``--background``, ``--seed``).

Usage: .venv/bin/python benchmarks/f26_shape.py [--reference /tmp/apn]
[--signal 100000] [--background 300000] [--seed 12] [--plot docs/figures/realism-f26-shape.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
from matplotlib.figure import Figure

from hep_pnn.data import HEPMASS_MASSES, EventTable
from hep_pnn.data.generator.fit_constants import density


class Shape(NamedTuple):
    """A peak in standardised units: where it is, its half-widths at half maximum below
    and above it, and how far above it the median lies."""

    peak: float
    left: float
    right: float
    median_above_peak: float


#: HEPMASS's f26 shapes (``--reference``; 0 is the background), good to about ±0.015 (the
#: medians about ±0.02: the tails below 1 % of the peak height are not read; the
#: background's broad top places its peak only to about ±0.03).
HEPMASS_F26_SHAPE: dict[float, Shape] = {
    0.0: Shape(-0.893, 0.617, 0.968, 0.232),
    500.0: Shape(-0.935, 0.208, 0.461, 0.295),
    750.0: Shape(-0.147, 0.263, 0.416, 0.199),
    1000.0: Shape(0.405, 0.274, 0.463, 0.176),
    1250.0: Shape(0.807, 0.280, 0.484, 0.166),
    1500.0: Shape(1.142, 0.275, 0.488, 0.146),
}

# RGB of each curve in the published figure, and roughly where it peaks (to start from).
_COLOURS = {
    0.0: ((8, 120, 248), -0.87),
    500.0: ((245, 120, 30), -0.93),
    750.0: ((30, 170, 180), -0.16),
    1000.0: ((240, 60, 60), 0.40),
    1250.0: ((10, 10, 240), 0.81),
    1500.0: ((20, 200, 20), 1.14),
}
# Pixel geometry of src/f26.png: plot area, grid lines at x = -2, 0, 2, 4, 10,000
# events per 124 pixels, and the legend box to leave out.
_LEFT, _RIGHT, _TOP, _BOTTOM = 196, 1124, 30, 798
_GRID_COLUMNS, _GRID_VALUES = (313, 552, 789, 1030), (-2.0, 0.0, 2.0, 4.0)
_PIXELS_PER_EVENT = 124 / 10_000
_LEGEND_BOTTOM, _LEGEND_LEFT = 360, 780


def shape(x: np.ndarray, density: np.ndarray, *, median: float | None = None) -> Shape:
    """The :class:`Shape` of a curve sampled at ``x`` (ascending, evenly spaced, each
    sample the content of a bin centred there); the peak is the middle of the samples
    within 0.3 % of the maximum (a histogram's top bin), the half maximum is crossed by
    linear interpolation, and the median (unless given) is read off the cumulative at the
    bins' upper edges."""
    i = round(float(np.nonzero(density >= 0.997 * density.max())[0].mean()))
    half = density[i] / 2
    below = np.nonzero(density[:i] < half)[0]
    above = np.nonzero(density[i:] < half)[0]
    left = _crossing(x, density, below[-1], half) if len(below) else x[0]
    right = _crossing(x, density, i + above[0] - 1, half) if len(above) else x[-1]
    if median is None:
        cumulative = np.cumsum(density) / density.sum()
        median = float(np.interp(0.5, cumulative, x + 0.5 * (x[1] - x[0])))
    return Shape(float(x[i]), float(x[i] - left), float(right - x[i]), median - float(x[i]))


def _crossing(x: np.ndarray, density: np.ndarray, k: int, level: float) -> float:
    """Where the curve crosses ``level`` between samples ``k`` and ``k + 1`` (linear)."""
    share = (level - density[k]) / (density[k + 1] - density[k])
    return float(x[k] + share * (x[k + 1] - x[k]))


def sample_shape(values: np.ndarray, *, bandwidth: float = 0.03) -> Shape:
    """The :class:`Shape` of a sample: its density on a fine grid (steps of ``bandwidth``
    / 15, smoothed with a Gaussian of ``bandwidth`` units against the sampling noise,
    which widens a peak of FWHM 0.7 by 0.004) and its median."""
    centres, smoothed = density(values, bandwidth=bandwidth, bins_per_bandwidth=15)
    return shape(centres, smoothed, median=float(np.median(values)))


def read_curves(png: Path) -> tuple[np.ndarray, dict[float, np.ndarray]]:
    """x (standardised f26) of each pixel column and each curve's height (events) there."""
    from matplotlib.image import imread

    image = imread(png)[_TOP:_BOTTOM, _LEFT:_RIGHT, :3] * 255
    slope, intercept = np.polyfit(_GRID_COLUMNS, _GRID_VALUES, 1)
    x = slope * np.arange(_LEFT, _RIGHT) + intercept
    curves = {}
    for key, (rgb, start_x) in _COLOURS.items():
        hit = np.abs(image - np.array(rgb)).max(-1) < 45
        hit[: _LEGEND_BOTTOM - _TOP, _LEGEND_LEFT - _LEFT :] = False
        curves[key] = _follow(hit, int(np.argmin(np.abs(x - start_x))))
    return x, curves


def _follow(hit: np.ndarray, start: int) -> np.ndarray:
    """Height (events) of the curve whose pixels are ``hit``, followed from column
    ``start`` outwards; 0 where it has reached the axis, interpolated over crossings."""
    rows = np.full(hit.shape[1], np.nan)
    rows[start] = np.nonzero(hit[:, max(start - 3, 0) : start + 4].any(1))[0].min()
    floor = hit.shape[0] - 3
    for step in (-1, 1):
        previous, j = rows[start], start + step
        while 0 <= j < hit.shape[1] and previous < floor:
            candidates = np.nonzero(hit[:, j])[0]
            if len(candidates):
                nearest = candidates[np.argmin(np.abs(candidates - previous))]
                if abs(nearest - previous) <= 40:
                    rows[j] = previous = nearest
            j += step
    found = np.nonzero(~np.isnan(rows))[0]
    height = np.zeros(hit.shape[1])
    inside = slice(found[0], found[-1] + 1)
    height[inside] = np.interp(np.arange(hit.shape[1])[inside], found, rows[found])
    height[inside] = (hit.shape[0] - height[inside]) / _PIXELS_PER_EVENT
    return np.clip(height, 0, None)


def _label(key: float) -> str:
    return "background" if key == 0 else f"X {key:g}"


def print_reference(reference: Path) -> None:
    png = reference / "src" / "f26.png"
    if not png.is_file():
        sys.exit(f"f26_shape.py: {png} not found; fetch Luca96/affine-parametric-networks")
    x, curves = read_curves(png)
    print("| curve | peak | half-width below | above | median − peak |")
    print("|---|---|---|---|---|")
    for key, height in curves.items():
        s = shape(x, height)
        cells = f"{s.peak:+.3f} | {s.left:.3f} | {s.right:.3f} | {s.median_above_peak:+.3f}"
        print(f"| {_label(key)} | {cells} |")


def compare(values: dict[float, np.ndarray]) -> None:
    """Print generated against HEPMASS's shapes; ``values``: f26 per key (0 = background)."""
    print("| curve | FWHM generated / HEPMASS | half-width above | median − peak |")
    print("|---|---|---|---|")
    for key, real in HEPMASS_F26_SHAPE.items():
        s = sample_shape(values[key])
        print(
            f"| {_label(key)} | {s.left + s.right:.2f} / {real.left + real.right:.2f} "
            f"| {s.right:.2f} / {real.right:.2f} "
            f"| {s.median_above_peak:+.2f} / {real.median_above_peak:+.2f} |"
        )


def plot_shapes(values: dict[float, np.ndarray], *, fig: Figure | None = None) -> Figure:
    """One panel per curve: the generated f26 peak (histogram scaled to height 1) with
    HEPMASS's half-maximum interval (bar), peak and median (ticks)."""
    fig = fig or Figure(figsize=(13, 6.5))
    axes = fig.subplots(2, 3).ravel()
    for ax, (key, real) in zip(axes, HEPMASS_F26_SHAPE.items(), strict=True):
        generated = sample_shape(values[key])
        low = generated.peak - 1.6 if key else -2.6
        counts, edges = np.histogram(values[key], bins=np.arange(low, low + 4.2, 0.028))
        ax.stairs(counts / counts.max(), edges, color="C0", label="generated")
        for shape_, colour, y, name in (
            (generated, "C0", 0.47, "generated"),
            (real, "C3", 0.53, "HEPMASS"),
        ):
            peak = shape_.peak
            ax.plot([peak - shape_.left, peak + shape_.right], [y, y], color=colour, lw=3,
                    label=f"{name}: half maximum")  # fmt: skip
            ax.plot(
                [peak + shape_.median_above_peak] * 2, [y - 0.05, y + 0.05], color=colour, lw=1.5
            )
        ax.set_title(_label(key), fontsize=10)
        ax.set_xlabel("f26 m_WWbb (standardised, HEPMASS's units)")
        ax.set_ylim(0, 1.08)
    axes[-1].legend(
        fontsize=8, loc="upper left", title="bars: half maximum; ticks: median", title_fontsize=8
    )
    fig.tight_layout()
    return fig


def generated_f26(table: EventTable) -> dict[float, np.ndarray]:
    """f26 of a generated table: the background (key 0) and the signal at each mass."""
    f26 = table.features[:, 26]
    values = {0.0: f26[table.label == 0]}
    for mass in HEPMASS_MASSES:
        values[mass] = f26[(table.label == 1) & (np.round(table.mass) == mass)]
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, help="the published repository's checkout")
    parser.add_argument("--signal", type=int, default=100_000)
    parser.add_argument("--background", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--plot", type=Path, help="write the comparison as this PNG")
    args = parser.parse_args()
    if args.reference is not None:
        print_reference(args.reference)
        return
    from hep_pnn.data.generator import generate

    table = generate(n_signal_per_mass=args.signal, n_background=args.background, seed=args.seed)
    values = generated_f26(table)
    compare(values)
    if args.plot is not None:
        plot_shapes(values).savefig(args.plot, dpi=70)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
