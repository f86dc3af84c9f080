"""`pnn generate` through the installed command: formats, layouts, refusals, bad input."""

from __future__ import annotations

import inspect
import subprocess
import sys

import numpy as np
import pytest

from hep_pnn.cli import generate_command, main
from hep_pnn.data import read_events, read_hepmass_imb
from hep_pnn.data.generator import generate
from hep_pnn.errors import ConfigError
from hep_pnn.mass_lists import parse_masses


def run_pnn(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hep_pnn", *args], capture_output=True, text=True, timeout=600
    )


def run_in_process(*args: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    assert exit_info.value.code in (0, None)


def test_writes_parquet_equal_to_the_library_and_refuses_to_overwrite(tmp_path):
    path = tmp_path / "events.parquet"
    args = ["generate", "-o", str(path), "--masses", "500,900", "--signal", "200"]
    args += ["--background", "300", "--seed", "3", "--no-progress"]
    result = run_pnn(*args)
    assert result.returncode == 0, result.stderr
    assert "wrote 700 events" in result.stdout
    table = read_events([path], cache=False)
    expected = generate(masses=(500.0, 900.0), n_signal_per_mass=200, n_background=300, seed=3)
    assert np.array_equal(table.features, expected.features)
    assert np.array_equal(table.weight, expected.weight)

    before = path.read_bytes()
    again = run_pnn(*args)
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1 and "--overwrite" in again.stderr
    assert path.read_bytes() == before
    run_in_process(*args, "--overwrite", "--seed", "4")  # a second start-up is slow
    assert path.read_bytes() != before


def test_hepmass_imb_layout_writes_two_files(tmp_path):
    path = tmp_path / "imbalanced.csv"
    options = ["--preset", "hepmass-imb", "--fraction", "0.0005", "--layout", "hepmass-imb"]
    run_in_process("generate", "-o", str(path), *options, "--no-progress")
    table = read_hepmass_imb(
        tmp_path / "imbalanced_signal.csv", tmp_path / "imbalanced_background.csv", cache=False
    )
    counts = [len(table.signal(mass=m)) for m in (500.0, 750.0, 1000.0, 1250.0, 1500.0)]
    assert counts == [175, 70, 18, 4, 1]
    assert len(table.background()) == 2625


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--masses", "345"], "threshold"),
        (["--mass-range", "2000:400:50"], "--mass-range"),
        (["--signal", "0"], "n_signal_per_mass"),
        (["--preset", "hepmass-3"], "unknown preset"),
        (["--preset", "hepmass", "--signal", "5"], "--preset"),
        (["--layout", "hepmass"], "layout"),
        (["--spin", "1"], "option spin"),
        (["--btag-efficiency", "0.9,x,0.1"], "--btag-efficiency: '0.9,x,0.1' is not three"),
        (["--btag-efficiency", "0.9,0.3"], "--btag-efficiency: '0.9,0.3' is not three"),
        (["--btag-efficiency", "0.9,0.3,1.5"], "--btag-efficiency"),
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "-o", str(tmp_path / "x.parquet"), *args])
    assert exit_info.value.code == 2
    stderr = capsys.readouterr().err
    assert message in stderr and stderr.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_parse_masses():
    assert parse_masses("400:2000:400") == (400.0, 800.0, 1200.0, 1600.0, 2000.0)
    assert parse_masses(" 500, 750.5") == (500.0, 750.5)
    with pytest.raises(ConfigError, match="--masses"):
        parse_masses("500,abc")


def test_unwritable_output_exits_2_before_generating(tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "-o", str(blocker / "events.parquet"), "--signal", "10"])
    assert exit_info.value.code == 2
    assert "cannot create folder" in capsys.readouterr().err


def test_the_cli_defaults_are_the_generators():
    """The CLI keeps its defaults as literals (it does not import the generator at start-up);
    they must equal the library's."""
    cli, library = (inspect.signature(f).parameters for f in (generate_command, generate))
    assert cli["width"].default == library["width_fraction"].default
    assert cli["spin"].default == library["spin"].default
