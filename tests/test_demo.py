from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from hep_pnn.demo import run_demo


def test_demo_trains_both_models_and_writes_report(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_demo(
        tmp_path / "demo",
        n_signal_per_mass=300,
        n_background=1500,
        epochs=3,
        grid="500:1500:250",
        grid_signal=300,
        progress=False,
        echo=lines.append,
    )
    assert list(result.auc.index) == ["affine", "pnn"]
    assert list(result.auc.columns) == ["500", "750", "1000", "1250", "1500", "mean"]
    assert np.all(result.auc.to_numpy() <= 1.0)
    # a few optimiser steps on tiny data (3 epochs of ≈ 3 batches) learn something, and the
    # heavy resonance is the easy one
    assert np.all(result.auc["mean"] > 0.6)
    assert np.all(result.auc["1500"] > result.auc["500"])
    assert list(result.grid_auc.index) == [500.0, 750.0, 1000.0, 1250.0, 1500.0]
    html = result.report.read_text()
    assert "affine" in html and "pnn" in html and html.count("data:image/png;base64,") >= 4
    for name in ("affine", "pnn"):
        run = tmp_path / "demo" / "runs" / name
        assert (run / "model" / "model.safetensors").is_file()
        assert (run / "evaluation" / "metrics.json").is_file()
    assert any(line.startswith("[demo] training pnn") for line in lines)
    # no temporary folder left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_demo_refuses_existing_output_without_overwrite(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "hep_pnn", "demo", "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert "already exists" in result.stderr and "--overwrite" in result.stderr
    assert "Traceback" not in result.stderr
