"""The SM tt̄ mass spectrum: Pythia 8's leading-order m_tt̄ against the generator's.

The parametric generator draws the tt̄ background's mass as m_t1 + m_t2 + scale × B′(a, b),
a beta-prime excess over the two top masses (``TTBAR_SPECTRUM_SHAPE`` and
``TTBAR_SPECTRUM_SCALE`` in ``hep_pnn.data.generator.processes``). This script runs the
hard process of Pythia 8 (g g → tt̄ and q q̄ → tt̄ at leading order, 13 TeV, Pythia's
default PDF; no shower, no decays: 200,000 events take about 15 s), fits B′(a, b) ×
scale to each event's excess m_tt̄ − m_t1 − m_t2 (maximum likelihood, ``scipy.stats``),
and prints the quantiles of m_tt̄ of Pythia, of the fit and of the generator's SM tt̄
events, then the local power m^-n of each spectrum between 0.7 and 2 TeV.

HEPMASS's background was made with a leading-order generator too (docs/generator.md);
the generator's constants are this fit's, rounded.

Needs the ``jets`` extra (Pythia 8).

Usage: .venv/bin/python benchmarks/ttbar_spectrum.py [--events 200000] [--seed 5]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy import optimize, stats

from hep_pnn.data.generator.processes import (
    PROCESSES,
    TTBAR_SPECTRUM_SCALE,
    TTBAR_SPECTRUM_SHAPE,
)
from hep_pnn.errors import PNNError

#: Quantiles (%) of m_tt̄ printed, and the m_tt̄ bins (GeV) of the local powers.
QUANTILES = (5, 25, 50, 75, 95, 99)
SLOPE_EDGES = (700.0, 850.0, 1000.0, 1200.0, 1500.0, 2000.0)
SQRT_S = 13_000.0
#: Events Pythia may fail to make in a row before the run stops; Pythia's largest seed.
MAX_FAILURES, SEED_LIMIT = 100, 900_000_000


class BetaPrime(NamedTuple):
    """``scale`` × B′(``a``, ``b``): the excess of m_tt̄ over the two top masses (GeV)."""

    a: float
    b: float
    scale: float

    def sample(self, n: int, *, seed: int) -> np.ndarray:
        """``n`` draws (GeV)."""
        rng = np.random.default_rng(seed)
        return self.scale * stats.betaprime.rvs(self.a, self.b, size=n, random_state=rng)


def pythia_ttbar(
    n_events: int, *, seed: int, sqrt_s: float = SQRT_S
) -> tuple[np.ndarray, np.ndarray]:
    """``(m_tt̄, m_t1 + m_t2)`` (GeV) of ``n_events`` leading-order Pythia 8 tt̄ events
    (read from Pythia's hard-process record: with the parton level off the event record
    stays empty); ``seed`` is Pythia's, 1 to 900,000,000."""
    from hep_pnn.data.jets.generate import pythia_instance

    settings = (
        "Print:quiet = on",
        "Next:numberCount = 0",
        f"Beams:eCM = {sqrt_s:.10g}",
        "Random:setSeed = on",
        f"Random:seed = {seed}",
        "Top:gg2ttbar = on",
        "Top:qqbar2ttbar = on",
        "PartonLevel:all = off",
        "HadronLevel:all = off",
        "ProcessLevel:resonanceDecays = off",
    )
    failure = PNNError("Pythia failed to initialise for tt̄", where="ttbar_spectrum.py")
    pythia = pythia_instance(settings, failure=failure)
    pair, tops = np.empty(n_events), np.empty(n_events)
    for i in range(n_events):
        for _ in range(MAX_FAILURES):
            if pythia.next():
                break
        else:
            raise PNNError(
                f"Pythia failed {MAX_FAILURES} times in a row", where="ttbar_spectrum.py"
            )
        record = pythia.process
        masses = [record[k].m() for k in range(record.size()) if abs(record[k].id()) == 6]
        if len(masses) != 2:
            raise RuntimeError(f"{len(masses)} tops in Pythia's hard process, not 2")
        pair[i], tops[i] = pythia.infoPython().mHat(), sum(masses)
    return pair, tops


def fit_beta_prime(excess: np.ndarray) -> BetaPrime:
    """The maximum-likelihood ``scale`` × B′(a, b) of positive ``excess`` values."""
    positive = excess[excess > 0]
    if len(positive) < 100:
        raise ValueError(f"{len(positive)} positive values; a fit needs at least 100")
    a, b, _, scale = stats.betaprime.fit(positive, floc=0)
    return BetaPrime(float(a), float(b), float(scale))


