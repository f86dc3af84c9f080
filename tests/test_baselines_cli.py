"""`pnn train --model ...` with baselines, through the installed command: bad input exits 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hep_pnn.cli import main
from hep_pnn.data import EventTable, write_parquet


def run_pnn(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hep_pnn", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config on a small events file, and one on a file with background only."""
    folder = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    n = 600
    label = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 2)) + label[:, None]
    mass = np.where(label == 1, 1000.0, np.nan)
    events = EventTable.from_arrays(x, label=label, mass=mass)
    write_parquet(events, folder / "events.parquet")
    write_parquet(events.background(), folder / "background.parquet")
    configs = {
        "config": ("events", "{preset: mlp}"),
        "background": ("background", "{preset: mlp}"),
        "foreign": ("events", "{preset: bdt, options: {n_neighbors: 5}}"),
    }
    for name, (data, model) in configs.items():
        (folder / f"{name}.yaml").write_text(
            f"data: {{source: files, paths: [{data}.parquet]}}\nmodel: {model}\n"
        )
    return folder


def assert_one_line_error(result: subprocess.CompletedProcess[str], *parts: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pnn: error:"), result.stderr
    for part in parts:
        assert part in lines[0]


def test_train_knn_from_the_command_line(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workdir)
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "config.yaml", "--model", "knn", "-o", "run-knn"])
    assert exit_info.value.code in (0, None)
    assert "mean validation AUC" in capsys.readouterr().out
    assert (workdir / "run-knn" / "model" / "model.safetensors").is_file()


def test_unknown_model_lists_the_valid_ones(workdir: Path) -> None:
    result = run_pnn("train", "config.yaml", "--model", "svm", "-o", "run-svm", cwd=workdir)
    assert_one_line_error(result, "unknown model 'svm'", "--model", "knn", "pbdt", "affine")
    assert not (workdir / "run-svm").exists()


def test_option_of_another_model(workdir: Path) -> None:
    result = run_pnn("train", "foreign.yaml", "-o", "run-bdt", cwd=workdir)
    assert_one_line_error(result, "foreign.yaml", "model.options.n_neighbors", "'bdt'")


def test_single_class_training_set(workdir: Path) -> None:
    result = run_pnn("train", "background.yaml", "--model", "knn", "-o", "run-bg", cwd=workdir)
    assert_one_line_error(result, "signal and background")
