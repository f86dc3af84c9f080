"""How hard is the initial-state radiation: Pythia 8 tt̄ and g g → X → tt̄, anti-kT R = 0.4.

The parametric generator draws its extra (radiation) jets with a pT density falling like
pT^-(power + 1) from 20 GeV up to a cap, a fraction of the tt̄ mass. This script measures
both in Pythia 8 (parton shower, multi-parton interactions and hadronisation on, 13 TeV,
the processes of :mod:`hep_pnn.data.jets.showered`): per event, the anti-kT R = 0.4 jets
(FastJet, every visible particle) of pT ≥ 20 GeV and abs(η) < 3 farther than ΔR = 0.6
from every top-decay parton (b quarks, W-decay quarks and leptons) are the extra jets. It
prints their count per event, pT quantiles, and the power of a truncated power law fitted
to the quantiles (least squares in log pT) with the cap at ``--ttbar-cap`` (``--signal-cap``)
× each event's m_tt̄: the generator's ``RADIATION_PT_POWER`` / ``RADIATION_PT_CAP`` (tt̄) and
``SIGNAL_RADIATION_PT_POWER`` / ``SIGNAL_RADIATION_PT_CAP`` (X) in
``hep_pnn.data.generator.processes``. ``--pythia SETTING`` (repeatable) appends a Pythia
setting, e.g. ``--pythia "SpaceShower:pTdampMatch = 0"``.

Why the caps differ: Pythia's initial-state shower of both processes may reach the
kinematic limit (``SpaceShower:pTmaxMatch = 0``: the final state holds no light quark,
gluon or photon), but for a hard process with two heavy coloured particles, tt̄, it damps
emissions above the factorisation scale by pT²_damp / (pT²_damp + pT²)
(``SpaceShower:pTdampMatch = 3``, the default; the scale is about the top's transverse
mass), while the colour-singlet X gets the undamped "power shower". The generator's hard
cap at m_tt̄ / 2 stands in for that damping.

Needs the ``jets`` extra (Pythia 8, FastJet). About 1 min per 4,000 events and process.

Usage: .venv/bin/python benchmarks/radiation.py [--events 4000] [--mass 500] [--seed 7]
[--ttbar-cap 0.5] [--signal-cap 1.0] [--pythia SETTING ...]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize_scalar

from hep_pnn.data.generator.processes import TTBAR_THRESHOLD
from hep_pnn.data.jets._events import delta_r, pt_eta_phi
from jet_response import pythia_jets

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
PT_MIN, ETA_MAX, VETO_RADIUS = 20.0, 3.0, 0.6


def extra_jets(
    process: str, mass: float | None, n_events: int, seed: int, settings: Sequence[str] = ()
) -> tuple[np.ndarray, ...]:
    """``(pT of every extra jet, the m_tt̄ of its event, extra jets per event, m_tt̄ per event)``."""
    import awkward as ak

    particles, jets = pythia_jets(process, mass, n_events, seed, min_pt=PT_MIN, settings=settings)
    kind = abs(particles.id)
    parent = kind[particles.mother1]
    tops = particles[(kind == 6) & (particles.status == -22)].p  # the hard process's t, t̄
    if not ak.all(ak.num(tops.e) == 2):
        raise RuntimeError("an event without its two hard-process tops (status -22)")
    e, px, py, pz = (ak.to_numpy(ak.sum(tops[c], axis=1)) for c in ("e", "px", "py", "pz"))
    m_pair = np.sqrt(np.maximum(e**2 - px**2 - py**2 - pz**2, 0.0))
    from_w = (kind <= 4) | (kind == 11) | (kind == 13) | (kind == 15)
    decay = particles[((kind == 5) & (parent == 6)) | (from_w & (parent == 24))]
    jet_pt, jet_eta, jet_phi = pt_eta_phi(jets)
    _, decay_eta, decay_phi = pt_eta_phi(decay.p)
    jet_dir = ak.zip({"eta": jet_eta, "phi": jet_phi})
    pairs = ak.cartesian([jet_dir, ak.zip({"eta": decay_eta, "phi": decay_phi})], nested=True)
    nearest = ak.min(
        delta_r(pairs["0"].eta, pairs["0"].phi, pairs["1"].eta, pairs["1"].phi), axis=2
    )
    extra = (abs(jet_eta) < ETA_MAX) & ak.fill_none(nearest > VETO_RADIUS, True)
    pt = jet_pt[extra]
    return (
        ak.to_numpy(ak.flatten(pt)),
        ak.to_numpy(ak.flatten(ak.broadcast_arrays(m_pair, pt)[0])),
        ak.to_numpy(ak.num(pt)),
        m_pair,
    )


def truncated_quantiles(power: float, cap: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Quantiles ``q`` of pT over jets whose caps are ``cap`` (GeV): the pooled sample of
    truncated power laws, density ∝ pT^-(power + 1) on [PT_MIN, cap]."""
    grid = np.geomspace(PT_MIN, max(float(cap.max()), PT_MIN * 1.01), 400)
    tail = (grid[:, None] / PT_MIN) ** -power
    floor = (np.maximum(cap, PT_MIN)[None] / PT_MIN) ** -power
    cdf = np.mean(np.clip((1 - tail) / (1 - floor), 0.0, 1.0), axis=1)
    return np.interp(q, cdf, grid)


def fit_power(pt: np.ndarray, cap: np.ndarray) -> float:
    """The power whose truncated power law best matches the quantiles of ``pt``."""
    q = np.asarray(QUANTILES)
    target = np.log(np.quantile(pt, q))
    result = minimize_scalar(
        lambda power: float(np.sum((np.log(truncated_quantiles(power, cap, q)) - target) ** 2)),
        bounds=(0.2, 4.0),
        method="bounded",
    )
    return float(result.x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000, help="events per process")
    parser.add_argument("--mass", type=float, default=500.0, help="the X mass, GeV")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ttbar-cap", type=float, default=0.5, help="cap / m_tt̄ for tt̄")
    parser.add_argument("--signal-cap", type=float, default=1.0, help="cap / m_tt̄ for the X")
    parser.add_argument("--pythia", action="append", default=[], help="extra Pythia setting")
    args = parser.parse_args()
    if args.events < 1:
        parser.error("--events must be at least 1")
    if not args.mass > TTBAR_THRESHOLD:
        parser.error(f"--mass must be above the tt̄ threshold, {TTBAR_THRESHOLD:g} GeV")
    for option, cap in (("--ttbar-cap", args.ttbar_cap), ("--signal-cap", args.signal_cap)):
        if not 0 < cap <= 1:
            parser.error(f"{option} must be in (0, 1], got {cap:g}")
    print(f"{'process':>12} {'cap':>9} {'extra/event':>11}  pT quantiles {QUANTILES} (GeV)  power")
    runs = (("ttbar", None, args.ttbar_cap), ("signal", args.mass, args.signal_cap))
    for process, mass, cap in runs:
        pt, m_pair, count, _ = extra_jets(process, mass, args.events, args.seed, args.pythia)
        power = fit_power(pt, cap * m_pair)
        quantiles = " ".join(f"{v:6.1f}" for v in np.quantile(pt, QUANTILES))
        model = truncated_quantiles(power, cap * m_pair, np.asarray(QUANTILES))
        fitted = " ".join(f"{v:6.1f}" for v in model)
        name = process if mass is None else f"X {mass:g}"
        print(f"{name:>12} {cap:>5.2f}×m_tt {count.mean():11.2f}  {quantiles}  {power:.2f}")
        print(f"{'':>12} {'':>9} {'fit':>11}  {fitted}")


if __name__ == "__main__":
    main()
