r"""Built-in four-top example: top quarks from a Z′ resonance vs. spectator tops.

In pp → tt̄ Z′(→ tt̄) every event has four top quarks: two from the Z′ decay (the
*resonance* tops, label 1, process ``"signal"``) and two produced with it (the *spectator*
tops, label 0, process ``"spectator"``). Each row of the data set is one top quark with its
``pt`` (GeV), ``eta``, ``phi`` and reconstructed mass ``m`` (GeV), plus the ``event_id`` it
belongs to. The task is the classic teaching example: tell the two kinds of top apart.

The model is simple but physically sensible (see docs/baselines.md):

- spectator tops: pT from a Gamma distribution (mean ≈ 120 GeV), pseudorapidity
  Gaussian (σ = 1.4), uniform φ; their tt̄ system recoils against the Z′;
- the Z′: Breit–Wigner mass (relative width 3 %), Gaussian rapidity (σ = 0.8), transverse
  momentum balancing the spectators plus a small initial-state kick; it decays
  isotropically in its rest frame, so its tops are harder (pT ~ m_Z′/2), more central
  and correlated in angle;
- every top mass follows a Breit–Wigner line shape (m_t = 172.5 GeV, Γ_t = 1.42 GeV) and
  the reported ``m`` is smeared with an 8 % Gaussian detector resolution.

Example:
    >>> frame = generate_four_top(n_events=200, seed=1)
    >>> list(frame.columns)
    ['event_id', 'pt', 'eta', 'phi', 'm', 'label', 'mass', 'weight', 'process']
    >>> len(frame), int(frame.label.sum())
    (800, 400)
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hep_pnn._io import atomic_path, check_writable
from hep_pnn._random import SeedLike, as_generator
from hep_pnn.data.generator.kinematics import (
    breit_wigner,
    eta,
    from_pt_eta_phi_m,
    mass,
    phi,
    pt,
    two_body_decay,
)
from hep_pnn.data.native import ROW_GROUP_ROWS, write_parquet
from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError

__all__ = [
    "FOUR_TOP_FEATURES",
    "TOP_MASS",
    "TOP_WIDTH",
    "four_top_table",
    "generate_four_top",
    "write_four_top",
]

#: Feature columns of the four-top data set, in order.
FOUR_TOP_FEATURES: tuple[str, ...] = ("pt", "eta", "phi", "m")
#: Top-quark pole mass and width in GeV.
TOP_MASS = 172.5
TOP_WIDTH = 1.42

_TOP_WINDOW = 20.0  # GeV either side of the pole: keeps the line shape physical
_ZPRIME_RELATIVE_WIDTH = 0.03
_ZPRIME_WINDOW = 3.0  # Z' masses within ±3 widths
_MIN_ZPRIME_MASS = 450.0  # above 2 (m_t + window) even at the low edge of the Z' window
_MASS_RESOLUTION = 0.08
_SPECTATOR_PT_SHAPE, _SPECTATOR_PT_SCALE = 2.2, 55.0
_SPECTATOR_ETA_SIGMA = 1.4
_ZPRIME_RAPIDITY_SIGMA = 0.8
_ISR_KICK_SIGMA = 20.0  # GeV per transverse component


def _top_masses(rng: np.random.Generator, size: int) -> np.ndarray:
    return breit_wigner(
        rng, TOP_MASS, TOP_WIDTH, TOP_MASS - _TOP_WINDOW, TOP_MASS + _TOP_WINDOW, size
    )


def _check_masses(zprime_mass: float | Sequence[float]) -> np.ndarray:
    masses = np.atleast_1d(np.asarray(zprime_mass, dtype=float))
    if masses.ndim != 1 or masses.size == 0:
        raise ConfigError(
            "zprime_mass must be a number or a non-empty list of numbers", where="zprime_mass"
        )
    if not np.all(masses >= _MIN_ZPRIME_MASS):
        raise ConfigError(
            f"Z′ mass {masses.min():g} GeV is too close to the tt̄ threshold",
            where="zprime_mass",
            fix=f"use masses of at least {_MIN_ZPRIME_MASS:g} GeV",
        )
    return masses


def generate_four_top(
    *,
    n_events: int,
    zprime_mass: float | Sequence[float] = 1000.0,
    seed: SeedLike,
) -> pd.DataFrame:
    r"""Generate ``n_events`` pp → tt̄ Z′(→ tt̄) events as four rows (top quarks) each.

    Args:
        n_events: number of events (the table has ``4 * n_events`` rows).
        zprime_mass: Z′ mass in GeV, or a list of masses shared equally (at random) among
            the events; the ``mass`` column holds each event's nominal Z′ mass.
        seed: an int or ``numpy.random.Generator``; the same seed gives the same table.

    Returns:
        A DataFrame with ``event_id, pt, eta, phi, m, label, mass, weight, process``; the
        four tops of an event are consecutive rows ordered by decreasing pT.

    Example:
        >>> frame = generate_four_top(n_events=2000, zprime_mass=1500.0, seed=0)
        >>> resonance = frame[frame.label == 1]
        >>> bool(resonance.pt.mean() > frame[frame.label == 0].pt.mean())
        True
        >>> bool(160 < frame.m.median() < 185)
        True
    """
    if isinstance(n_events, bool) or not isinstance(n_events, int | np.integer) or n_events <= 0:
        raise ConfigError(
            f"n_events must be a positive integer, got {n_events!r}", where="n_events"
        )
    masses = _check_masses(zprime_mass)
    rng = as_generator(seed)
    n = int(n_events)
    nominal = masses[rng.integers(masses.size, size=n)] if masses.size > 1 else masses.repeat(n)

    spectator_pt = rng.gamma(_SPECTATOR_PT_SHAPE, _SPECTATOR_PT_SCALE, size=(2, n))
    spectators = from_pt_eta_phi_m(
        spectator_pt,
        rng.normal(0.0, _SPECTATOR_ETA_SIGMA, size=(2, n)),
        rng.uniform(-np.pi, np.pi, size=(2, n)),
        _top_masses(rng, 2 * n).reshape(2, n),
    )  # shape (4, 2, n)

    width = _ZPRIME_RELATIVE_WIDTH * nominal
    zprime_mass_true = breit_wigner(
        rng, nominal, width, nominal - _ZPRIME_WINDOW * width, nominal + _ZPRIME_WINDOW * width, n
    )
    recoil = -(spectators[:, 0] + spectators[:, 1])[:2] + rng.normal(
        0.0, _ISR_KICK_SIGMA, size=(2, n)
    )
    transverse_mass = np.sqrt(zprime_mass_true**2 + recoil[0] ** 2 + recoil[1] ** 2)
    rapidity = rng.normal(0.0, _ZPRIME_RAPIDITY_SIGMA, n)
    zprime = np.stack(
        [
            recoil[0],
            recoil[1],
            transverse_mass * np.sinh(rapidity),
            transverse_mass * np.cosh(rapidity),
        ]
    )
    top_masses = _top_masses(rng, 2 * n)
    first, second = two_body_decay(zprime, top_masses[:n], top_masses[n:], rng)

    tops = np.stack([first, second, spectators[:, 0], spectators[:, 1]], axis=1)  # (4, 4, n)
    measured_mass = mass(tops) * (1.0 + _MASS_RESOLUTION * rng.standard_normal((4, n)))
    columns = np.stack([pt(tops), eta(tops), phi(tops), measured_mass])  # (feature, top, event)
    label = np.broadcast_to(np.array([1, 1, 0, 0], np.int8)[:, None], (4, n))

    order = np.argsort(-columns[0], axis=0, kind="stable")
    columns = np.take_along_axis(columns, order[None], axis=1)
    label = np.take_along_axis(label, order, axis=0)
    # rows = events x tops: transpose so the four tops of an event are consecutive
    values = columns.transpose(2, 1, 0).reshape(4 * n, len(FOUR_TOP_FEATURES))
    label_rows = label.T.reshape(-1)
    frame = pd.DataFrame(values.astype(np.float32), columns=list(FOUR_TOP_FEATURES))
    frame.insert(0, "event_id", np.repeat(np.arange(n, dtype=np.int64), 4))
    frame["label"] = label_rows
    frame["mass"] = np.repeat(nominal, 4).astype(np.float32)
    frame["weight"] = np.float32(1.0)
    frame["process"] = pd.Categorical.from_codes(
        (1 - label_rows).astype(np.int8), categories=["signal", "spectator"]
    )
    return frame


def four_top_table(
    *,
    n_events: int,
    zprime_mass: float | Sequence[float] = 1000.0,
    seed: SeedLike,
) -> EventTable:
    """:func:`generate_four_top` as an :class:`EventTable` with features ``pt, eta, phi, m``.

    Example:
        >>> four_top_table(n_events=10, seed=0).feature_names
        ('pt', 'eta', 'phi', 'm')
    """
    frame = generate_four_top(n_events=n_events, zprime_mass=zprime_mass, seed=seed)
    return EventTable.from_pandas(frame, feature_names=FOUR_TOP_FEATURES)


def write_four_top(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    option: str = "--output",
) -> Path:
    """Write a :func:`generate_four_top` frame as hep-pnn Parquet, keeping ``event_id``.

    The file is a native hep-pnn Parquet file (features ``pt, eta, phi, m``, then label,
    mass, weight, process), so ``read_events`` and experiment configs read it without a
    data description; ``event_id`` is an extra column that training ignores. Written
    atomically; an existing file is refused unless ``overwrite``.

    Example:
        >>> import tempfile, pathlib
        >>> from hep_pnn.data import read_events
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "four_top.parquet"
        >>> _ = write_four_top(generate_four_top(n_events=5, seed=0), path)
        >>> read_events([path]).feature_names
        ('pt', 'eta', 'phi', 'm')
    """
    path = Path(path)
    if path.suffix != ".parquet":
        raise ConfigError(
            f"cannot write the four-top data as {path.suffix or 'a file without suffix'}",
            where=option,
            fix="use a .parquet file name, which keeps the event_id column beside the features",
        )
    check_writable(path, overwrite=overwrite, option=option)
    table = EventTable.from_pandas(frame, feature_names=FOUR_TOP_FEATURES)
    # the native writer fixes the layout and metadata; event_id is then added beside it
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        arrow = pq.read_table(write_parquet(table, Path(scratch) / "native.parquet"))
    arrow = arrow.append_column("event_id", pa.array(frame["event_id"].to_numpy()))
    with atomic_path(path, overwrite=overwrite, option=option) as tmp:
        pq.write_table(arrow, tmp, row_group_size=ROW_GROUP_ROWS)
    return path
