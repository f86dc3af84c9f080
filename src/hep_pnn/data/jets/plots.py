"""Sanity plots of top and QCD jets: one function per plot, ``ax=None``, returns the axes.

Top jets should peak near the top mass, hold a subjet pair near the W mass, have lower
τ32 than QCD jets and more constituents. Drawn in the project's mplhep style; the caller
saves (``ax.figure.savefig("jets-mass.png")``).

References:
    Thaler & Van Tilburg, "Identifying Boosted Objects with N-subjettiness",
    arXiv:1011.2268; Kasieczka et al., arXiv:1902.09914.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from hep_pnn.data.jets.sample import JetSample
from hep_pnn.data.jets.substructure import exclusive_kt_subjets, w_candidate_mass
from hep_pnn.evaluation.plots import new_axes, plot_style

__all__ = [
    "TOP_MASS",
    "W_MASS",
    "plot_jet_mass",
    "plot_multiplicity",
    "plot_tau32",
    "plot_w_candidate_mass",
]

TOP_MASS = 172.5
"""Top-quark mass of Pythia 8.3 (``6:m0``), GeV."""
W_MASS = 80.385
"""W mass of Pythia 8.3 (``24:m0``), GeV."""


def _compare(
    jets: JetSample,
    values: np.ndarray,
    bins: np.ndarray,
    *,
    xlabel: str,
    ax: Axes | None,
    marker: tuple[float, str] | None = None,
) -> Axes:
    """Normalised histograms of ``values`` for top and QCD jets, with an optional line."""
    with plot_style():
        ax = ax or new_axes()
        for label, name, colour in ((1, "top jets", "tab:red"), (0, "QCD jets", "tab:blue")):
            chosen = values[jets.labels == label]
            ax.hist(
                chosen,
                bins=bins.tolist(),
                density=True,
                histtype="step",
                lw=2,
                color=colour,
                label=f"{name} ({len(chosen):,})",
            )
        if marker is not None:
            ax.axvline(marker[0], color="grey", linestyle="--", label=marker[1])
        ax.set(xlabel=xlabel, ylabel="Jets (normalised)", xlim=(bins[0], bins[-1]))
        ax.legend(fontsize="x-small")
    return ax


def plot_jet_mass(jets: JetSample, *, ax: Axes | None = None) -> Axes:
    """Jet mass of top and QCD jets; top jets peak near :data:`TOP_MASS`.

    Example:
        >>> import pandas as pd
        >>> from hep_pnn.data.jets.sample import JET_FEATURES
        >>> jets = JetSample(np.zeros((2, 200, 4), np.float32), np.array([1, 0], np.int8),
        ...                  pd.DataFrame({n: [170.0, 40.0] for n in JET_FEATURES}))
        >>> plot_jet_mass(jets).get_xlabel()
        'Jet mass [GeV]'
    """
    return _compare(
        jets,
        jets.features["jet_mass"].to_numpy(),
        np.linspace(0, 300, 61),
        xlabel="Jet mass [GeV]",
        ax=ax,
        marker=(TOP_MASS, f"$m_t$ = {TOP_MASS:g} GeV"),
    )


def plot_w_candidate_mass(jets: JetSample, *, ax: Axes | None = None) -> Axes:
    """Mass of the pair of the three exclusive-kT subjets closest to :data:`W_MASS`."""
    mass = w_candidate_mass(exclusive_kt_subjets(jets.constituents, 3), w_mass=W_MASS)
    return _compare(
        jets,
        mass,
        np.linspace(0, 200, 51),
        xlabel="Subjet-pair mass closest to $m_W$ [GeV]",
        ax=ax,
        marker=(W_MASS, f"$m_W$ = {W_MASS:g} GeV"),
    )


def plot_tau32(jets: JetSample, *, ax: Axes | None = None) -> Axes:
    """τ32 = τ3/τ2 (exclusive-kT axes); three-prong top jets sit lower than QCD jets."""
    return _compare(
        jets,
        jets.features["tau32"].to_numpy(),
        np.linspace(0, 1, 51),
        xlabel=r"$\tau_{32}$",
        ax=ax,
    )


def plot_multiplicity(jets: JetSample, *, ax: Axes | None = None) -> Axes:
    """Constituents per jet (at most 200 are kept)."""
    return _compare(
        jets,
        jets.features["n_constituents"].to_numpy(),
        np.arange(0, 202, 4) - 0.5,
        xlabel="Constituents per jet",
        ax=ax,
    )
