"""Evaluation: per-mass metrics, mass-grid interpolation, sculpting, plots and the HTML report.

Everything accepts a scorer (``predict(features, mass)``), a plain callable or precomputed
scores, so networks, BDTs and external models are compared the same way.
"""

from hep_pnn.evaluation.masses import MassMetrics, auc_vs_mass, evaluate_masses
from hep_pnn.evaluation.metrics import (
    background_rejection,
    binary_metrics,
    cut_scan,
    roc_auc,
    significance_ratio,
    threshold_at_efficiency,
)
from hep_pnn.evaluation.plots import (
    plot_auc_vs_mass,
    plot_history,
    plot_representation,
    plot_roc,
    plot_score_distribution,
    plot_sculpting,
    plot_style,
)
from hep_pnn.evaluation.report import comparison_table, render_report, write_report
from hep_pnn.evaluation.representation import Representation2D, representation_2d
from hep_pnn.evaluation.runs import (
    RunEvaluation,
    evaluate_run,
    evaluate_scorer,
    load_evaluation,
    render_figures,
    write_evaluation,
)
from hep_pnn.evaluation.scoring import ExtrapolationWarning, MassSample, mass_samples
from hep_pnn.evaluation.sculpting import SculptingResult, sculpting

__all__ = [
    "ExtrapolationWarning",
    "MassMetrics",
    "MassSample",
    "Representation2D",
    "RunEvaluation",
    "SculptingResult",
    "auc_vs_mass",
    "background_rejection",
    "binary_metrics",
    "comparison_table",
    "cut_scan",
    "evaluate_masses",
    "evaluate_run",
    "evaluate_scorer",
    "load_evaluation",
    "mass_samples",
    "plot_auc_vs_mass",
    "plot_history",
    "plot_representation",
    "plot_roc",
    "plot_score_distribution",
    "plot_sculpting",
    "plot_style",
    "render_figures",
    "render_report",
    "representation_2d",
    "roc_auc",
    "sculpting",
    "significance_ratio",
    "threshold_at_efficiency",
    "write_evaluation",
    "write_report",
]
