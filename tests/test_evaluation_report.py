"""Evaluation folders and the self-contained HTML report: structure, round trip, no partials."""

from __future__ import annotations

import base64
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hep_pnn.errors import DataError, OutputExistsError
from hep_pnn.evaluation import (
    evaluate_scorer,
    load_evaluation,
    write_evaluation,
    write_report,
)
from test_evaluation_metrics import MASSES, ToyScorer, toy_table

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class ReportParser(HTMLParser):
    """Collects images, tables (rows of (text, is_best) cells) and external references."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.tables: list[list[list[tuple[str, bool]]]] = []
        self.external: list[str] = []
        self._cell: list[str] | None = None
        self._best = False
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "img":
            self.images.append(attributes.get("src", ""))
        if tag in ("script", "link") or (tag != "img" and "src" in attributes):
            self.external.append(tag)
        if tag == "table":
            self.tables.append([])
        if tag == "tbody":
            self._in_body = True
        if tag == "tr" and self._in_body:
            self.tables[-1].append([])
        if tag == "td":
            self._cell, self._best = [], attributes.get("class") == "best"

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        if tag == "td" and self._cell is not None:
            self.tables[-1][-1].append(("".join(self._cell), self._best))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def blind_scorer(features: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """Ignores the mass: worse than ToyScorer at both masses."""
    return features[:, 0]


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory) -> list[Path]:
    table = toy_table(n_signal=200, n_background=600)
    history = pd.DataFrame(
        {
            "epoch": [1, 2],
            "train_loss": [0.6, 0.5],
            "val_loss": [0.6, 0.55],
            "val_auc_mean": [0.8, 0.9],
        }
    )
    dirs = []
    for name, scorer in (("toy", ToyScorer()), ("blind", blind_scorer)):
        run_dir = tmp_path_factory.mktemp("runs") / name
        run_dir.mkdir()
        (run_dir / "config.yaml").write_text(f"model:\n  preset: {name}-preset\n")
        history.to_csv(run_dir / "history.csv", index=False)
        evaluation = evaluate_scorer(
            scorer, table, name=name, training_masses=MASSES, history=history, representation=None
        )
        write_evaluation(evaluation, run_dir / "evaluation")
        dirs.append(run_dir)
    return dirs


def parse(path: Path) -> ReportParser:
    parser = ReportParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_evaluation_folder_round_trip(run_dirs) -> None:
    folder = run_dirs[0] / "evaluation"
    assert {p.name for p in folder.iterdir()} >= {"metrics.json", "metrics.md", "roc.png"}
    loaded = load_evaluation(run_dirs[0])
    fresh = evaluate_scorer(ToyScorer(), toy_table(n_signal=200, n_background=600))
    assert np.allclose(loaded.metrics.frame["roc_auc"], fresh.metrics.frame["roc_auc"])
    assert loaded.training_masses == MASSES and "toy-preset" in loaded.config_text
    assert loaded.history is not None and len(loaded.history) == 2
    assert all(png.startswith(PNG_MAGIC) for png in loaded.figures.values())
    with pytest.raises(OutputExistsError):
        write_evaluation(loaded, folder)


def test_report_structure(run_dirs, tmp_path) -> None:
    output = write_report(run_dirs, tmp_path / "report.html", title="Toy vs blind")
    parser = parse(output)
    assert parser.external == []
    # Overlay + (roc, scores, auc_vs_mass, history, sculpting) per run.
    assert len(parser.images) == 1 + 2 * 5
    for source in parser.images:
        prefix = "data:image/png;base64,"
        assert source.startswith(prefix)
        assert base64.b64decode(source[len(prefix) :]).startswith(PNG_MAGIC)
    assert len(parser.tables) == 5  # ROC-AUC unweighted and weighted, PR-AUC, Z, rejection
    for table in parser.tables:
        assert [row[0][0] for row in table] == ["toy", "blind"]
        assert all(len(row) == 1 + len(MASSES) + 1 for row in table)  # name, masses, mean
    # ROC-AUC: the mass-aware toy model beats the blind one in every column.
    auc = parser.tables[0]
    assert all(best for _, best in auc[0][1:]) and not any(best for _, best in auc[1][1:])
    toy_auc = load_evaluation(run_dirs[0]).metrics.frame["roc_auc"]
    assert auc[0][1][0] == f"{toy_auc[0]:.4g}"
    html = output.read_text()
    assert "toy-preset" in html and "blind-preset" in html and "<title>Toy vs blind</title>" in html


def test_report_refuses_overwrite_and_leaves_nothing_on_error(run_dirs, tmp_path) -> None:
    output = tmp_path / "report.html"
    write_report(run_dirs[:1], output)
    with pytest.raises(OutputExistsError):
        write_report(run_dirs[:1], output)
    write_report(run_dirs, output, overwrite=True)
    assert len(parse(output).tables[0]) == 2
    missing = tmp_path / "not-evaluated"
    missing.mkdir()
    with pytest.raises(DataError, match="pnn evaluate"):
        write_report([run_dirs[0], missing], tmp_path / "other.html")
    with pytest.raises(DataError, match="share a name"):
        write_report([run_dirs[0], run_dirs[0]], tmp_path / "other.html")
    assert not (tmp_path / "other.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-evaluated", "report.html"]


BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    BROWSER is None,
    reason="chromium not on PATH (CI installs it; manual check: docs/evaluation.md)",
)
def test_report_renders_in_headless_chromium(run_dirs, tmp_path) -> None:
    import matplotlib.pyplot as plt

    output = write_report(run_dirs, tmp_path / "report.html")
    screenshot = tmp_path / "report.png"
    result = subprocess.run(
        [
            str(BROWSER),
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            # a fresh profile and no network: nothing is read from or phoned home
            f"--user-data-dir={tmp_path / 'profile'}",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--screenshot={screenshot}",
            "--window-size=1200,2000",
            output.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert screenshot.read_bytes().startswith(PNG_MAGIC)
    # The embedded plots were decoded and drawn: their coloured lines and markers cover
    # 0.2 % of this window; the same page with broken images has 0.01 % coloured pixels
    # (the tables' highlights are pale).
    rgb = plt.imread(screenshot)[..., :3]
    assert np.mean(rgb.max(axis=-1) - rgb.min(axis=-1) > 0.3) > 5e-4
