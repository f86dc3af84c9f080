"""The section of a scan in ``pnn report``: its trial table and Optuna's plots."""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

import pandas as pd

from hep_pnn.tuning.results import BEST_CONFIG, PLOTS_DIR, RESULTS_CSV

__all__ = ["scan_section"]

_CAPTIONS = {
    "history": "optimisation history: best mean validation AUC of each trial",
    "importances": "parameter importances (fANOVA)",
}


def scan_section(folder: str | os.PathLike[str]) -> str:
    """HTML for the scan in ``folder`` (written by ``pnn tune``): table, plots, best config."""
    folder = Path(folder)
    parts = [f"<h2>Hyper-parameter scan {html.escape(folder.name)}</h2>"]
    results = folder / RESULTS_CSV
    if results.is_file():
        table = pd.read_csv(results, index_col="trial").drop(columns="run_dir", errors="ignore")
        parts.append(table.to_html(float_format=lambda v: f"{v:.4g}", na_rep="–"))
    for name, caption in _CAPTIONS.items():
        png = folder / PLOTS_DIR / f"{name}.png"
        if png.is_file():
            data = base64.b64encode(png.read_bytes()).decode("ascii")
            text = html.escape(caption)
            parts.append(
                f'<figure><img alt="{text}" src="data:image/png;base64,{data}">'
                f"<figcaption>{text}</figcaption></figure>"
            )
    best = folder / BEST_CONFIG
    if best.is_file():
        parts += ["<h3>Best configuration</h3>", f"<pre>{html.escape(best.read_text())}</pre>"]
    return "\n".join(parts)
