r"""Mass hypotheses from the command line: one parser for ``--masses``, ``--mass-range``
and ``--grid``.

A mass list is comma-separated items, each a mass in GeV (``750``, ``812.5``) or an
inclusive range ``START:STOP:STEP`` (``400:2000:50``); items may be mixed
(``300,400:600:100``). Every mass must be finite, positive and listed once; a list holds
at most :data:`MAX_MASSES` masses. Range values are rounded to 10⁻⁶ GeV so that
``0.1`` steps give ``400.3``, not ``400.30000000000001``.

Example:
    >>> parse_masses("500, 750,812.5"), parse_masses("400:500:50")
    ((500.0, 750.0, 812.5), (400.0, 450.0, 500.0))
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

import numpy as np

from hep_pnn.errors import ConfigError

__all__ = ["MAX_MASSES", "parse_masses"]

#: Most masses one list may hold (a range with a tiny step is a typo, not a request).
MAX_MASSES = 10_000

_FIX = (
    "give masses in GeV separated by commas, e.g. 500,750,1000, and/or inclusive ranges "
    "START:STOP:STEP, e.g. 400:2000:50"
)


class _Refused(ValueError):
    """Why one item was refused (becomes the single ConfigError of :func:`parse_masses`)."""


def _number(text: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise _Refused(f"mass {str(text).strip()!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise _Refused(f"mass {value:g} is not a positive number")
    return value


def _range(item: str) -> list[float]:
    parts = item.split(":")
    if len(parts) != 3:
        raise _Refused(f"range {item.strip()!r} is not START:STOP:STEP")
    start, stop, step = (_number(part) for part in parts)
    if stop < start:
        raise _Refused(f"range {item.strip()!r} is empty (STOP < START)")
    if (stop - start) / step >= MAX_MASSES:
        raise _Refused(f"range {item.strip()!r} has more than {MAX_MASSES} masses")
    count = int(np.floor((stop - start) / step + 1e-9)) + 1
    return [float(m) for m in np.round(start + step * np.arange(count), 6)]


def _values(masses: str | Iterable[float]) -> list[float]:
    if not isinstance(masses, str):
        return [_number(item) for item in masses]  # type: ignore[arg-type]
    values: list[float] = []
    for item in filter(str.strip, masses.split(",")):
        values += _range(item) if ":" in item else [_number(item)]
    return values


def parse_masses(masses: str | Iterable[float], *, option: str = "--masses") -> tuple[float, ...]:
    """Masses in GeV from ``"500,750"``, ``"400:2000:50"``, a mix of both, or numbers.

    Raises one :class:`~hep_pnn.errors.ConfigError` naming ``option``, the text and the
    first problem (not a number, not positive, an empty or too fine range, a repeat).

    Example:
        >>> parse_masses("300,400:600:100")
        (300.0, 400.0, 500.0, 600.0)
        >>> parse_masses("500,abc")
        Traceback (most recent call last):
        ...
        hep_pnn.errors.ConfigError: --masses: cannot read masses '500,abc': mass 'abc' is not \
a number (give masses in GeV separated by commas, e.g. 500,750,1000, and/or inclusive \
ranges START:STOP:STEP, e.g. 400:2000:50)
    """
    shown = masses if isinstance(masses, str) else ",".join(map(str, masses))
    try:
        values = _values(masses)
        if not values:
            raise _Refused("no mass given")
        if len(values) > MAX_MASSES:
            raise _Refused(f"more than {MAX_MASSES} masses")
        repeated = sorted(value for value, count in Counter(values).items() if count > 1)
        if repeated:
            listed = ", ".join(f"{value:g}" for value in repeated)
            raise _Refused(f"mass {listed} given more than once")
    except _Refused as reason:
        raise ConfigError(
            f"cannot read masses {shown!r}: {reason}", where=option, fix=_FIX
        ) from None
    return tuple(values)
