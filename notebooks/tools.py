"""Keep the tutorial notebook in shape: pair, execute, render.

The reviewed source is ``tutorial.py`` (jupytext percent format); ``tutorial.ipynb`` is
made from it with outputs stripped. ``tests/test_notebook.py`` checks the pair is in sync
and executes the notebook; ``render`` executes it once and writes docs/tutorial.md with
its figures as docs/figures/tutorial-*.png.

    PYTHONPATH=src python notebooks/tools.py sync      # tutorial.py -> tutorial.ipynb
    PYTHONPATH=src python notebooks/tools.py render    # execute, write docs/tutorial.md
"""

from __future__ import annotations

import argparse
import base64
import datetime
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOURCE = HERE / "tutorial.py"
NOTEBOOK = HERE / "tutorial.ipynb"
KERNEL_NAME = "hep-pnn-python3"
#: Text outputs longer than this many lines are cut in the rendered markdown.
MAX_OUTPUT_LINES = 40


def cell_sources(notebook: Any) -> list[tuple[str, str]]:
    """(cell type, source) of every cell: what the pair must agree on."""
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def notebook_from_source(source: Path = SOURCE) -> Any:
    """The notebook of a percent-format file, without outputs."""
    notebook = jupytext.read(source)
    notebook.metadata.pop("jupytext", None)
    return notebook


def sync(source: Path = SOURCE, target: Path = NOTEBOOK) -> Path:
    """Write ``target`` (.ipynb, outputs stripped) from the reviewed ``source`` (.py)."""
    nbformat.write(notebook_from_source(source), target)
    return target


def kernel_manager(directory: Path) -> KernelManager:
    """A manager of a python3 kernel run by this interpreter (its spec written to
    ``directory``), whatever kernels the user has installed elsewhere."""
    from ipykernel.kernelspec import write_kernel_spec

    kernels = directory / "kernels"
    write_kernel_spec(kernels / KERNEL_NAME)  # argv: this sys.executable -m ipykernel_launcher
    specs = KernelSpecManager(kernel_dirs=[str(kernels)])
    return KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)


def execute(notebook: Any, *, cwd: Path, timeout: int = 300) -> Any:
    """Run every cell of ``notebook`` in a fresh kernel in ``cwd``; raises on a failing cell."""
    with tempfile.TemporaryDirectory(prefix="pnn-kernel-") as specs:
        client = NotebookClient(
            notebook,
            km=kernel_manager(Path(specs)),
            timeout=timeout,
            resources={"metadata": {"path": str(cwd)}},
        )
        client.execute()
    return notebook


def _text_output(output: Any) -> str | None:
    if output.output_type == "stream":
        return str(output.text)
    data = output.get("data", {})
    if "text/markdown" in data:
        return None
    return str(data["text/plain"]) if "text/plain" in data else None


def to_markdown(notebook: Any, *, figures: Path, link: str, prefix: str = "tutorial") -> str:
    """Markdown of an executed notebook; its PNG outputs written to ``figures``."""
    parts: list[str] = []
    count = 0
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
            continue
        parts.append(f"```python\n{cell.source}\n```")
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                count += 1
                name = f"{prefix}-{count:02d}.png"
                (figures / name).write_bytes(base64.b64decode(data["image/png"]))
                parts.append(f"![figure {count}]({link}/{name})")
            else:
                text = _text_output(output)
                if text and text.strip():
                    lines = text.rstrip().splitlines()
                    if len(lines) > MAX_OUTPUT_LINES:
                        lines = [*lines[:MAX_OUTPUT_LINES], "…"]
                    parts.append("```text\n" + "\n".join(lines) + "\n```")
    return "\n\n".join(parts) + "\n"


def render(*, output: Path = REPO / "docs" / "tutorial.md") -> float:
    """Execute the notebook in a temporary folder and write its markdown; returns seconds."""
    figures = output.parent / "figures"
    for old in figures.glob("tutorial-*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="pnn-tutorial-") as work:
        start = time.perf_counter()
        notebook = execute(notebook_from_source(), cwd=Path(work))
        seconds = time.perf_counter() - start
    sys.path.insert(0, str(REPO / "benchmarks"))
    from machine import cpu_model

    header = (
        "<!-- Rendered from notebooks/tutorial.py by `python notebooks/tools.py render`; "
        "edit the notebook, not this file. -->\n\n"
        f"*The notebook `notebooks/tutorial.ipynb` as executed by `python notebooks/tools.py "
        f"render` on {cpu_model() or 'an unknown CPU'} (2 cores) on {datetime.date.today()}: "
        f"{seconds:.0f} s.*\n\n"
    )
    output.write_text(header + to_markdown(notebook, figures=figures, link="figures"))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["sync", "render"])
    args = parser.parse_args()
    if args.action == "sync":
        print(f"wrote {sync()}")
    else:
        seconds = render()
        print(f"executed the notebook in {seconds:.1f} s; wrote docs/tutorial.md", file=sys.stderr)


if __name__ == "__main__":
    main()
