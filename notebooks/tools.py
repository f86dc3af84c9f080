"""Keep the tutorial notebooks in shape: pair, execute, render.

Each notebook NAME (:data:`NOTEBOOKS`) has a reviewed source ``NAME.py`` (jupytext percent
format); ``NAME.ipynb`` is made from it with outputs stripped. ``tests/test_notebook.py``
checks every pair is in sync and executes the notebooks; ``render`` executes one and writes
docs/STEM.md with its figures as docs/figures/STEM-*.png (STEM: ``tutorial`` for
``tutorial``, ``jets-tutorial`` for ``jets``).

    PYTHONPATH=src python notebooks/tools.py sync             # every NAME.py -> NAME.ipynb
    PYTHONPATH=src python notebooks/tools.py render           # execute, write docs/tutorial.md
    PYTHONPATH=src python notebooks/tools.py render jets      # ... docs/jets-tutorial.md
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
#: Notebook name -> stem of its rendered page docs/STEM.md and figures docs/figures/STEM-*.png.
NOTEBOOKS = {"tutorial": "tutorial", "jets": "jets-tutorial"}
SOURCE = HERE / "tutorial.py"
NOTEBOOK = HERE / "tutorial.ipynb"
KERNEL_NAME = "hep-pnn-python3"
#: Text outputs longer than this many lines are cut in the rendered markdown.
MAX_OUTPUT_LINES = 40


def cell_sources(notebook: Any) -> list[tuple[str, str]]:
    """(cell type, source) of every cell: what the pair must agree on."""
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def notebook_from_source(source: Path = SOURCE) -> Any:
    """The notebook of a percent-format file, without outputs (cell ids by position, so
    re-syncing an unchanged source changes nothing)."""
    notebook = jupytext.read(source)
    notebook.metadata.pop("jupytext", None)
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index:03d}"
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


def source_path(name: str = "tutorial") -> Path:
    """The reviewed source of notebook ``name``."""
    return HERE / f"{name}.py"


def notebook_path(name: str = "tutorial") -> Path:
    """The committed notebook (outputs stripped) of notebook ``name``."""
    return HERE / f"{name}.ipynb"


def render(name: str = "tutorial", *, output: Path | None = None) -> float:
    """Execute notebook ``name`` in a temporary folder and write its markdown (default
    docs/STEM.md); returns seconds."""
    stem = NOTEBOOKS[name]
    output = output or REPO / "docs" / f"{stem}.md"
    figures = output.parent / "figures"
    for old in figures.glob(f"{stem}-[0-9]*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix=f"pnn-{stem}-") as work:
        start = time.perf_counter()
        notebook = execute(notebook_from_source(source_path(name)), cwd=Path(work))
        seconds = time.perf_counter() - start
    sys.path.insert(0, str(REPO / "benchmarks"))
    from machine import cpu_model

    header = (
        f"<!-- Rendered from notebooks/{name}.py by `python notebooks/tools.py render {name}`; "
        "edit the notebook, not this file. -->\n\n"
        f"*The notebook `notebooks/{name}.ipynb` as executed by `python notebooks/tools.py "
        f"render {name}` on {cpu_model() or 'an unknown CPU'} (2 cores) on "
        f"{datetime.date.today()}: {seconds:.0f} s.*\n\n"
    )
    markdown = to_markdown(notebook, figures=figures, link="figures", prefix=stem)
    output.write_text(header + markdown)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["sync", "render"])
    parser.add_argument(
        "names", nargs="*", help=f"of {list(NOTEBOOKS)} (sync: all; render: tutorial)"
    )
    args = parser.parse_args()
    if unknown := set(args.names) - set(NOTEBOOKS):
        parser.error(f"unknown notebook {sorted(unknown)}; choose from {list(NOTEBOOKS)}")
    if args.action == "sync":
        for name in args.names or NOTEBOOKS:
            print(f"wrote {sync(source_path(name), notebook_path(name))}")
    else:
        for name in args.names or ["tutorial"]:
            seconds = render(name)
            print(
                f"executed {name} in {seconds:.1f} s; wrote docs/{NOTEBOOKS[name]}.md",
                file=sys.stderr,
            )


if __name__ == "__main__":
    main()
