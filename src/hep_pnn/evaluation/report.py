"""One self-contained HTML page comparing evaluated models (images inlined as base64 PNG)."""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hep_pnn._io import atomic_path
from hep_pnn.errors import DataError
from hep_pnn.evaluation.plots import figure_png, plot_auc_vs_mass
from hep_pnn.evaluation.runs import RunEvaluation, load_evaluation, render_figures

__all__ = ["REPORT_METRICS", "comparison_table", "render_report", "write_report"]

#: Metrics compared in the report (all: higher is better), with their headings.
REPORT_METRICS: dict[str, str] = {
    "roc_auc": "ROC-AUC (unweighted, as published)",
    "roc_auc_weighted": "ROC-AUC (event weights)",
    "pr_auc": "PR-AUC (average precision)",
    "significance_ratio": "Significance ratio max s/√(s+b)/√N_s",
    "rejection_50": "Background rejection 1/ε_b at 50% signal efficiency",
}

_STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.best { background: #c8f0c8; font-weight: bold; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.3em 0; }
figcaption { color: #666; font-size: 85%; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 85%; }
"""


def comparison_table(evaluations: Sequence[RunEvaluation], metric: str) -> pd.DataFrame:
    """Rows = models, columns = masses plus ``mean``; NaN where a model lacks a mass.

    Example:
        >>> from hep_pnn.evaluation.masses import MassMetrics
        >>> a = RunEvaluation("a", MassMetrics(pd.DataFrame({"mass": [500.0], "roc_auc": [0.8]})))
        >>> comparison_table([a], "roc_auc").to_dict()
        {'500': {'a': 0.8}, 'mean': {'a': 0.8}}
    """
    rows = {}
    for evaluation in evaluations:
        frame = evaluation.metrics.frame
        rows[evaluation.name] = {
            f"{m:g}": v for m, v in zip(frame["mass"], frame[metric], strict=True)
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table = table[sorted(table.columns, key=float)]
    with np.errstate(invalid="ignore"):
        table["mean"] = table.replace(np.inf, np.nan).mean(axis=1)
    return table


def _table_html(table: pd.DataFrame) -> str:
    best = table.replace(np.nan, -np.inf).max(axis=0)
    head = "".join(f"<th>{html.escape(str(c))}{'' if c == 'mean' else ' GeV'}</th>" for c in table)
    lines = [f"<table><thead><tr><th>model</th>{head}</tr></thead><tbody>"]
    for name, row in table.iterrows():
        cells = []
        for column, value in row.items():
            marked = len(table) > 1 and np.isfinite(best[column]) and value == best[column]
            text = "–" if pd.isna(value) else ("∞" if np.isinf(value) else f"{value:.4g}")
            cells.append(f'<td class="best">{text}</td>' if marked else f"<td>{text}</td>")
        lines.append(f"<tr><td>{html.escape(str(name))}</td>{''.join(cells)}</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def _img(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    text = html.escape(caption)
    return (
        f'<figure><img alt="{text}" src="data:image/png;base64,{data}">'
        f"<figcaption>{text}</figcaption></figure>"
    )


def _overlay_png(evaluations: Sequence[RunEvaluation]) -> bytes:
    curves = {e.name: e.grid if e.grid is not None else e.metrics.frame for e in evaluations}
    ax = plot_auc_vs_mass(curves, training_masses={e.name: e.training_masses for e in evaluations})
    return figure_png(ax)


def render_report(
    evaluations: Sequence[RunEvaluation],
    *,
    title: str = "hep-pnn report",
    sections: Sequence[str] = (),
) -> str:
    """The report as an HTML string (see :func:`write_report`); ``sections`` (HTML, e.g. of
    a hyper-parameter scan) follow the models."""
    names = [e.name for e in evaluations]
    if len(set(names)) != len(names):
        raise DataError(
            f"two models share a name in {names}",
            where="report input",
            fix="give each run a distinct directory name",
        )
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
        "<p>Per mass m: all test signal at m against all test background scored at m. "
        "Best value of each column highlighted.</p>",
    ]
    for metric, heading in REPORT_METRICS.items():
        if all(metric in e.metrics.frame for e in evaluations):
            parts += [
                f"<h2>{html.escape(heading)}</h2>",
                _table_html(comparison_table(evaluations, metric)),
            ]
    if evaluations:
        parts += [
            "<h2>ROC-AUC against mass</h2>",
            _img(_overlay_png(evaluations), "all models: ROC-AUC vs mass"),
        ]
    for evaluation in evaluations:
        figures = evaluation.figures or render_figures(evaluation)
        parts.append(f"<h2>{html.escape(evaluation.name)}</h2>")
        parts += [_img(png, f"{evaluation.name}: {name}") for name, png in figures.items()]
        if evaluation.config_text:
            parts += ["<h3>Configuration</h3>", f"<pre>{html.escape(evaluation.config_text)}</pre>"]
    parts += [*sections, "</body></html>"]
    return "\n".join(parts)


def write_report(
    runs_or_results: Sequence[RunEvaluation | str | os.PathLike[str]],
    path: str | os.PathLike[str],
    *,
    title: str = "hep-pnn report",
    overwrite: bool = False,
) -> Path:
    """Write one self-contained HTML page comparing evaluated models; returns its path.

    Args:
        runs_or_results: :class:`RunEvaluation` objects, or run directories already
            evaluated by ``pnn evaluate`` (their ``evaluation/`` folder is read), or
            ``pnn tune`` folders (their trial table and Optuna plots).
        path: the ``.html`` file to write (atomically).
        title: page title.
        overwrite: replace an existing file.
    """
    if not runs_or_results:
        raise DataError("nothing to report", where="report input", fix="give at least one run")
    from hep_pnn.tuning.report import scan_section
    from hep_pnn.tuning.results import is_scan_folder

    evaluations: list[RunEvaluation] = []
    scans: list[str] = []
    for item in runs_or_results:
        if isinstance(item, RunEvaluation):
            evaluations.append(item)
        elif is_scan_folder(item):
            scans.append(scan_section(item))
        else:
            evaluations.append(load_evaluation(item))
    page = render_report(evaluations, title=title, sections=scans)
    with atomic_path(path, overwrite=overwrite, option="--output") as tmp:
        tmp.write_text(page, encoding="utf-8")
    return Path(path)
