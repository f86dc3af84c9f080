r"""Generate straight to a file in the HEPMASS, HEPMASS-IMB or native layout (``pnn generate``).

Masses for ``--masses`` / ``--mass-range`` are read by :func:`hep_pnn.mass_lists.parse_masses`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hep_pnn._io import check_writable
from hep_pnn.data.formats import FORMATS, matching_suffix
from hep_pnn.data.generator.api import generate
from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError

__all__ = ["LAYOUTS", "generate_to_file", "imb_paths"]

LAYOUTS = ("hepmass", "hepmass-imb", "native")


def _suffix(path: Path) -> str:
    """The file ending that picks the format (``.csv.gz`` counts as one)."""
    endings = [ending for fmt in FORMATS.values() for ending in fmt.table_suffixes]
    return matching_suffix(path, endings) or path.suffix.lower()


def _layout_suffixes(layout: str) -> tuple[str, ...]:
    """Endings of the formats that write ``layout`` (HEPMASS layouts: the CSV format)."""
    wanted = "native" if layout == "native" else "hepmass"
    return tuple(
        ending
        for fmt in FORMATS.values()
        if fmt.table_layout == wanted
        for ending in fmt.table_suffixes
    )


def imb_paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The signal and background files of the HEPMASS-IMB layout for ``path``.

    Example:
        >>> [p.name for p in imb_paths("out/imbalanced.csv")]
        ['imbalanced_signal.csv', 'imbalanced_background.csv']
    """
    path = Path(path)
    suffix = _suffix(path)
    stem = path.name[: len(path.name) - len(suffix)]
    return path.with_name(f"{stem}_signal{suffix}"), path.with_name(f"{stem}_background{suffix}")


def _resolve_layout(path: Path, layout: str | None) -> str:
    suffix = _suffix(path)
    if layout is None:
        layout = "hepmass" if suffix in _layout_suffixes("hepmass") else "native"
    if layout not in LAYOUTS:
        raise ConfigError(
            f"unknown layout {layout!r}", where="option --layout", fix=f"use one of {LAYOUTS}"
        )
    allowed = _layout_suffixes(layout)
    if suffix not in allowed:
        raise ConfigError(
            f"the {layout} layout cannot be written to {path.name}",
            where="option --output",
            fix=f"use a file ending in {' or '.join(allowed)}",
        )
    return layout


def generate_to_file(
    path: str | os.PathLike[str],
    *,
    layout: str | None = None,
    overwrite: bool = False,
    **options: Any,
) -> tuple[EventTable, list[Path]]:
    """Generate events with :func:`~hep_pnn.data.generator.generate` and write them.

    Args:
        path: output file; ``.csv``/``.csv.gz`` (HEPMASS layouts), ``.parquet`` or ``.root``.
        layout: ``"hepmass"`` (``# label,f0..f26,mass``), ``"hepmass-imb"`` (two files,
            ``<stem>_signal`` and ``<stem>_background``, with ``name`` and ``weight``) or
            ``"native"`` (all columns); default by suffix.
        overwrite: replace existing output files.
        **options: options of :func:`~hep_pnn.data.generator.generate`.

    Returns:
        The generated table and the written paths. Outputs are checked *before*
        generating, and written atomically.
    """
    from hep_pnn.data import write_events, write_hepmass_imb

    path = Path(path)
    layout = _resolve_layout(path, layout)
    targets = list(imb_paths(path)) if layout == "hepmass-imb" else [path]
    for target in targets:
        check_writable(target, overwrite=overwrite, option="option --output")
    table = generate(**options)
    if layout == "hepmass-imb":
        signal_path, background_path = targets
        write_hepmass_imb(table, signal_path, background_path, overwrite=overwrite)
    else:
        write_events(table, path, overwrite=overwrite)
    return table, targets
