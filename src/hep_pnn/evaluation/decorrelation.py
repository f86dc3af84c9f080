r"""How much a cut sculpts the protected variable, and what it costs: the DisCo trade-off.

One point per classifier: the background rejection :math:`1/\varepsilon_b` of the cut that
keeps 50 % of the signal, and :math:`1/\mathrm{JSD}` between the background's protected-
variable histogram before and after that cut (the JSD of
:func:`~hep_pnn.evaluation.sculpting.sculpting_from_sample`, in bits). A perfectly
decorrelated classifier has :math:`1/\mathrm{JSD} \to \infty`; plotting rejection against
:math:`1/\mathrm{JSD}` as λ varies gives the trade-off curve of Kasieczka & Shih.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes

from hep_pnn.evaluation.plots import _styled, new_axes
from hep_pnn.evaluation.scoring import MassSample
from hep_pnn.evaluation.sculpting import SculptingResult, sculpting_from_sample

__all__ = ["TradeoffPoint", "plot_tradeoff", "tradeoff_point"]


@dataclass(frozen=True)
class TradeoffPoint:
    """Rejection and mass sculpting of one classifier at one cut.

    Attributes:
        strength: the λ it was trained with (or any label value).
        rejection: :math:`1/\\varepsilon_b` of the cut.
        js_divergence: JSD (bits) of the background's protected variable, before vs after.
        sculpting: the histograms behind it (for :func:`~hep_pnn.evaluation.plot_sculpting`).
    """

    strength: float
    rejection: float
    js_divergence: float
    sculpting: SculptingResult

    @property
    def inverse_jsd(self) -> float:
        return 1.0 / self.js_divergence if self.js_divergence > 0 else float("inf")

    def summary(self) -> dict[str, float]:
        """The scalars, JSON-ready."""
        return {
            "strength": self.strength,
            "rejection": self.rejection,
            "js_divergence": self.js_divergence,
            "inverse_jsd": self.inverse_jsd,
        }


def tradeoff_point(
    score: np.ndarray,
    label: np.ndarray,
    protected: np.ndarray,
    *,
    weight: np.ndarray | None = None,
    strength: float = 0.0,
    signal_efficiency: float = 0.5,
    feature: str = "f26",
    bins: int = 40,
) -> TradeoffPoint:
    """Background rejection and JSD of the cut keeping ``signal_efficiency`` of the signal.

    Args:
        score: classifier output of every event (any monotonic scale).
        label: 1 signal, 0 background.
        protected: the protected variable of every event (only the background's is used).
        weight: event weights (default: 1).
        strength: the λ to record with the point.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> m = rng.normal(size=4000); label = np.repeat([1, 0], 2000)
        >>> blind = tradeoff_point(rng.normal(size=4000) + label, label, m)
        >>> sculpts = tradeoff_point(m + label, label, m)
        >>> bool(blind.js_divergence < 0.02 < sculpts.js_divergence)
        True

    References:
        Kasieczka, Shih, PRL 125 (2020) 122001, arXiv:2001.05310 (the trade-off plot).
    """
    label = np.asarray(label)
    weight = np.ones(len(label)) if weight is None else np.asarray(weight, dtype=np.float64)
    sample = MassSample(
        mass=float("nan"),
        score=np.asarray(score, dtype=np.float64),
        label=label,
        weight=weight,
    )
    background = label != 1
    result = sculpting_from_sample(
        sample,
        np.asarray(protected)[background],
        feature=feature,
        signal_efficiency=signal_efficiency,
        bins=bins,
    )
    efficiency = result.background_efficiency
    return TradeoffPoint(
        strength=float(strength),
        rejection=1.0 / efficiency if efficiency > 0 else float("inf"),
        js_divergence=result.js_divergence,
        sculpting=result,
    )


@_styled
def plot_tradeoff(curves: Mapping[str, Sequence[TradeoffPoint]], *, ax: Axes | None = None) -> Axes:
    """Background rejection against 1/JSD, one line per method, λ written at each point.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> label = np.repeat([1, 0], 500); m = rng.normal(size=1000)
        >>> p = tradeoff_point(m + label, label, m, strength=0.0)
        >>> len(plot_tradeoff({"plain": [p]}).lines)
        1
    """
    ax = ax or new_axes()
    for name, points in curves.items():
        ordered = sorted(points, key=lambda p: p.strength)
        x = [min(p.inverse_jsd, 1e6) for p in ordered]
        y = [p.rejection for p in ordered]
        (line,) = ax.plot(x, y, marker="o", label=name)
        for p, xi, yi in zip(ordered, x, y, strict=True):
            ax.annotate(
                f"λ={p.strength:g}",
                (xi, yi),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize="xx-small",
                color=line.get_color(),
            )
    ax.set(
        xscale="log",
        xlabel="1 / JSD of the background mass",
        ylabel="Bkg. rejection (50% sig. eff.)",
    )
    ax.legend(fontsize="x-small")
    return ax
