"""Names and meaning of the 27 HEPMASS features, and the published mass points."""

from __future__ import annotations

__all__ = [
    "FEATURE_DESCRIPTIONS",
    "FEATURE_NAMES",
    "HEPMASS_MASSES",
    "MWWBB_FEATURE",
]

#: Column names of the 27 features, in HEPMASS order.
FEATURE_NAMES: tuple[str, ...] = tuple(f"f{i}" for i in range(27))

#: Physical meaning of each feature (HEPMASS, lepton + jets tt̄ final state).
FEATURE_DESCRIPTIONS: dict[str, str] = {
    "f0": "lepton pT",
    "f1": "lepton eta",
    "f2": "lepton phi",
    "f3": "missing ET",
    "f4": "missing ET phi",
    "f5": "number of jets",
    **{
        f"f{6 + 4 * j + k}": f"jet{j + 1} {quantity}"
        for j in range(4)
        for k, quantity in enumerate(("pT", "eta", "phi", "b-tag"))
    },
    "f22": "m_jj (hadronic W)",
    "f23": "m_jjj (hadronic top)",
    "f24": "m_lv (leptonic W)",
    "f25": "m_jlv (leptonic top)",
    "f26": "m_WWbb (ttbar system)",
}

#: The feature that reconstructs the resonance mass (used for sculpting checks).
MWWBB_FEATURE = "f26"

#: Signal masses of the published HEPMASS files, in GeV.
HEPMASS_MASSES: tuple[float, ...] = (500.0, 750.0, 1000.0, 1250.0, 1500.0)
