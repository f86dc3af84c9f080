"""The tutorial notebook: paired with its reviewed source, public API only, and it runs."""

from __future__ import annotations

import importlib.util
import re
import time
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]


def _load_tools() -> ModuleType:
    """notebooks/tools.py (pairing, execution, rendering), under a name of its own."""
    spec = importlib.util.spec_from_file_location(
        "hep_pnn_notebook_tools", REPO / "notebooks" / "tools.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


for _extra in ("jupytext", "nbclient", "ipykernel"):  # hep-pnn[notebook], installed by make
    pytest.importorskip(_extra)
tools = _load_tools()

#: Wall-clock budget of one execution on 2 cores (the notebook's own cells; tiny sizes).
BUDGET_SECONDS = 90


def test_ipynb_is_the_py_source_without_outputs() -> None:
    committed = nbformat.read(tools.NOTEBOOK, as_version=4)
    assert tools.cell_sources(committed) == tools.cell_sources(tools.notebook_from_source()), (
        "notebooks/tutorial.ipynb differs from notebooks/tutorial.py: "
        "run `python notebooks/tools.py sync`"
    )
    for cell in committed.cells:
        assert not cell.get("outputs") and cell.get("execution_count") is None


def test_notebook_uses_only_the_public_api() -> None:
    source = tools.SOURCE.read_text()
    private = re.findall(
        r"^\s*(?:from\s+hep_pnn\S*\._\w+|from\s+hep_pnn\S*\s+import\s+.*\b_\w+"
        r"|import\s+hep_pnn\S*\._\w+).*$",
        source,
        flags=re.MULTILINE,
    )
    assert private == []
    assert re.search(r"hep_pnn(\.\w+)*\._(?!_)", source) is None  # dunders are public


def test_private_import_check_catches_one(tmp_path) -> None:
    # the check above must be able to fail
    bad = "from hep_pnn._io import atomic_path\n"
    assert re.search(r"hep_pnn(\.\w+)*\._(?!_)", bad)


@pytest.mark.slow
def test_notebook_executes(tmp_path) -> None:
    start = time.perf_counter()
    notebook = tools.execute(tools.notebook_from_source(), cwd=tmp_path, timeout=240)
    seconds = time.perf_counter() - start
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.output_type == "error"]
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(images) >= 8
    assert (tmp_path / "tutorial-output" / "affine.onnx").is_file()
    assert (tmp_path / "tutorial-output" / "scores.root").is_file()
    assert seconds < 2 * BUDGET_SECONDS, f"the tutorial took {seconds:.0f} s"
