r"""Event reconstruction: neutrino pz, jet–parton assignment and the 27 HEPMASS features.

Example:
    >>> import numpy as np
    >>> from hep_pnn.data.generator.detector import simulate
    >>> from hep_pnn.data.generator.processes import PROCESSES
    >>> rng = np.random.default_rng(0)
    >>> raw = raw_features(simulate(PROCESSES["signal"].partons(rng, 3000, 1000.0, 0.03), rng))
    >>> raw.shape[1], 900 < float(np.median(raw[:, 26])) < 1200
    (27, True)
"""

from __future__ import annotations

import itertools

import numpy as np

from hep_pnn.data.generator._fourvec import add, atan2, eta, helper, kernel, mass, pt, widen
from hep_pnn.data.generator.detector import DetectorEvent
from hep_pnn.data.generator.processes import M_TOP, M_W

__all__ = ["PERMUTATIONS", "assign_jets", "neutrino", "raw_features"]

#: (leptonic b, hadronic b, W quark, W quark) jet indices; the two W quarks are unordered.
PERMUTATIONS = np.array([p for p in itertools.permutations(range(4)) if p[2] < p[3]], dtype=np.intp)
_PAIRS = np.array(list(itertools.combinations(range(4), 2)), dtype=np.intp)
_PAIR_OF = np.array([_PAIRS.tolist().index([p[2], p[3]]) for p in PERMUTATIONS], dtype=np.intp)
#: The three jets other than jet r (the hadronic top when r is the leptonic b), in order.
_OTHERS = np.array([[j for j in range(4) if j != r] for r in range(4)], dtype=np.intp)
# χ² resolutions (GeV) and the cost of using a b-tagged jet as a W quark or an untagged
# jet as a b quark.
SIGMA_W_HAD, SIGMA_TOP_HAD, SIGMA_TOP_LEP = 10.0, 15.0, 20.0
BTAG_PENALTY = 4.0


_F32 = np.float32
_M_W, _M_TOP = _F32(M_W), _F32(M_TOP)
_SIGMA_W_HAD, _SIGMA_TOP_HAD = _F32(SIGMA_W_HAD), _F32(SIGMA_TOP_HAD)
_HALF_M_W2 = 0.5 * M_W**2


@helper
def neutrino(lepton, met_x, met_y):
    """Neutrino four-vector from missing ET and the W-mass constraint m(ℓν) = m_W (float64).

    Of the two solutions the smaller |pz| is taken; when the discriminant is negative
    (mismeasured MET) its real part is used, so then m(ℓν) is slightly above m_W.

    Example:
        >>> import math
        >>> lep = (40.0, 0.0, 10.0, math.hypot(40.0, 10.0))
        >>> nu = neutrino(lep, -30.0, 20.0)
        >>> round(float(mass(add(lep, nu))), 3)
        80.4
    """
    lepton_pt2 = lepton[0] * lepton[0] + lepton[1] * lepton[1]
    met2 = met_x * met_x + met_y * met_y
    a = _HALF_M_W2 + lepton[0] * met_x + lepton[1] * met_y
    discriminant = a * a - lepton_pt2 * met2
    root = lepton[3] * np.sqrt(max(discriminant, 0.0))
    centre = a * lepton[2]
    pz = (centre - np.sign(centre) * root) / lepton_pt2
    return (met_x, met_y, pz, np.sqrt(met2 + pz * pz))


@helper
def _permutation(p):
    """Jet indices (leptonic b, hadronic b, W quark, W quark) of assignment ``p``."""
    return PERMUTATIONS[p, 0], PERMUTATIONS[p, 1], PERMUTATIONS[p, 2], PERMUTATIONS[p, 3]


@helper
def _jet(jets, i, r):
    """Jet ``r`` of event ``i`` as a four-vector tuple."""
    return (jets[i, r, 0], jets[i, r, 1], jets[i, r, 2], jets[i, r, 3])


