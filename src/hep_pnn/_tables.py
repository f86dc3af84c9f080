"""Plain-text tables for terminals and markdown files (no extra dependency)."""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["markdown_table"]


def _cell(value: object, digits: int) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def markdown_table(frame: pd.DataFrame, *, digits: int = 4, index_name: str | None = None) -> str:
    """A GitHub-flavoured markdown table of ``frame`` with its index as the first column.

    Example:
        >>> print(markdown_table(pd.DataFrame({"500": [0.81234]}, index=["affine"]), digits=3))
        | model | 500 |
        |---|---:|
        | affine | 0.812 |
    """
    head = [index_name or frame.index.name or "model", *map(str, frame.columns)]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * len(frame.columns)]
    for label, row in frame.iterrows():
        cells = [str(label), *(_cell(v, digits) for v in row.tolist())]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
