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


def test_sigterm_removes_temporary_output(tmp_path) -> None:
    import signal
    import time

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hep_pnn",
            "demo",
            "-o",
            str(tmp_path / "out"),
            "--signal",
            "20000",
            "--background",
            "100000",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    # generous: a first run compiles the numba training kernels (≈ 20 s) before it can react
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM
    assert "terminated" in stderr and "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []  # no temporary folder, no half-written result
