"""One container for jets, whatever file they came from.

References:
    Kasieczka et al., "The Machine Learning Landscape of Top Taggers", arXiv:1902.09914
    (the layout: up to 200 constituents as (E, px, py, pz), sorted by pT, zero-padded).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["JET_FEATURES", "MAX_CONSTITUENTS", "JetSample"]

MAX_CONSTITUENTS = 200
"""Constituents kept per jet, as in the reference data set."""

JET_FEATURES = ("jet_mass", "jet_pt", "jet_eta", "tau21", "tau32", "n_constituents")
"""Jet-level columns of :attr:`JetSample.features` (GeV for masses and momenta)."""


@dataclass(frozen=True)
class JetSample:
    """Jets as arrays.

    Attributes:
        constituents: ``(n, 200, 4)`` float32, (E, px, py, pz) in GeV per constituent,
            sorted by decreasing pT, zero rows after the last constituent.
        labels: ``(n,)`` int8, 1 for top jets (signal), 0 for QCD jets.
        features: jet-level quantities, the columns of :data:`JET_FEATURES`, one row per jet.

    Example:
        >>> import numpy as np, pandas as pd
        >>> jets = JetSample(np.zeros((2, 200, 4), np.float32), np.array([1, 0], np.int8),
        ...                  pd.DataFrame({name: [0.0, 0.0] for name in JET_FEATURES}))
        >>> len(jets)
        2
    """

    constituents: np.ndarray
    labels: np.ndarray
    features: pd.DataFrame

    def __len__(self) -> int:
        return int(self.labels.shape[0])
