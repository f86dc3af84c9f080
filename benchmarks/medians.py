"""Medians of the generated features against HEPMASS's, and what moving them to HEPMASS's
does to the networks trained on the real HEPMASS.

HEPMASS's medians (:data:`HEPMASS_MEDIANS`) are read off the published box plots of every
feature per class and mass (Anzalone et al. 2022, arXiv:2202.00424, their repository's
``HEPMASS.ipynb``), good to about ±0.05 standardised units. The script generates a test
file (by default as ``realism.py``'s: ``pnn generate --signal 20000 --background 100000
--seed 12``) and prints, per feature, the medians of the background and of the signal at
500 … 1500 GeV beside HEPMASS's, then the four-jet share and the b-tag rate of jets 1–4.

``--shift`` moves, for each feature set of :data:`SHIFTS`, every generated group's values
(all background; the signal of each mass) by HEPMASS's median minus the group's generated
median, and prints the per-mass AUC of the networks trained on the real data
(``../shared/reference-nets``) on the moved events: whether one feature's position
explains where they lose AUC on generated events.

Usage: .venv/bin/python benchmarks/medians.py [--signal 20000] [--background 100000]
[--seed 12] [--shift] [--nets ../shared/reference-nets]
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from hep_pnn.data import HEPMASS_MASSES, EventTable
from hep_pnn.data.generator import generate
from realism import FEATURE_LABELS, reference_aucs
from reference_nets import DEFAULT_FOLDER, ReferenceNet, load_reference_nets

#: HEPMASS's medians in its standardised units: background, then signal at 500, 750,
#: 1000, 1250 and 1500 GeV (box plots of Anzalone et al., ``HEPMASS.ipynb``; ±0.05).
HEPMASS_MEDIANS: dict[int, tuple[float, ...]] = {
    6: (-0.65, -0.35, 0.30, 0.85, 1.20, 1.45),
    0: (-0.30, -0.10, 0.30, 0.55, 0.60, 0.60),
    14: (-0.45, -0.10, 0.35, 0.60, 0.80, 0.85),
    18: (-0.35, -0.10, 0.30, 0.45, 0.55, 0.60),
    23: (-0.30, -0.25, -0.10, 0.00, 0.20, 0.35),
    25: (-0.45, -0.40, -0.10, 0.20, 0.85, 1.35),
    26: (-0.60, -0.60, 0.10, 0.60, 1.00, 1.35),
}
#: Feature sets moved by ``--shift`` (f25 m_jℓν, f23 m_jjj, f0 lepton pT, f26 m_WWbb).
SHIFTS: tuple[tuple[int, ...], ...] = ((), (25,), (23,), (23, 25), (0,), (26,), (0, 23, 25, 26))
#: Networks whose AUCs ``--shift`` prints.
SHIFT_NETS = ("imb_interp_pnn", "imb_interp_affine", "affine")


def groups(table: EventTable) -> dict[str, np.ndarray]:
    """Row masks in the order of :data:`HEPMASS_MEDIANS`: all background, then the
    signal at each HEPMASS mass."""
    rows = {"background": table.label == 0}
    for mass in HEPMASS_MASSES:
        rows[f"X {mass:g}"] = (table.label == 1) & (np.round(table.mass) == mass)
    return rows


def generated_medians(table: EventTable, feature: int) -> np.ndarray:
    """Median of ``feature`` per group of :func:`groups`."""
    return np.array([np.median(table.features[rows, feature]) for rows in groups(table).values()])


def median_shifted(table: EventTable, features: Sequence[int]) -> EventTable:
    """A copy of ``table`` with each group's ``features`` moved so that their medians are
    HEPMASS's (:data:`HEPMASS_MEDIANS`); every other column is unchanged."""
    x = table.features.copy()
    for feature in features:
        moves = np.asarray(HEPMASS_MEDIANS[feature]) - generated_medians(table, feature)
        for rows, move in zip(groups(table).values(), moves, strict=True):
            x[rows, feature] += move
    return dataclasses.replace(table, features=x)


def print_medians(table: EventTable) -> None:
    """Markdown table of the medians, then the four-jet share and b-tag rates."""
    print("| feature | HEPMASS | generated | generated − HEPMASS |")
    print("|---|---|---|---|")
    for feature, real in HEPMASS_MEDIANS.items():
        ours = generated_medians(table, feature)
        cells = [", ".join(f"{v:+.2f}" for v in values) for values in (real, ours, ours - real)]
        print(f"| f{feature} {FEATURE_LABELS[feature]} | " + " | ".join(cells) + " |")
    rows = groups(table)
    four_jets = {name: float(np.mean(table.features[r, 5] < -0.5)) for name, r in rows.items()}
    print("four-jet share: " + ", ".join(f"{n} {v:.2f}" for n, v in four_jets.items()))
    tags = table.features[:, [9, 13, 17, 21]] > 0  # tagged jets carry the positive value
    print(
        "b-tag rate of jets 1-4: " + " / ".join(f"{v:.3f}" for v in tags.mean(axis=0))
        + f"; tags per event {tags.sum(axis=1).mean():.2f} (HEPMASS 1.86)"
    )  # fmt: skip


def shift_aucs(
    table: EventTable,
    nets: Mapping[str, ReferenceNet],
    *,
    shifts: Sequence[Sequence[int]] = SHIFTS,
) -> dict[tuple[int, ...], dict[str, dict[float, float]]]:
    """``{features moved: {net: {mass: AUC}}}`` (``()``: the events as generated)."""
    return {tuple(s): reference_aucs(median_shifted(table, s), nets) for s in shifts}


def print_shift_aucs(aucs: Mapping[tuple[int, ...], Mapping[str, Mapping[float, float]]]) -> None:
    """Markdown table: per moved feature set and net, the AUC per mass and the change
    against the events as generated."""
    masses = " | ".join(f"{m:g}" for m in HEPMASS_MASSES)
    print(f"| medians moved to HEPMASS's | net | {masses} |")
    print("|---|---" + "|---" * len(HEPMASS_MASSES) + "|")
    generated = aucs[()]
    for features, by_net in aucs.items():
        label = " + ".join(f"f{j} {FEATURE_LABELS[j]}" for j in features) or "none (as generated)"
        for name, row in by_net.items():
            cells = [
                f"{row[m]:.3f}" + ("" if not features else f" ({row[m] - generated[name][m]:+.3f})")
                for m in HEPMASS_MASSES
            ]
            print(f"| {label} | {name} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signal", type=int, default=20_000, help="signal events per mass")
    parser.add_argument("--background", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--shift", action="store_true", help="AUCs of the real-data nets with medians moved"
    )
    parser.add_argument("--nets", type=Path, default=DEFAULT_FOLDER, help="reference-nets folder")
    args = parser.parse_args()
    table = generate(n_signal_per_mass=args.signal, n_background=args.background, seed=args.seed)
    print(f"--signal {args.signal} --background {args.background} --seed {args.seed}")
    print_medians(table)
    if args.shift:
        nets = load_reference_nets(args.nets)
        print_shift_aucs(shift_aucs(table, {name: nets[name] for name in SHIFT_NETS}))


if __name__ == "__main__":
    main()