@helper
def assign_jets(jets, btag, i, lepton_w, terms):
    """Index into :data:`PERMUTATIONS` of the jet assignment of event ``i`` with the
    smallest χ² (``jets`` ``(n, 4, 4)`` and ``btag`` as in :class:`.DetectorEvent`;
    ``terms`` is scratch space for 10 values).

    χ² = ((m_jj − m_W)/σ)² + ((m_jjj − m_t)/σ)² + ((m_jℓν − m_t)/σ)² plus a penalty for
    each b-tagged W quark and each untagged b quark. The 12 assignments share their 6 W
    pairs, and both tops depend only on the leptonic b (the hadronic top is the other three
    jets, whichever of them is its b), so only 6 + 4 terms are computed. The masses of
    the hadronic terms are float32 and of the leptonic ones float64; each χ² is summed in
    float64 and rounded once to float32.
    """
    for q in range(len(_PAIRS)):
        a, b = _PAIRS[q, 0], _PAIRS[q, 1]
        w = _mass_term(add(_jet(jets, i, a), _jet(jets, i, b)), _M_W, _SIGMA_W_HAD)
        # With two b slots and two W slots, "tagged W quark" and "untagged b" penalties
        # add up to 2 × (tags on the W pair) + a constant: the pair's tags are all that matter.
        terms[q] = np.float32(w + 2 * BTAG_PENALTY * (btag[i, a] + btag[i, b]))
    for r in range(4):
        top_lep = add(lepton_w, widen(_jet(jets, i, r)))
        first, second, third = _OTHERS[r, 0], _OTHERS[r, 1], _OTHERS[r, 2]
        top_had = add(add(_jet(jets, i, first), _jet(jets, i, second)), _jet(jets, i, third))
        top_had_term = _mass_term(top_had, _M_TOP, _SIGMA_TOP_HAD)
        terms[len(_PAIRS) + r] = top_had_term + _mass_term(top_lep, M_TOP, SIGMA_TOP_LEP)
    best, best_chi2 = 0, np.float32(np.inf)
    for p in range(len(PERMUTATIONS)):
        chi2 = np.float32(terms[_PAIR_OF[p]] + terms[len(_PAIRS) + PERMUTATIONS[p, 0]])
        better = chi2 < best_chi2
        best, best_chi2 = (p, chi2) if better else (best, best_chi2)
    return best


@helper
def _mass_term(p, centre, sigma):
    """((m(p) − centre) / sigma)², in the type of ``p``."""
    pull = (mass(p) - centre) / sigma
    return pull * pull


@kernel
def _raw_features_kernel(lepton, jets, btag, n_jets, met, out):
    """The 27 features of every event into ``out`` ``(n, 27)`` float32."""
    terms = np.empty(len(_PAIRS) + 4)
    for i in range(lepton.shape[0]):
        measured = (lepton[i, 0], lepton[i, 1], lepton[i, 2], lepton[i, 3])
        # float64 here keeps m(ℓν) pinned at m_W to 1e-5 GeV (float32 leaves ~0.01 GeV).
        lx, ly, lz = np.float64(measured[0]), np.float64(measured[1]), np.float64(measured[2])
        massless = (lx, ly, lz, np.sqrt(lx * lx + ly * ly + lz * lz))
        lepton_w = add(massless, neutrino(massless, np.float64(met[i, 0]), np.float64(met[i, 1])))
        b_lep, b_had, q1, q2 = _permutation(assign_jets(jets, btag, i, lepton_w, terms))
        lepton_pt = pt(measured)
        out[i, 0], out[i, 1] = lepton_pt, eta(measured, lepton_pt)
        out[i, 2] = atan2(measured[1], measured[0])
        out[i, 3] = np.sqrt(met[i, 0] * met[i, 0] + met[i, 1] * met[i, 1])
        out[i, 4] = atan2(met[i, 1], met[i, 0])
        out[i, 5] = n_jets[i]
        for r in range(4):
            jet = _jet(jets, i, r)
            jet_pt = pt(jet)
            out[i, 6 + 4 * r], out[i, 7 + 4 * r] = jet_pt, eta(jet, jet_pt)
            out[i, 8 + 4 * r], out[i, 9 + 4 * r] = atan2(jet[1], jet[0]), btag[i, r]
        w_had = add(_jet(jets, i, q1), _jet(jets, i, q2))
        out[i, 22] = mass(w_had)
        out[i, 23] = mass(add(w_had, _jet(jets, i, b_had)))
        out[i, 24] = mass(lepton_w)
        top_lep = add(lepton_w, widen(_jet(jets, i, b_lep)))
        out[i, 25] = mass(top_lep)
        resonance = add(top_lep, widen(_jet(jets, i, b_had)))
        for q in (q1, q2):
            resonance = add(resonance, widen(_jet(jets, i, q)))
        out[i, 26] = mass(resonance)


def raw_features(event: DetectorEvent, *, out: np.ndarray | None = None) -> np.ndarray:
    """The 27 HEPMASS features in physical units (GeV, rad, count, 0/1), shape ``(n, 27)``
    (the first rows of ``out``, a float32 array of at least ``n`` rows, if given)."""
    n = len(event.n_jets)
    if out is None:
        out = np.empty((n, 27), np.float32)
    elif out.shape[0] < n or out.shape[1:] != (27,) or out.dtype != np.float32:
        raise ValueError(f"out must be a float32 array of at least ({n}, 27), not {out.shape}")
    out = out[:n]
    _raw_features_kernel(event.lepton, event.jets, event.btag, event.n_jets, event.met, out)
    return out
