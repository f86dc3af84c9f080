"""One self-contained HTML page comparing evaluated jet-tagger runs (``pnn report``).

Reads what :func:`~hep_pnn.evaluation.jet_runs.evaluate_jet_run` wrote into each
``RUN_DIR/evaluation``: the metrics, the scores of the test jets and the figures.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hep_pnn._io import atomic_path
from hep_pnn.errors import DataError
from hep_pnn.evaluation.jet_plots import plot_rejection
from hep_pnn.evaluation.plots import figure_png
from hep_pnn.evaluation.report import _STYLE, _img
from hep_pnn.run_files import CONFIG_FILE, EVALUATION_DIR, METRICS_JSON

__all__ = ["SCORES_FILE", "jet_metrics_table", "render_jet_report", "write_jet_report"]

#: Scores and labels of the test jets, one row per jet and sample, in ``evaluation/``.
SCORES_FILE = "scores.parquet"


def _evaluation(run_dir: Path) -> Path:
    folder = run_dir / EVALUATION_DIR
    if not (folder / METRICS_JSON).is_file() or not (folder / SCORES_FILE).is_file():
        raise DataError(
            f"no jet evaluation found in {run_dir}",
            where="report input",
            fix=f"run `pnn evaluate {run_dir}` first",
        )
    return folder


def jet_metrics_table(run_dirs: Sequence[Path]) -> pd.DataFrame:
    """One row per run and sample: the metrics of ``metrics.json``."""
    rows = []
    for run_dir in run_dirs:
        document = json.loads((_evaluation(run_dir) / METRICS_JSON).read_text())
        for sample, metrics in document["metrics"].items():
            rows.append(
                {"run": run_dir.name, "tagger": document["tagger"], "sample": sample, **metrics}
            )
    return pd.DataFrame(rows).set_index("run")


def render_jet_report(run_dirs: Sequence[str | os.PathLike[str]], *, title: str) -> str:
    """The report as an HTML string (see :func:`write_jet_report`)."""
    runs = [Path(r) for r in run_dirs]
    table = jet_metrics_table(runs)
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for run_dir in runs:
        scores = pd.read_parquet(_evaluation(run_dir) / SCORES_FILE)
        for sample, group in scores.groupby("sample", sort=False):
            name = run_dir.name if sample == "all jets" else f"{run_dir.name}, {sample}"
            curves[name] = (group["score"].to_numpy(), group["label"].to_numpy())
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
        "<p>Test jets of each run; rejection 1/ε_B at signal efficiency 0.3 and 0.5.</p>",
        table.to_html(float_format=lambda value: f"{value:.4g}", border=0),
        "<h2>Background rejection against signal efficiency</h2>",
        _img(figure_png(plot_rejection(curves)), "all taggers"),
    ]
    for run_dir in runs:
        folder = _evaluation(run_dir)
        parts.append(f"<h2>{html.escape(run_dir.name)}</h2>")
        parts += [
            _img(png.read_bytes(), f"{run_dir.name}: {png.name}")
            for png in sorted(folder.glob("*.png"))
        ]
        config = run_dir / CONFIG_FILE
        if config.is_file():
            parts += ["<h3>Configuration</h3>", f"<pre>{html.escape(config.read_text())}</pre>"]
    parts.append("</body></html>")
    return "\n".join(parts)


def write_jet_report(
    run_dirs: Sequence[str | os.PathLike[str]],
    path: str | os.PathLike[str],
    *,
    title: str = "hep-pnn jet taggers",
    overwrite: bool = False,
) -> Path:
    """Write the HTML page comparing evaluated jet runs to ``path`` (atomically)."""
    if not run_dirs:
        raise DataError("nothing to report", where="report input", fix="give at least one run")
    page = render_jet_report(run_dirs, title=title)
    with atomic_path(path, overwrite=overwrite, option="--output") as tmp:
        tmp.write_text(page, encoding="utf-8")
    return Path(path)
