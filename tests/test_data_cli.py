"""``pnn inspect`` through the real command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from test_data_hepmass import hepmass_lines, set_field, write_lines


def run_pnn(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hep_pnn", *args], capture_output=True, text=True, timeout=300
    )


def test_inspect_hepmass(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "train.csv.gz", hepmass_lines(10))
    result = run_pnn("inspect", str(path), "--no-cache")
    assert result.returncode == 0, result.stderr
    assert "events: 10 (signal 5, background 5)" in result.stdout
    assert "signal masses [GeV]: 500 (1), 750 (1), 1000 (1), 1250 (1), 1500 (1)" in result.stdout
    assert "processes: signal 5, ttbar 5" in result.stdout
    assert not (tmp_path / "train.csv.gz.pnn-cache.parquet").exists()


def test_inspect_with_description(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b,y\n1,2,1\n3,4,0\n5,6,0\n")
    description = tmp_path / "d.yaml"
    description.write_text("features: [a, b]\nlabel_column: y\nmass_column: b\n")
    result = run_pnn("inspect", str(path), "--description", str(description))
    assert result.returncode == 0, result.stderr
    assert "events: 3 (signal 1, background 2)" in result.stdout
    assert "signal masses [GeV]: 2 (1)" in result.stdout


def test_inspect_bad_file_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bad.csv", set_field(hepmass_lines(5), 3, "f7", "abc"))
    result = run_pnn("inspect", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("pnn: error: file ")
    assert "column f7, row 3: non-numeric value 'abc'" in lines[0]
