"""The machine a benchmark ran on, for the figures it prints (docs/benchmarks.md asks for it)."""

from __future__ import annotations

import subprocess


def cpu_model() -> str:
    """The ``Model name`` line of ``lscpu`` (empty when lscpu is missing)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except FileNotFoundError:
        return ""
    return next(
        (
            line.split(":", 1)[1].strip()
            for line in out.splitlines()
            if line.startswith("Model name")
        ),
        "",
    )