def generator_ttbar(n_events: int, *, seed: int) -> np.ndarray:
    """m_tt̄ (GeV) of the generator's SM tt̄ events at parton level (the top decay products
    summed; events dropped for exceeding the beams' momenta left out)."""
    event = PROCESSES["ttbar"].partons(np.random.default_rng(seed), n_events, 0.0, 0.0)
    total = event.lepton + event.neutrino + event.jets[:, :, :4].sum(axis=2)
    kept = event.lepton[3] > 0
    px, py, pz, e = total[:, kept].astype(np.float64)  # rows (px, py, pz, E)
    return np.sqrt(np.maximum(e**2 - px**2 - py**2 - pz**2, 0.0))


def _power_law_share(power: float, low: float, high: float) -> float:
    """∫ m^-power dm from ``low`` to ``high`` (power ≠ 1)."""
    return (low ** (1.0 - power) - high ** (1.0 - power)) / (power - 1.0)


def local_powers(masses: np.ndarray, *, edges: Sequence[float] = SLOPE_EDGES) -> np.ndarray:
    """n of a density ∝ m^-n fitted to each pair of neighbouring bins of ``edges``: the n
    whose integrals over the two bins have the ratio of their counts (exact for a power
    law, whatever the bin widths)."""
    counts, _ = np.histogram(masses, bins=np.asarray(edges))
    powers = np.full(len(counts) - 1, np.nan)
    for k in range(len(counts) - 1):
        if not counts[k] or not counts[k + 1]:
            continue
        (low, middle, high), ratio = edges[k : k + 3], np.log(counts[k] / counts[k + 1])

        def mismatch(n: float, low=low, middle=middle, high=high, ratio=ratio) -> float:
            share = _power_law_share(n, low, middle) / _power_law_share(n, middle, high)
            return float(np.log(share) - ratio)

        with contextlib.suppress(ValueError):  # no power between 1 and 30 fits: NaN
            powers[k] = optimize.brentq(mismatch, 1.001, 30.0)
    return powers


def print_table(spectra: dict[str, np.ndarray]) -> None:
    """Quantiles and local powers of each m_tt̄ sample, in Markdown."""
    pairs = [
        f"{low:g}–{high:g}" for low, high in zip(SLOPE_EDGES[:-2], SLOPE_EDGES[2:], strict=True)
    ]
    header = " | ".join(f"{q} %" for q in QUANTILES)
    print(f"| m_tt̄ | {header} | power n (m^-n) at {', '.join(pairs)} GeV |")
    print("|---|" + "---|" * len(QUANTILES) + "---|")
    for name, masses in spectra.items():
        quantiles = " | ".join(f"{v:.0f}" for v in np.percentile(masses, QUANTILES))
        powers = " / ".join(f"{n:.1f}" for n in local_powers(masses))
        print(f"| {name} | {quantiles} | {powers} |")


def _event_count(text: str) -> int:
    value = int(text)
    if value < 1000:
        raise argparse.ArgumentTypeError(f"{text} events; give at least 1000")
    return value


def _seed(text: str) -> int:
    value = int(text)
    if not 1 <= value <= SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"{text}; Pythia takes seeds 1 to {SEED_LIMIT:,}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit code (2 for bad input, with one line on stderr)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=_event_count, default=200_000, help="events per sample")
    parser.add_argument("--seed", type=_seed, default=5, help="1 to 900,000,000")
    args = parser.parse_args(argv)
    try:
        pair, tops = pythia_ttbar(args.events, seed=args.seed)
    except PNNError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    fit = fit_beta_prime(pair - tops)
    fitted = f"{fit.scale:.0f} GeV × B′({fit.a:.2f}, {fit.b:.2f})"
    print(f"Pythia 8, {args.events:,} events: m_tt̄ − m_t1 − m_t2 ≈ {fitted}")
    a, b = TTBAR_SPECTRUM_SHAPE
    generator = f"generator: B′({a:g}, {b:g}) × {TTBAR_SPECTRUM_SCALE:g} GeV"
    spectra = {
        "Pythia 8 (LO, 13 TeV)": pair,
        "the fit (+ Pythia's m_t1 + m_t2)": tops + fit.sample(len(tops), seed=args.seed),
        generator: generator_ttbar(args.events, seed=args.seed),
    }
    print_table(spectra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
