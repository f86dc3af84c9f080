"""`pnn evaluate` and `pnn report` on a tiny real run: outputs, warnings, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hep_pnn.cli import main
from hep_pnn.data import write_events
from hep_pnn.data.generator import generate
from hep_pnn.training import load_experiment, train_experiment


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``pnn`` in-process (faster than a subprocess); return code, stdout, stderr."""
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pnn: error:"), err
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    config = load_experiment(
        None,
        [
            "data.masses=[500, 1000]",
            "data.n_signal_per_mass=100",
            "data.n_background=200",
            "model.options.hidden=[8]",
            "training.epochs=1",
        ],
    )
    directory = tmp_path_factory.mktemp("cli") / "run"
    train_experiment(config, directory, progress=False)
    return directory


@pytest.fixture(scope="module")
def data_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("data")
    table = generate(masses=[500, 1000, 1500], n_signal_per_mass=60, n_background=150, seed=9)
    without_f26 = table.to_pandas().drop(columns=["f26"])
    files = {"good": folder / "test.parquet", "no_f26": folder / "no_f26.csv"}
    write_events(table, files["good"])
    without_f26.to_csv(files["no_f26"], index=False)
    return files


def test_evaluate_then_report(run_dir, data_files, tmp_path, capsys) -> None:
    code, out, err = run_cli(
        capsys, "evaluate", run_dir, "--data", data_files["good"], "--masses", "500,1000,1500"
    )
    assert code == 0, err
    assert "pnn: warning: extrapolation: mass 1500" in err
    rows = [line for line in out.splitlines() if line.startswith("| 1") or line.startswith("| 5")]
    assert [row.split("|")[1].strip() for row in rows] == ["500", "1000", "1500"]
    metrics = json.loads((run_dir / "evaluation" / "metrics.json").read_text())
    assert [m["mass"] for m in metrics["masses"]] == [500.0, 1000.0, 1500.0]
    assert metrics["training_masses"] == [500.0, 1000.0]
    assert (run_dir / "evaluation" / "history.png").is_file()

    code, _, err = run_cli(capsys, "evaluate", run_dir)
    assert_one_line_error(code, err, "already exists", "--overwrite")

    report = tmp_path / "report.html"
    code, out, err = run_cli(capsys, "report", run_dir, "-o", report)
    assert code == 0 and report.is_file(), err
    assert 'class="best"' not in report.read_text()  # one run: nothing to compare
    code, _, err = run_cli(capsys, "report", run_dir, "-o", report)
    assert_one_line_error(code, err, "already exists")


def test_evaluate_bad_inputs_leave_nothing(run_dir, data_files, tmp_path, capsys) -> None:
    before = sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*"))
    code, _, err = run_cli(capsys, "evaluate", tmp_path)
    assert_one_line_error(code, err, "not a run directory")
    options = ("--overwrite",)
    code, _, err = run_cli(capsys, "evaluate", run_dir, "--data", data_files["no_f26"], *options)
    assert_one_line_error(code, err, "f26", "no_f26.csv")
    code, _, err = run_cli(capsys, "evaluate", run_dir, "--masses", "750", *options)
    assert_one_line_error(code, err, "no signal events", "750")
    code, _, err = run_cli(capsys, "evaluate", run_dir, "--grid", "900:400:50", *options)
    assert_one_line_error(code, err, "--grid")
    code, _, err = run_cli(capsys, "evaluate", run_dir, "--representation", "umap", *options)
    assert_one_line_error(code, err, "--representation", "umap")
    code, _, err = run_cli(capsys, "report", tmp_path, "-o", tmp_path / "r.html")
    assert_one_line_error(code, err, "pnn evaluate")
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "evaluation").exists()
    assert sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*")) == before
