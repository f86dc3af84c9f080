"""How much of a parton's energy lands in its jet: Pythia 8 tt̄, anti-kT R = 0.4.

The parametric generator turns each top-decay quark into one jet. A real jet misses the
energy that the parton's shower and hadronisation spread beyond its radius (and gains a
little from the underlying event). This script measures that response, jet pT / quark
pT, for the W-decay quarks (u, d, s, c) of Pythia 8 tt̄ events (parton shower,
multi-parton interactions and hadronisation on, 13 TeV): each quark of pT ≥ 20 GeV and
abs(η) ≤ 2.5 is matched to the nearest anti-kT R = 0.4 jet (FastJet, every visible
particle: leptons in a jet belong to it) within ΔR < 0.3 not taken by a closer quark.
The b quarks are left out: their semileptonic decays lose energy to neutrinos, which the
generator models on its own (``B_SEMILEPTONIC_*``). It prints the match rate, quantiles
of the response per quark pT range and a fit of the low tail, P(1 − response > x) =
f · exp(−x / λ) over x = 0.15 … 0.6, for quarks of 40–120 GeV: the generator's
``OUT_OF_CONE_FRACTION`` (f) and ``OUT_OF_CONE_MEAN`` (λ) in
``hep_pnn.data.generator.detector``. Quarks without a jet within ΔR < 0.3 (their energy
mostly outside any one jet) count in the match rate, not in the fit, so the fitted tail
is a lower bound.

Needs the ``jets`` extra (Pythia 8, FastJet). About 20 s for the default 3,000 events.

Usage: .venv/bin/python benchmarks/jet_response.py [--events 3000] [--seed 11]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import numpy as np

from hep_pnn.data.jets._events import delta_r, eta_phi, fastjet_inputs, visible_final
from hep_pnn.data.jets.generate import pythia_events
from hep_pnn.data.jets.showered import pythia_settings
from hep_pnn.errors import ConfigError

QUANTILES = (0.02, 0.05, 0.1, 0.16, 0.25, 0.5, 0.75, 0.84, 0.9, 0.95)
RANGES = ((20, 40), (40, 120), (120, 1000))


def _pt_eta_phi(momenta: list[list[float]]) -> tuple[np.ndarray, ...]:
    """pT, η and φ of ``[[px, py, pz, ...], ...]``."""
    p = np.asarray(momenta, dtype=np.float64).reshape(-1, 3)
    return (np.hypot(p[:, 0], p[:, 1]), *eta_phi(p[:, 0], p[:, 1], p[:, 2]))


def _match(distance: np.ndarray, radius: float) -> list[tuple[int, int]]:
    """One-to-one (quark, jet) pairs of a ``(quarks, jets)`` ΔR matrix, closest first,
    each closer than ``radius``."""
    order = np.argsort(distance, axis=None, kind="stable")
    pairs, used_quarks, used_jets = [], set(), set()
    for q, j in zip(*np.unravel_index(order, distance.shape), strict=True):
        if distance[q, j] >= radius:
            break
        if q not in used_quarks and j not in used_jets:
            used_quarks.add(q)
            used_jets.add(j)
            pairs.append((int(q), int(j)))
    return pairs


def pythia_jets(
    process: str,
    mass: float | None,
    n_events: int,
    seed: int,
    *,
    min_pt: float,
    settings: Sequence[str] = (),
) -> tuple[Any, Any]:
    """Pythia 8 events of ``process`` (:mod:`hep_pnn.data.jets.showered`'s settings, 13
    TeV, then ``settings``): the particle records and the anti-kT R = 0.4 jets of pT ≥
    ``min_pt`` over every visible final-state particle."""
    import fastjet

    config = pythia_settings(process, mass, seed=seed, settings=settings)
    particles = pythia_events(config, n_events, failure=ConfigError("Pythia did not start"))
    momenta = fastjet_inputs(visible_final(particles))
    definition = fastjet.JetDefinition(fastjet.antikt_algorithm, 0.4)
    return particles, fastjet.ClusterSequence(momenta, definition).inclusive_jets(min_pt=min_pt)


def responses(n_events: int, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(jet pT / quark pT, quark pT) of the matched W-decay quarks, and how many quarks
    were eligible."""
    import awkward as ak

    particles, jets = pythia_jets("ttbar", None, n_events, seed, min_pt=5.0)
    kind = abs(particles.id)
    parent = kind[particles.mother1]
    quarks = particles[(kind <= 4) & (parent == 24) & (particles.status < 0)]
    ratio, parton_pt, eligible = [], [], 0
    quark_lists = ak.to_list(ak.zip([quarks.p.px, quarks.p.py, quarks.p.pz]))
    jet_lists = ak.to_list(ak.zip([jets.px, jets.py, jets.pz]))
    for event_quarks, event_jets in zip(quark_lists, jet_lists, strict=True):
        quark_pt, quark_eta, quark_phi = _pt_eta_phi(event_quarks)
        eligible_quark = (quark_pt >= 20) & (np.abs(quark_eta) <= 2.5)
        quark_pt, quark_eta, quark_phi = (
            a[eligible_quark] for a in (quark_pt, quark_eta, quark_phi)
        )
        eligible += len(quark_pt)
        if not event_jets or not len(quark_pt):
            continue
        jet_pt, jet_eta, jet_phi = _pt_eta_phi(event_jets)
        distance = delta_r(quark_eta[:, None], quark_phi[:, None], jet_eta, jet_phi)
        for q, j in _match(distance, 0.3):
            ratio.append(jet_pt[j] / quark_pt[q])
            parton_pt.append(quark_pt[q])
    return np.asarray(ratio), np.asarray(parton_pt), eligible


def fit_tail(loss: np.ndarray) -> tuple[float, float]:
    """(f, λ) of P(loss > x) = f exp(−x/λ), least squares in log P over x = 0.15 … 0.6."""
    x = np.linspace(0.15, 0.6, 10)
    survival = np.asarray([np.mean(loss > value) for value in x])
    keep = survival > 0
    if keep.sum() < 2:
        raise SystemExit("too few quarks in the tail to fit it: give more --events")
    slope, intercept = np.polyfit(x[keep], np.log(survival[keep]), 1)
    return float(np.exp(intercept)), float(-1 / slope)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000, help="Pythia tt̄ events")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    if args.events < 1:
        parser.error("--events must be at least 1")
    ratio, parton_pt, eligible = responses(args.events, args.seed)
    print(
        f"{len(ratio)} of {eligible} W-decay quarks matched to a jet "
        f"({len(ratio) / max(eligible, 1):.1%}) in {args.events} tt̄ events"
    )
    print("| quark pT (GeV) | quarks | " + " | ".join(f"q{q:g}" for q in QUANTILES) + " |")
    print("|---" * (len(QUANTILES) + 2) + "|")
    for low, high in RANGES:
        values = ratio[(parton_pt >= low) & (parton_pt < high)]
        if len(values) == 0:
            print(f"| {low}–{high} | 0 |" + " — |" * len(QUANTILES))
            continue
        cells = " | ".join(f"{v:.2f}" for v in np.quantile(values, QUANTILES))
        print(f"| {low}–{high} | {len(values)} | {cells} |")
    middle = (parton_pt >= 40) & (parton_pt < 120)
    fraction, mean = fit_tail(1 - ratio[middle])
    print(
        f"tail fit (40–120 GeV): OUT_OF_CONE_FRACTION ≈ {fraction:.2f}, "
        f"OUT_OF_CONE_MEAN ≈ {mean:.3f}"
    )


if __name__ == "__main__":
    main()
