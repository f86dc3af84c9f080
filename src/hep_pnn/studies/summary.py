"""Summaries of a finished study: a table beside the published numbers, a plot, a report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hep_pnn._io import atomic_path
from hep_pnn.evaluation.plots import figure_png, plot_auc_vs_mass
from hep_pnn.evaluation.report import write_report
from hep_pnn.evaluation.runs import RunEvaluation, load_evaluation
from hep_pnn.run_files import REPORT_FILE
from hep_pnn.studies.config import RunSpec, StudyConfig

__all__ = ["auc_table", "format_table", "summarise_study"]


def auc_table(evaluations: dict[str, list[RunEvaluation]], *, grid: bool = False) -> pd.DataFrame:
    """Mean and spread (std over seeds) of the ROC AUC per run and mass.

    Returns a frame indexed by (run, ``mean``/``std``) with one column per mass.

    Example:
        >>> from hep_pnn.evaluation.masses import MassMetrics
        >>> def ev(auc):
        ...     frame = pd.DataFrame({"mass": [500.0], "roc_auc": [auc]})
        ...     return RunEvaluation("x", MassMetrics(frame))
        >>> auc_table({"x": [ev(0.8), ev(0.9)]}).round(3).to_dict()
        {500.0: {('x', 'mean'): 0.85, ('x', 'std'): 0.071}}
    """
    rows = {}
    for name, runs in evaluations.items():
        frames = [(e.grid if grid else e.metrics.frame) for e in runs]
        values = pd.DataFrame([f.set_index("mass")["roc_auc"] for f in frames if f is not None])
        rows[(name, "mean")] = values.mean()
        # one seed has no spread
        rows[(name, "std")] = values.std(ddof=1) if len(values) > 1 else values.mean() * np.nan
    return pd.DataFrame(rows).T


def format_table(study: StudyConfig, table: pd.DataFrame, *, with_published: bool = True) -> str:
    """A markdown table: ours (mean ± std) and, below each run, the published AUCs."""
    masses = list(table.columns)
    head = ["run", *(f"{m:g}" for m in masses), "mean"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for name in dict.fromkeys(run for run, _ in table.index):
        mean, std = table.loc[(name, "mean")], table.loc[(name, "std")]
        cells = [
            f"{m:.3f}" + ("" if pd.isna(s) else f" ± {s:.3f}")
            for m, s in zip(mean, std, strict=True)
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {mean.mean():.3f} |")
        if not with_published:
            continue
        published = {float(k): v for k, v in study.published.get(name, {}).items()}
        average = study.published_mean.get(name)
        if average is None and published and len(published) == len(masses):
            average = sum(published.values()) / len(published)
        if published or average is not None:
            cells = [f"{published[m]:.3f}" if m in published else "" for m in masses]
            tail = "" if average is None else f"{average:.3f}"
            lines.append("| *published* | " + " | ".join(cells) + f" | {tail} |")
    return "\n".join(lines)


def summarise_study(study: StudyConfig, folder: Path, specs: Sequence[RunSpec]) -> Path:
    """Write ``results.md``, ``auc_vs_mass.png`` and ``report.html`` into ``folder``."""
    evaluations: dict[str, list[RunEvaluation]] = {}
    for spec in specs:
        evaluation = load_evaluation(spec.run_dir)
        evaluation.name = spec.name if spec.seed == 0 else f"{spec.name} (seed {spec.seed})"
        evaluations.setdefault(spec.name, []).append(evaluation)
    table = auc_table(evaluations)
    text = [f"# Study `{study.name}`", "", study.description, "", "ROC AUC per mass:", ""]
    text.append(format_table(study, table))
    has_grid = all(e.grid is not None for runs in evaluations.values() for e in runs)
    if has_grid:
        grid = auc_table(evaluations, grid=True)
        text += ["", "ROC AUC on the fine mass grid (mean over seeds):", ""]
        text.append(format_table(study, grid, with_published=False))
    seeds = len(next(iter(evaluations.values())))
    text += ["", f"Seeds: {seeds} (± is the standard deviation over seeds)."]
    curves = {
        name: (runs[0].grid if has_grid else runs[0].metrics.frame)
        for name, runs in evaluations.items()
    }
    trained = {name: runs[0].training_masses for name, runs in evaluations.items()}
    ax = plot_auc_vs_mass(curves, training_masses=trained)
    ax.set_title(f"study {study.name}", fontsize="small")
    with atomic_path(folder / "auc_vs_mass.png", overwrite=True) as tmp:
        tmp.write_bytes(figure_png(ax))
    with atomic_path(folder / "results.md", overwrite=True) as tmp:
        tmp.write_text("\n".join(text) + "\n")
    first = [runs[0] for runs in evaluations.values()]
    write_report(first, folder / REPORT_FILE, title=f"hep-pnn study {study.name}", overwrite=True)
    return folder / "results.md"
