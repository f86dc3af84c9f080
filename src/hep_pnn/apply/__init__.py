"""Score analysis files with a trained model: ``pnn apply`` as a library.

:func:`apply_scores` streams Parquet, CSV or ROOT inputs through any scorer (a run, a saved
model or an ONNX file) and writes one ``score_m<mass>`` column per mass hypothesis.
"""

from hep_pnn.apply.options import (
    NAN_POLICIES,
    check_feature_map,
    parse_feature_map,
    score_column,
)
from hep_pnn.apply.streaming import ApplySummary, apply_scores, load_scorer
from hep_pnn.apply.writers import ScoreWriter, output_format
from hep_pnn.mass_lists import parse_masses

__all__ = [
    "NAN_POLICIES",
    "ApplySummary",
    "ScoreWriter",
    "apply_scores",
    "check_feature_map",
    "load_scorer",
    "output_format",
    "parse_feature_map",
    "parse_masses",
    "score_column",
]
