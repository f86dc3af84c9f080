r"""Event reconstruction: neutrino pz, jet–parton assignment and the 27 HEPMASS features.

Example:
    >>> import numpy as np
    >>> from hep_pnn.data.generator.detector import simulate
    >>> from hep_pnn.data.generator.processes import PROCESSES
    >>> rng = np.random.default_rng(0)
    >>> raw = raw_features(simulate(PROCESSES["signal"].partons(rng, 3000, 1000.0, 0.03), rng))
    >>> raw.shape[1], 800 < float(np.median(raw[:, 26])) < 1100
    (27, True)
"""

from __future__ import annotations

import itertools

import numpy as np

from hep_pnn.data.generator.detector import DetectorEvent
from hep_pnn.data.generator.kinematics import eta, mass, phi, pt
from hep_pnn.data.generator.processes import M_TOP, M_W

__all__ = ["PERMUTATIONS", "assign_jets", "neutrino", "raw_features"]

#: (leptonic b, hadronic b, W quark, W quark) jet indices; the two W quarks are unordered.
PERMUTATIONS = np.array([p for p in itertools.permutations(range(4)) if p[2] < p[3]], dtype=np.intp)
_PAIRS = np.array(list(itertools.combinations(range(4), 2)), dtype=np.intp)
_PAIR_OF = np.array([_PAIRS.tolist().index([p[2], p[3]]) for p in PERMUTATIONS], dtype=np.intp)
# χ² resolutions (GeV) and the cost of using a b-tagged jet as a W quark or an untagged
# jet as a b quark.
SIGMA_W_HAD, SIGMA_TOP_HAD, SIGMA_TOP_LEP = 10.0, 15.0, 20.0
BTAG_PENALTY = 4.0


def neutrino(lepton: np.ndarray, met: np.ndarray) -> np.ndarray:
    """Neutrino four-vector from missing ET and the W-mass constraint m(ℓν) = m_W.

    Of the two solutions the smaller |pz| is taken; when the discriminant is negative
    (mismeasured MET) its real part is used, so then m(ℓν) is slightly above m_W.

    Example:
        >>> import numpy as np
        >>> lep = np.array([[40.0], [0.0], [10.0], [np.hypot(40.0, 10.0)]])
        >>> nu = neutrino(lep, np.array([[-30.0], [20.0]]))
        >>> round(float(mass(lep + nu)[0]), 3)
        80.4
    """
    lepton_pt2 = lepton[0] ** 2 + lepton[1] ** 2
    met2 = met[0] ** 2 + met[1] ** 2
    a = 0.5 * M_W**2 + lepton[0] * met[0] + lepton[1] * met[1]
    discriminant = a * a - lepton_pt2 * met2
    root = lepton[3] * np.sqrt(np.maximum(discriminant, 0.0))
    centre = a * lepton[2]
    pz = (centre - np.sign(centre) * root) / lepton_pt2
    return np.stack([met[0], met[1], pz, np.sqrt(met2 + pz * pz)])


def _masses(*vectors: np.ndarray) -> np.ndarray:
    return mass(sum(vectors[1:], vectors[0]))


def assign_jets(jets: np.ndarray, btag: np.ndarray, lepton_w: np.ndarray) -> np.ndarray:
    """Index into :data:`PERMUTATIONS` of the jet assignment with the smallest χ².

    χ² = ((m_jj − m_W)/σ)² + ((m_jjj − m_t)/σ)² + ((m_jℓν − m_t)/σ)² plus a penalty for
    each b-tagged W quark and each untagged b quark. The 12 assignments share their 6 W
    pairs and 4 leptonic tops, so only those and the 12 hadronic tops are computed.
    """
    w_had = jets[:, :, _PAIRS[:, 0]] + jets[:, :, _PAIRS[:, 1]]  # (4, n, 6)
    w_term = ((mass(w_had) - M_W) / SIGMA_W_HAD) ** 2
    # With two b slots and two W slots, "tagged W quark" and "untagged b" penalties add up
    # to 2 × (tags on the W pair) + a constant, so the pair's tags are all that matter.
    w_term += 2 * BTAG_PENALTY * btag[:, _PAIRS].sum(axis=2)
    top_had = w_had[:, :, _PAIR_OF] + jets[:, :, PERMUTATIONS[:, 1]]  # (4, n, 12)
    top_lep = ((mass(lepton_w[:, :, None] + jets) - M_TOP) / SIGMA_TOP_LEP) ** 2  # (n, 4)
    chi2 = w_term[:, _PAIR_OF] + ((mass(top_had) - M_TOP) / SIGMA_TOP_HAD) ** 2
    chi2 += top_lep[:, PERMUTATIONS[:, 0]]
    return np.argmin(chi2, axis=1)


def raw_features(event: DetectorEvent) -> np.ndarray:
    """The 27 HEPMASS features in physical units (GeV, rad, count, 0/1), shape ``(n, 27)``."""
    n = event.lepton.shape[1]
    # float64 here keeps m(ℓν) pinned at m_W to 1e-5 GeV (float32 leaves ~0.01 GeV).
    lepton = event.lepton.astype(np.float64)
    lepton[3] = np.sqrt(lepton[0] ** 2 + lepton[1] ** 2 + lepton[2] ** 2)  # massless, exactly
    lepton_w = lepton + neutrino(lepton, event.met.astype(np.float64))
    best = PERMUTATIONS[assign_jets(event.jets, event.btag, lepton_w)]  # (n, 4)
    ordered = np.take_along_axis(event.jets, best[None], axis=2)
    b_lep, b_had, q1, q2 = (ordered[..., k] for k in range(4))
    out = np.empty((n, 27), np.float32)
    out[:, 0], out[:, 1], out[:, 2] = pt(event.lepton), eta(event.lepton), phi(event.lepton)
    out[:, 3] = np.hypot(event.met[0], event.met[1])
    out[:, 4] = np.arctan2(event.met[1], event.met[0])
    out[:, 5] = event.n_jets
    jets = event.jets
    out[:, 6:22:4], out[:, 7:22:4], out[:, 8:22:4] = pt(jets), eta(jets), phi(jets)
    out[:, 9:22:4] = event.btag
    out[:, 22] = _masses(q1, q2)
    out[:, 23] = _masses(q1, q2, b_had)
    out[:, 24] = mass(lepton_w)
    out[:, 25] = _masses(lepton_w, b_lep)
    out[:, 26] = _masses(lepton_w, b_lep, b_had, q1, q2)
    return out
