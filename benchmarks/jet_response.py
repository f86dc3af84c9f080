"""How much of a parton's energy lands in its jet: Pythia 8 tt̄, anti-kT R = 0.4.

The parametric generator turns each top-decay quark into one jet. A real jet misses the
energy that the parton's shower and hadronisation spread beyond its radius (and gains a
little from the underlying event). This script measures that response, jet pT / parton
pT, for the b quarks and W-decay quarks of Pythia 8 tt̄ events (parton shower,
multi-parton interactions and hadronisation on, 13 TeV), matching each quark of pT ≥ 20
GeV and abs(η) ≤ 2.5 to the nearest anti-kT R = 0.4 jet (FastJet, every visible
particle but electrons and muons) within ΔR < 0.3. It prints quantiles of the response
per parton pT range and fits the low tail, P(1 − response > x) = f · exp(−x / λ) over
x = 0.15 … 0.6, for partons of 40–120 GeV: the generator's ``OUT_OF_CONE_FRACTION`` (f)
and ``OUT_OF_CONE_MEAN`` (λ) in ``hep_pnn.data.generator.detector``.

Needs the ``jets`` extra (Pythia 8, FastJet). About 20 s for the default 3,000 events.

Usage: .venv/bin/python benchmarks/jet_response.py [--events 3000] [--seed 11]
"""

from __future__ import annotations

import argparse

import numpy as np

from hep_pnn.data.jets._events import delta_r
from hep_pnn.data.jets.generate import pythia_events
from hep_pnn.data.jets.showered import _COMMON, _process_settings
from hep_pnn.errors import ConfigError

QUANTILES = (0.02, 0.05, 0.1, 0.16, 0.25, 0.5, 0.75, 0.84, 0.9, 0.95)
RANGES = ((20, 40), (40, 120), (120, 1000))


def _pt_eta_phi(px, py, pz):
    pt = np.hypot(px, py)
    return pt, np.arcsinh(pz / np.maximum(pt, 1e-9)), np.arctan2(py, px)


def responses(n_events: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(jet pT / parton pT, parton pT) of the matched top-decay quarks."""
    import awkward as ak
    import fastjet

    settings = [
        *_COMMON,
        "Beams:eCM = 13000",
        "Random:setSeed = on",
        f"Random:seed = {seed}",
        *_process_settings("ttbar", None, 2),
    ]
    particles = pythia_events(settings, n_events, failure=ConfigError("Pythia did not start"))
    ids, mothers = ak.to_list(abs(particles.id)), ak.to_list(particles.mother1)
    parent = ak.Array(
        [[ev[m] if m > 0 else 0 for m in ms] for ev, ms in zip(ids, mothers, strict=True)]
    )
    kind = abs(particles.id)
    quarks = particles[(kind <= 5) & ((parent == 6) | (parent == 24)) & (particles.status < 0)]
    final = particles[particles.status > 0]
    kind = abs(final.id)
    visible = final[(kind != 11) & (kind != 12) & (kind != 13) & (kind != 14) & (kind != 16)]
    momenta = ak.zip({"px": visible.p.px, "py": visible.p.py, "pz": visible.p.pz, "E": visible.p.e})
    definition = fastjet.JetDefinition(fastjet.antikt_algorithm, 0.4)
    jets = fastjet.ClusterSequence(momenta, definition).inclusive_jets(min_pt=5.0)
    ratio, parton_pt = [], []
    jet_lists = ak.to_list(ak.zip([jets.px, jets.py, jets.pz]))
    for event_quarks, event_jets in zip(ak.to_list(quarks.p), jet_lists, strict=True):
        if not event_jets:
            continue
        jet = np.asarray(event_jets)
        jet_pt, jet_eta, jet_phi = _pt_eta_phi(jet[:, 0], jet[:, 1], jet[:, 2])
        for quark in event_quarks:
            pt, eta, phi = _pt_eta_phi(quark["px"], quark["py"], quark["pz"])
            if pt < 20 or abs(eta) > 2.5:
                continue
            distance = np.asarray(
                [delta_r(eta, phi, e, f) for e, f in zip(jet_eta, jet_phi, strict=True)]
            )
            nearest = int(np.argmin(distance))
            if distance[nearest] < 0.3:
                ratio.append(jet_pt[nearest] / pt)
                parton_pt.append(pt)
    return np.asarray(ratio), np.asarray(parton_pt)


def fit_tail(loss: np.ndarray) -> tuple[float, float]:
    """(f, λ) of P(loss > x) = f exp(−x/λ), least squares in log P over x = 0.15 … 0.6."""
    x = np.linspace(0.15, 0.6, 10)
    survival = np.asarray([np.mean(loss > value) for value in x])
    slope, intercept = np.polyfit(x, np.log(survival), 1)
    return float(np.exp(intercept)), float(-1 / slope)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000, help="Pythia tt̄ events")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    if args.events < 1:
        parser.error("--events must be at least 1")
    ratio, parton_pt = responses(args.events, args.seed)
    print(f"{len(ratio)} matched quarks in {args.events} tt̄ events")
    print("| parton pT (GeV) | quarks | " + " | ".join(f"q{q:g}" for q in QUANTILES) + " |")
    print("|---" * (len(QUANTILES) + 2) + "|")
    for low, high in RANGES:
        values = ratio[(parton_pt >= low) & (parton_pt < high)]
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
