"""The tutorial notebooks: paired with their reviewed sources, public API only, and they run."""

from __future__ import annotations

import importlib.util
import re
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

#: What an execution must leave behind: PNG outputs at least, files under the working folder.
PRODUCTS = {
    "tutorial": (8, ["tutorial-output/affine.onnx", "tutorial-output/scores.root"]),
    "jets": (4, ["jets-output/jets.parquet", "jets-output/runs/particlenet_lite/history.csv"]),
}
NAMES = list(tools.NOTEBOOKS)


def test_every_notebook_is_checked() -> None:
    assert set(PRODUCTS) == set(tools.NOTEBOOKS)
    assert {path.stem for path in (REPO / "notebooks").glob("*.ipynb")} == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_ipynb_is_the_py_source_without_outputs(name: str) -> None:
    committed = nbformat.read(tools.notebook_path(name), as_version=4)
    expected = tools.notebook_from_source(tools.source_path(name))
    assert tools.cell_sources(committed) == tools.cell_sources(expected), (
        f"notebooks/{name}.ipynb differs from notebooks/{name}.py: "
        "run `python notebooks/tools.py sync`"
    )
    for cell in committed.cells:
        assert not cell.get("outputs") and cell.get("execution_count") is None


@pytest.mark.parametrize("name", NAMES)
def test_notebook_uses_only_the_public_api(name: str) -> None:
    source = tools.source_path(name).read_text()
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
@pytest.mark.parametrize("name", NAMES)
def test_notebook_executes(name: str, tmp_path) -> None:
    if name == "jets":
        pytest.importorskip("pythia8mc")  # hep-pnn[jets]
        pytest.importorskip("fastjet")
    # no time limit here (speed lives in benchmarks/, not in timed tests): the execution
    # time is what `notebooks/tools.py` records when it renders the notebook into docs/
    notebook = tools.execute(
        tools.notebook_from_source(tools.source_path(name)), cwd=tmp_path, timeout=240
    )
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.output_type == "error"]
    assert not [output for output in outputs if output.get("name") == "stderr"]
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    n_images, files = PRODUCTS[name]
    assert len(images) >= n_images
    for file in files:
        assert (tmp_path / file).is_file(), file
