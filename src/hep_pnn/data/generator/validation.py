r"""Checked generator options and the published sample sizes (presets).

Example:
    >>> sizes = preset_sizes("hepmass-imb")
    >>> sizes["n_signal_per_mass"][1500.0], sizes["n_background"]
    (1400, 5250000)
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hep_pnn.data.features import HEPMASS_MASSES
from hep_pnn.data.generator._draws import choose, uniforms
from hep_pnn.data.generator.processes import (
    BACKGROUNDS,
    LHC_SQRT_S,
    PROCESSES,
    TTBAR_THRESHOLD,
)
from hep_pnn.data.generator.production import is_signal_spin
from hep_pnn.errors import ConfigError

__all__ = [
    "PRESETS",
    "GeneratorOptions",
    "parse_btag_efficiency",
    "preset_sizes",
    "training_sizes",
    "validate",
]

#: Published sizes: the events a generated copy of the sample holds, and the shares of
#: signal and background its published training file held. HEPMASS holds train and test
#: together and splits every count 2:1. HEPMASS-IMB's signal counts are a training sample
#: beside HEPMASS's background: the published runs trained on all of its 500 and 1500 GeV
#: signal (350k + 1.4k events; their step counts, docs/benchmarks.md, "What the published
#: networks were") and on HEPMASS's training background.
PRESETS: dict[str, dict[str, Any]] = {
    "hepmass": {
        "masses": HEPMASS_MASSES,
        "n_signal_per_mass": dict.fromkeys(HEPMASS_MASSES, 1_050_000),
        "n_background": 5_250_000,
        "training_shares": (2 / 3, 2 / 3),
    },
    "hepmass-imb": {
        "masses": HEPMASS_MASSES,
        "n_signal_per_mass": dict(
            zip(HEPMASS_MASSES, (350_000, 140_000, 35_000, 7_000, 1_400), strict=True)
        ),
        "n_background": 5_250_000,
        "training_shares": (1.0, 2 / 3),
    },
}
BACKGROUND_MASS_STRATEGIES = ("identical", "uniform")
MAX_MASS = 0.5 * LHC_SQRT_S
PROGRESS_MIN_EVENTS = 100_000  # shorter runs take a few seconds: no bar


def preset_sizes(name: str, *, fraction: float = 1.0) -> dict[str, Any]:
    """Masses and event counts of a published sample, optionally scaled by ``fraction``.

    ``"hepmass"``: 10.5M events (7M train + 3.5M test), 1.05M signal per mass and 5.25M
    background. ``"hepmass-imb"``: the same background with signal 350k / 140k / 35k /
    7k / 1.4k from 500 to 1500 GeV. The result can be passed to ``generate(**sizes)``.
    """
    return _scaled(_preset(name, fraction), signal=fraction, background=fraction)


def _preset(name: str, fraction: float) -> dict[str, Any]:
    """The preset ``name``, after checking it and ``fraction``."""
    if name not in PRESETS:
        raise ConfigError(
            f"unknown preset {name!r}", where="option preset", fix=f"use one of {sorted(PRESETS)}"
        )
    if not 0 < fraction <= 1:
        raise ConfigError(
            f"fraction {fraction} is not in (0, 1]", where="option fraction", fix="e.g. 0.1"
        )
    return PRESETS[name]


def training_sizes(name: str, *, fraction: float = 1.0) -> dict[str, Any]:
    """Masses and event counts of a published *training* sample, scaled by ``fraction``.

    ``"hepmass"``: two thirds of every count (7M events). ``"hepmass-imb"``: all of its
    signal (350k / 140k / 35k / 7k / 1.4k) and two thirds of HEPMASS's background (3.5M),
    what the published HEPMASS-IMB runs trained on.

    Example:
        >>> sizes = training_sizes("hepmass-imb")
        >>> sizes["n_signal_per_mass"][1500.0], sizes["n_background"]
        (1400, 3500000)
    """
    preset = _preset(name, fraction)
    signal, background = (fraction * share for share in preset["training_shares"])
    return _scaled(preset, signal=signal, background=background)


def _scaled(preset: dict[str, Any], *, signal: float, background: float) -> dict[str, Any]:
    """The preset's masses and its counts scaled by ``signal`` and ``background`` (at least
    one event each), as ``generate(**sizes)`` takes them."""
    return {
        "masses": preset["masses"],
        "n_signal_per_mass": {
            m: max(1, round(n * signal)) for m, n in preset["n_signal_per_mass"].items()
        },
        "n_background": max(1, round(preset["n_background"] * background)),
    }


class _NoProgress:
    def advance(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


class _RichProgress:
    def __init__(self, total: int) -> None:
        from rich.progress import Progress

        self._bar = Progress(transient=False)
        self._task = self._bar.add_task("generating events", total=total)
        self._bar.start()

    def advance(self, n: int) -> None:
        self._bar.advance(self._task, n)

    def close(self) -> None:
        self._bar.stop()


@dataclass(frozen=True)
class GeneratorOptions:
    """Validated options of :func:`~hep_pnn.data.generator.generate`."""

    masses: tuple[float, ...]
    signal_counts: tuple[int, ...]
    background_counts: dict[str, int]
    background_mass: str
    seed: int
    width_fraction: float
    spin: int
    btag_efficiency: tuple[float, float, float]
    luminosity: float
    chunk_size: int
    threads: int
    raw: bool
    progress: bool

    def samples(self) -> Iterator[tuple[str, float, int]]:
        """``(process, mass, selected events)`` of every sample, in output order."""
        for mass, count in zip(self.masses, self.signal_counts, strict=True):
            yield "signal", mass, count
        for name in BACKGROUNDS:
            if self.background_counts.get(name, 0) > 0:
                yield name, 0.0, self.background_counts[name]

    def draw_background_masses(self, state: np.uint64, n: int) -> np.ndarray:
        """Mass hypotheses of ``n`` background events (see ``background_mass``), drawn
        from the kernel stream ``state``."""
        if self.background_mass == "uniform":
            return uniforms(state, min(self.masses), max(self.masses), n)
        return choose(state, np.asarray(self.masses), np.asarray(self.signal_counts), n)

    def progress_bar(self) -> _NoProgress | _RichProgress:
        total = sum(self.signal_counts) + sum(self.background_counts.values())
        long_run = total >= PROGRESS_MIN_EVENTS
        return _RichProgress(total) if self.progress and long_run else _NoProgress()


def _count(value: Any, option: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(
            f"count {value!r} is not a positive integer",
            where=f"option {option}",
            fix="use a whole number ≥ 1",
        )
    return int(value)


def _mass(value: Any) -> float:
    try:
        mass = float(value)
    except (TypeError, ValueError):
        mass = math.nan
    if not TTBAR_THRESHOLD < mass <= MAX_MASS:
        raise ConfigError(
            f"signal mass {value!r} GeV is outside the allowed range",
            where="option masses",
            fix=f"use masses above the tt̄ threshold {TTBAR_THRESHOLD:g} GeV and at most "
            f"{MAX_MASS:g} GeV (e.g. 400–2000)",
        )
    return mass


def _signal_counts(masses: tuple[float, ...], n_signal: Any) -> tuple[int, ...]:
    if not isinstance(n_signal, Mapping):
        return (_count(n_signal, "n_signal_per_mass"),) * len(masses)
    by_mass = {_mass(m): n for m, n in n_signal.items()}
    if set(by_mass) != set(masses):
        raise ConfigError(
            f"n_signal_per_mass has masses {sorted(by_mass)} but masses is {list(masses)}",
            where="option n_signal_per_mass",
            fix="give one count per signal mass",
        )
    return tuple(_count(by_mass[m], f"n_signal_per_mass[{m:g}]") for m in masses)


def _background_counts(n_background: Any) -> dict[str, int]:
    if not isinstance(n_background, Mapping):
        total = _count(n_background, "n_background")
        shares = {name: PROCESSES[name].background_share for name in BACKGROUNDS}
        counts = {name: round(total * share) for name, share in shares.items()}
        counts[BACKGROUNDS[0]] += total - sum(counts.values())
        return counts
    unknown = sorted(set(n_background) - set(BACKGROUNDS))
    if unknown:
        raise ConfigError(
            f"unknown background process(es) {unknown}",
            where="option n_background",
            fix=f"use one of {list(BACKGROUNDS)}",
        )
    return {name: _count(n, f"n_background[{name}]") for name, n in n_background.items()}


def _btag_efficiency(value: Sequence[float]) -> tuple[float, float, float]:
    """``btag_efficiency``: three probabilities (b, c, light)."""
    probabilities: tuple[float, ...] = ()
    if not isinstance(value, str | bytes | Mapping) and isinstance(value, Sequence | np.ndarray):
        if not any(isinstance(p, bool | str | bytes) for p in value):
            try:
                probabilities = tuple(float(p) for p in value)
            except (TypeError, ValueError):
                pass
    if len(probabilities) != 3 or not all(0 <= p <= 1 for p in probabilities):
        raise ConfigError(
            f"btag_efficiency {value!r} is not three probabilities",
            where="option btag_efficiency",
            fix="give the tag probabilities of b, c and light jets, e.g. (0.70, 0.12, 0.01)",
        )
    return probabilities[0], probabilities[1], probabilities[2]


def parse_btag_efficiency(
    text: str, *, option: str = "--btag-efficiency"
) -> tuple[float, float, float]:
    """A working point written ``b,c,light`` (a command-line option) as the tag probabilities
    ``btag_efficiency`` takes; raises :class:`~hep_pnn.errors.ConfigError` naming ``option``.

    Example:
        >>> parse_btag_efficiency("0.85,0.33,0.03")
        (0.85, 0.33, 0.03)
    """
    try:
        return _btag_efficiency([float(part) for part in text.split(",")])
    except (ValueError, ConfigError):
        raise ConfigError(
            f"{text!r} is not three probabilities b,c,light",
            where=option,
            fix="give the tag probabilities of b, c and light jets, e.g. 0.70,0.12,0.01",
        ) from None


def validate(
    *,
    masses: Sequence[float],
    n_signal_per_mass: int | Mapping[float, int],
    n_background: int | Mapping[str, int],
    background_mass: str,
    seed: int,
    width_fraction: float,
    spin: int,
    btag_efficiency: Sequence[float],
    luminosity: float,
    chunk_size: int,
    threads: int | None,
    raw: bool,
    progress: bool,
) -> GeneratorOptions:
    """Check every option; raise :class:`~hep_pnn.errors.ConfigError` naming the bad one."""
    if isinstance(masses, str | bytes) or not isinstance(masses, Sequence) or not masses:
        raise ConfigError(
            f"masses {masses!r} is not a non-empty list",
            where="option masses",
            fix="e.g. [500, 750, 1000]",
        )
    mass_tuple = tuple(_mass(m) for m in masses)
    if len(set(mass_tuple)) != len(mass_tuple):
        raise ConfigError(
            f"masses {list(mass_tuple)} has duplicates",
            where="option masses",
            fix="list each mass once",
        )
    if background_mass not in BACKGROUND_MASS_STRATEGIES:
        raise ConfigError(
            f"unknown background mass strategy {background_mass!r}",
            where="option background_mass",
            fix=f"use one of {list(BACKGROUND_MASS_STRATEGIES)}",
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed {seed!r} is not an integer ≥ 0", where="option seed")
    if not 0 < width_fraction <= 0.3:
        raise ConfigError(
            f"width_fraction {width_fraction} is outside (0, 0.3]",
            where="option width_fraction",
            fix="e.g. 0.05 for a 5 % width",
        )
    if not is_signal_spin(spin):
        raise ConfigError(
            f"spin {spin!r} is not a spin the generator makes",
            where="option spin",
            fix="give 2 (a graviton-like X, the default) or 0 (a heavy Higgs-like X)",
        )
    btag = _btag_efficiency(btag_efficiency)
    if not luminosity > 0:
        raise ConfigError(
            f"luminosity {luminosity} is not positive",
            where="option luminosity",
            fix="give it in fb⁻¹, e.g. 140",
        )
    return GeneratorOptions(
        masses=mass_tuple,
        signal_counts=_signal_counts(mass_tuple, n_signal_per_mass),
        background_counts=_background_counts(n_background),
        background_mass=background_mass,
        seed=int(seed),
        width_fraction=float(width_fraction),
        spin=int(spin),
        btag_efficiency=btag,
        luminosity=float(luminosity),
        chunk_size=_count(chunk_size, "chunk_size"),
        threads=min(2, os.cpu_count() or 1) if threads is None else _count(threads, "threads"),
        raw=bool(raw),
        progress=bool(progress),
    )
