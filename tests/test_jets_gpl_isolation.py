"""The core never imports the GPL jet generator's dependencies (Pythia 8, FastJet)."""

from __future__ import annotations

import subprocess
import sys

CORE_MODULES = (
    "hep_pnn",
    "hep_pnn.cli",
    "hep_pnn.data",
    "hep_pnn.data.readers",
    "hep_pnn.data.jets",
    "hep_pnn.data.jets.sample",
    "hep_pnn.data.jets.reader",
    "hep_pnn.data.jets.layout",
    "hep_pnn.data.jets.substructure",
    "hep_pnn.data.jets.plots",
    "hep_pnn.data.jets.generate",  # importing the generator itself must not load them either
    "hep_pnn.data.jets.zprime",
    "hep_pnn.data.jets.showered",
    "hep_pnn.models",
    "hep_pnn.models.jets",
    "hep_pnn.data.jets.images",
    "hep_pnn.data.jets.particles",
    "hep_pnn.data.jets.toy",
    "hep_pnn.evaluation.jet_runs",
    "hep_pnn.evaluation.jet_report",
    "hep_pnn.training",
    "hep_pnn.jet_demo",  # generates through hep_pnn.data.jets.generate, imported when run
)


def test_core_imports_neither_pythia_nor_fastjet() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {CORE_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pythia8mc', 'fastjet')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]", result.stdout
