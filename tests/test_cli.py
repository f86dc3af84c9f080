from __future__ import annotations

import subprocess
import sys

from hep_pnn import __version__


def run_pnn(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed ``pnn`` command (through the interpreter running the tests)."""
    return subprocess.run(
        [sys.executable, "-m", "hep_pnn", *args], capture_output=True, text=True, timeout=600
    )


def test_version() -> None:
    result = run_pnn("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"hep-pnn {__version__}"


def test_unknown_command_exits_2() -> None:
    result = run_pnn("no-such-command")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
