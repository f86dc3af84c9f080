"""``pnn export`` and ``pnn apply`` through the installed command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import uproot

from hep_pnn.models import build_model, preset, save_model


def run_pnn(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hep_pnn", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_export_then_apply_onnx_to_root(tmp_path: Path) -> None:
    net = build_model(preset("affine", hidden=(8, 4)), feature_names=["a", "b"], seed=3)
    rng = np.random.default_rng(3)
    net.fit_preprocessing(rng.normal(2, 4, (200, 2)), rng.uniform(500, 1000, 200))
    net.training_masses = (500.0, 1000.0)
    save_model(net, tmp_path / "model")
    frame = pd.DataFrame(rng.normal(2, 4, (250, 2)).astype(np.float32), columns=["a", "b"])
    frame.to_parquet(tmp_path / "in.parquet")

    exported = run_pnn("export", tmp_path / "model", "--format", "onnx", "-o", tmp_path / "m.onnx")
    assert exported.returncode == 0, exported.stderr
    assert "m.onnx" in exported.stdout

    applied = run_pnn(
        "apply", tmp_path / "m.onnx", tmp_path / "in.parquet", "--masses", "750,1250",
        "-o", tmp_path / "s.root", "--chunk-size", "100",
    )  # fmt: skip
    assert applied.returncode == 0, applied.stderr
    assert "wrote 250 events × 2 mass hypotheses (score_m750, score_m1250)" in applied.stdout
    assert applied.stderr.startswith("pnn: warning: extrapolation: mass 1250 GeV")
    with uproot.open(tmp_path / "s.root") as file:
        scores = file["pnn_scores"].arrays(library="np")
    features = frame.to_numpy()
    for mass in (750.0, 1250.0):
        expected = net.predict(features, np.full(250, mass, np.float32))
        assert np.abs(scores[f"score_m{mass:.0f}"] - expected).max() <= 1e-5

    # The same command again: refused, one line, exit code 2, the result untouched.
    before = (tmp_path / "s.root").read_bytes()
    again = run_pnn(
        "apply", tmp_path / "m.onnx", tmp_path / "in.parquet", "--masses", "750",
        "-o", tmp_path / "s.root",
    )  # fmt: skip
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1
    assert again.stderr.startswith("pnn: error: ") and "--overwrite" in again.stderr
    assert (tmp_path / "s.root").read_bytes() == before


def test_bad_input_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    net = build_model(preset("pnn", hidden=(4,)), feature_names=["lep_pt", "met"])
    save_model(net, tmp_path / "model")
    pd.DataFrame({"Lep_PT": [1.0, 2.0], "met": [3.0, np.nan]}).to_csv(
        tmp_path / "in.csv", index=False
    )
    command = ["apply", tmp_path / "model", tmp_path / "in.csv", "--masses", "500"]
    missing = run_pnn(*command, "-o", tmp_path / "s.csv")
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
    assert "missing feature column(s) lep_pt (closest: Lep_PT)" in missing.stderr

    mapped = run_pnn(*command, "-o", tmp_path / "s.csv", "--map", "lep_pt=Lep_PT")
    assert mapped.returncode == 2
    assert mapped.stderr.count("\n") == 1
    assert "in.csv, column met, row 2" in mapped.stderr
    assert not (tmp_path / "s.csv").exists()
