"""The ``pnn`` command: a thin layer over the library.

Every command parses options, calls public library functions and prints a short
summary. A :class:`~hep_pnn.errors.PNNError` becomes one line on stderr and exit
code 2, with no traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from hep_pnn import __version__
from hep_pnn.errors import PNNError

__all__ = ["app", "main"]

app = typer.Typer(
    name="pnn",
    help="Parametric neural networks for signal/background classification in HEP.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hep-pnn {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Parametric neural networks for signal/background classification in HEP."""


@app.command()
def demo(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the demo results.")
    ] = Path("demo-output"),
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output folder.")] = False,
) -> None:
    """Generate data, train AffinePNN and pNN, evaluate them and write a report."""
    typer.echo(
        "pnn demo: not built yet (waiting for the generator, models, training and evaluation)."
    )
    raise typer.Exit(code=1)


# --- commands ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``pnn`` command."""
    try:
        app(args=argv, standalone_mode=True)
    except PNNError as err:
        typer.echo(f"pnn: error: {err}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("pnn: interrupted", err=True)
        sys.exit(130)
