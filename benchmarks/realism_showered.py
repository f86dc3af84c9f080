"""Does a parton shower make the events more HEPMASS-like? Showered events against the generator.

Makes HEPMASS-like events from full Pythia 8 events (parton shower, multi-parton
interactions, hadronisation; FastJet anti-kT jets) with the generator's detector,
reconstruction and standardisation (:mod:`hep_pnn.data.jets.showered`), and events from
the parametric generator with the same background (tt̄ only, as HEPMASS's): as many tt̄
events as were selected and, per mass, the smallest selected signal count. For both it
prints, per mass:

- the ROC-AUC of the networks trained on the real HEPMASS (``../shared/reference-nets``),
  beside their published real-data AUC: the closer, the more HEPMASS-like the events;
- the AUC of a boosted-tree classifier trained on the events themselves (2-fold), the
  events' own difficulty (published per-mass networks on HEPMASS: .775 / .926 / .974);
- four-jet fractions, feature medians (standardised units) and how far the signal's
  m_WWbb median lies above its peak.

``--pythia SETTING`` (repeatable) appends a Pythia setting to the showered sample's, e.g.
``--pythia "PartonLevel:ISR = off"``.

Needs the ``jets`` extra (Pythia 8, FastJet). Takes about 20 min on 2 cores with the
defaults (80 generated events per second per core).

Usage: .venv/bin/python benchmarks/realism_showered.py [--background 110000]
[--signal 30000] [--masses 500,750,1000] [--radius 0.4] [--no-mpi] [--sqrt-s 13000]
[--spin 2] [--seed 12] [--pythia SETTING ...] [--jobs 2] [--save DIR [--overwrite]]

``--save DIR`` writes both samples as Parquet (``DIR/showered.parquet``,
``DIR/parametric.parquet``; read them with ``hep_pnn.data.read_events``) for further checks
without rerunning Pythia.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from hep_pnn._io import check_writable
from hep_pnn.data import EventTable
from hep_pnn.data.generator import generate
from hep_pnn.data.generator.fit_constants import peak
from hep_pnn.data.jets.showered import SIGNAL_MODELS, SQRT_S, showered_table
from hep_pnn.data.native import write_parquet
from hep_pnn.errors import ConfigError, PNNError
from hep_pnn.mass_lists import parse_masses
from realism import FEATURE_LABELS, PUBLISHED, reference_aucs
from reference_nets import DEFAULT_FOLDER, ReferenceNet, load_reference_nets

MEDIAN_FEATURES = (0, 3, 6, 14, 18, 23, 25, 26)


def net_aucs(table: EventTable, nets: Mapping[str, ReferenceNet], masses: list[float]) -> dict:
    """``{row name: {mass: AUC}}`` of the real-data networks; per-mass nets in one row."""
    rows: dict[str, dict[float, float]] = {}
    for name, row in reference_aucs(table, nets, masses=masses).items():
        rows.setdefault("individual_M" if nets[name].mass is not None else name, {}).update(row)
    return rows


def own_auc(table: EventTable, mass: float, *, seed: int = 0) -> float:
    """2-fold boosted-tree AUC of the signal at ``mass`` against all background."""
    keep = (table.label == 0) | (np.round(table.mass) == mass)
    x, y = table.features[keep], table.label[keep]
    folds = StratifiedKFold(2, shuffle=True, random_state=seed)
    model = HistGradientBoostingClassifier(max_iter=200, random_state=seed)
    return float(
        roc_auc_score(y, cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1])
    )


def describe(
    name: str, table: EventTable, nets: Mapping[str, ReferenceNet], masses: list[float]
) -> None:
    sizes = ", ".join(
        f"{int(((table.label == 1) & (np.round(table.mass) == m)).sum()):,} at {m:g}"
        for m in masses
    )
    print(f"\n### {name}: {int((table.label == 0).sum()):,} tt̄ events; signal {sizes}\n")
    print("| | " + " | ".join(f"{m:g} GeV" for m in masses) + " |")
    print("|---" * (len(masses) + 1) + "|")
    published = {
        m: f"{PUBLISHED['individual'][k][0]:.3f}"
        for k, m in enumerate((500, 750, 1000, 1250, 1500))
    }
    for row, values in net_aucs(table, nets, masses).items():
        cells = [f"{values[m]:.3f}" if m in values else "—" for m in masses]
        print(f"| {row} (real data) | " + " | ".join(cells) + " |")
    print(
        "| boosted trees trained on these events | "
        + " | ".join(f"{own_auc(table, m):.3f} ({published.get(int(m), '—')})" for m in masses)
        + " |"
    )
    groups = {"tt̄": table.label == 0} | {
        f"{m:g}": (table.label == 1) & (np.round(table.mass) == m) for m in masses
    }
    four = table.features[:, 5] == table.features[:, 5].min()
    print(
        "| four-jet fraction | "
        + " | ".join(f"{four[g].mean():.2f}" for g in groups.values())
        + f" | (tt̄, then {', '.join(list(groups)[1:])} GeV)"
    )
    for f in MEDIAN_FEATURES:
        medians = " / ".join(f"{np.median(table.features[g, f]):+.2f}" for g in groups.values())
        print(f"| median {FEATURE_LABELS[f]} | {medians} |")
    tails = " / ".join(f"{f26_tail(table.features[g, 26]):+.2f}" for g in list(groups.values())[1:])
    print(f"| signal f26 median over its peak | {tails} | (HEPMASS 0.33 at 500 GeV) |")


def f26_tail(f26: np.ndarray) -> float:
    """How far the median of standardised m_WWbb lies above its peak (mode, a kernel
    density of bandwidth 0.05): HEPMASS's 500 GeV signal has 0.33."""
    return float(np.median(f26) - peak(f26.astype(np.float64), bandwidth=0.05))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--background", type=int, default=110_000, help="generated tt̄ events")
    parser.add_argument("--signal", type=int, default=30_000, help="generated X events per mass")
    parser.add_argument("--masses", default="500,750,1000", help="X masses, GeV (comma-separated)")
    parser.add_argument("--radius", type=float, default=0.4, help="anti-kT radius")
    parser.add_argument("--no-mpi", action="store_true", help="multi-parton interactions off")
    parser.add_argument("--sqrt-s", type=float, default=SQRT_S, help="pp energy, GeV")
    parser.add_argument(
        "--spin", type=int, default=2, choices=sorted(SIGNAL_MODELS), help="spin of the X"
    )
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--pythia", action="append", default=[], help="extra Pythia setting (repeatable)"
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--nets", type=Path, default=DEFAULT_FOLDER, help="reference-nets folder")
    parser.add_argument("--save", type=Path, help="folder for both samples as Parquet")
    parser.add_argument("--overwrite", action="store_true", help="replace files in --save")
    args = parser.parse_args()
    try:
        masses = [float(m) for m in parse_masses(args.masses)]
    except ConfigError as error:
        parser.error(str(error))
    if args.overwrite and not args.save:
        parser.error("--overwrite needs --save DIR")
    targets = {}
    if args.save:
        try:
            targets = {
                name: check_writable(
                    args.save / f"{name}.parquet", overwrite=args.overwrite, option="--save"
                )
                for name in ("showered", "parametric")
            }
        except PNNError as error:
            parser.error(str(error))
    nets = load_reference_nets(args.nets)
    start = time.perf_counter()
    try:
        showered = showered_table(
            masses=masses,
            n_generated_signal=args.signal,
            n_generated_background=args.background,
            seed=args.seed,
            radius=args.radius,
            mpi=not args.no_mpi,
            sqrt_s=args.sqrt_s,
            spin=args.spin,
            settings=args.pythia,
            jobs=args.jobs,
        )
    except ConfigError as error:
        parser.error(str(error))
    print(f"showered events in {time.perf_counter() - start:.0f} s")
    n_signal = min(int(((showered.label == 1) & (showered.mass == m)).sum()) for m in masses)
    parametric = generate(
        masses=masses,
        n_signal_per_mass=n_signal,
        seed=args.seed,
        spin=args.spin,
        n_background={"ttbar": int((showered.label == 0).sum())},
    )
    mpi = "off" if args.no_mpi else "on"
    title = (
        f"Pythia 8 ({args.sqrt_s / 1000:g} TeV, spin-{args.spin} X, anti-kT R = {args.radius:g}, "
        f"MPI {mpi}{''.join(f', {setting}' for setting in args.pythia)})"
    )
    describe(title, showered, nets, masses)
    describe("parametric generator", parametric, nets, masses)
    for name, table in (("showered", showered), ("parametric", parametric)):
        if name in targets:
            write_parquet(table, targets[name], overwrite=args.overwrite)


if __name__ == "__main__":
    main()
