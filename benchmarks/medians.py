"""Medians of the generated features against HEPMASS's, and what moving them to HEPMASS's
does to the networks trained on the real HEPMASS.

HEPMASS's medians (:data:`HEPMASS_MEDIANS`) are read off the published box plots of every
feature per class and mass (Anzalone et al. 2022, arXiv:2202.00424, their repository's
``HEPMASS.ipynb``), good to about ±0.05 standardised units. The script generates a test
file (by default as ``realism.py``'s: ``pnn generate --signal 20000 --background 100000
--seed 12``) and prints, per feature, the medians of the background and of the signal at
500 … 1500 GeV beside HEPMASS's, then the four-jet share and the b-tag rate of jets 1–4
(on the whole file, then per group: background, signal at each mass).

``--shift`` moves, for each feature set of :data:`SHIFTS`, every generated group's values
(all background; the signal of each mass) by HEPMASS's median minus the group's generated
median, and prints the per-mass AUC of the networks trained on the real data
(``../shared/reference-nets``) on the moved events: whether one feature's position
explains where they lose AUC on generated events.

``--btag-units`` scores the same file with the b-tag flags of jets 1–3 re-expressed as the
z-score of a 0/1 flag at other tag rates (:data:`BTAG_VARIANTS`): HEPMASS's rates, which
the generator uses, each 0.05 lower or higher (they are read off a histogram), the
generated rates (the units of generator version 7), and every jet untagged.

Usage: .venv/bin/python benchmarks/medians.py [--signal 20000] [--background 100000]
[--seed 12] [--btag-efficiency 0.70,0.12,0.01] [--shift] [--btag-units]
[--nets ../shared/reference-nets]
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from hep_pnn.data import HEPMASS_MASSES, EventTable
from hep_pnn.data.generator.standardise import HEPMASS_BTAG_RATES, HEPMASS_CONSTANTS
from hep_pnn.errors import ConfigError
from realism import (
    FEATURE_LABELS,
    add_test_file_options,
    file_options,
    generate_test_file,
    merge_per_mass,
    reference_aucs,
)
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
#: Networks whose AUCs ``--shift`` and ``--btag-units`` print.
SHIFT_NETS = ("imb_interp_pnn", "imb_interp_affine", "affine")
#: b-tag columns of jets 1-4.
BTAG_COLUMNS = (*HEPMASS_BTAG_RATES, 21)
#: HEPMASS's b-tags per event: the tag rates of jets 1-4 (jet 4's from its stored values).
HEPMASS_TAGS_PER_EVENT = sum(HEPMASS_BTAG_RATES.values()) + HEPMASS_CONSTANTS[21][0]
#: ``--btag-units``: label -> tag rate per b-tag column of jets 1-3 (``"generated"``: the
#: file's own rates; ``"untagged"``: every jet of 1-4 untagged).
BTAG_VARIANTS: dict[str, str | dict[int, float]] = {
    "HEPMASS's rates (as generated)": dict(HEPMASS_BTAG_RATES),
    "HEPMASS's rates − 0.05": {j: p - 0.05 for j, p in HEPMASS_BTAG_RATES.items()},
    "HEPMASS's rates + 0.05": {j: p + 0.05 for j, p in HEPMASS_BTAG_RATES.items()},
    "the generated rates (version 7's units)": "generated",
    "every jet untagged": "untagged",
}


def groups(table: EventTable) -> dict[str, np.ndarray]:
    """Row masks in the order of :data:`HEPMASS_MEDIANS`: all background, then the
    signal at each HEPMASS mass."""
    rows = {"background": table.label == 0}
    for mass in HEPMASS_MASSES:
        rows[f"X {mass:g}"] = (table.label == 1) & (np.round(table.mass) == mass)
    return rows


def generated_medians(table: EventTable, *, feature: int) -> np.ndarray:
    """Median of ``feature`` per group of :func:`groups`."""
    return np.array([np.median(table.features[rows, feature]) for rows in groups(table).values()])


def median_shifted(table: EventTable, *, features: Sequence[int]) -> EventTable:
    """A copy of ``table`` with each group's ``features`` moved so that their medians are
    HEPMASS's (:data:`HEPMASS_MEDIANS`); every other column is unchanged."""
    x = table.features.copy()
    rows = list(groups(table).values())
    for feature in features:
        moves = np.asarray(HEPMASS_MEDIANS[feature]) - generated_medians(table, feature=feature)
        for group, move in zip(rows, moves, strict=True):
            x[group, feature] += move
    return dataclasses.replace(table, features=x)


def _flag(tagged: np.ndarray, rate: float) -> np.ndarray:
    """A 0/1 flag z-scored at the tag rate ``rate``."""
    return np.where(tagged, np.sqrt((1 - rate) / rate), -np.sqrt(rate / (1 - rate)))


def btag_units(table: EventTable, *, rates: str | Mapping[int, float]) -> EventTable:
    """A copy of ``table`` with the b-tags of jets 1-3 z-scored at ``rates`` (``{column:
    rate}``, or ``"generated"``: each column's own tag rate in ``table``), or with every
    jet of 1-4 untagged (``"untagged"``); the jets tagged stay the same."""
    x = table.features.copy()
    tagged = x[:, BTAG_COLUMNS] > 0  # a tagged jet carries the positive value
    if rates == "untagged":
        x[:, BTAG_COLUMNS] = np.minimum(x[:, BTAG_COLUMNS].min(axis=0), 0.0)
        return dataclasses.replace(table, features=x)
    for k, column in enumerate(BTAG_COLUMNS[:3]):
        rate = tagged[:, k].mean() if rates == "generated" else rates[column]
        x[:, column] = _flag(tagged[:, k], rate)
    return dataclasses.replace(table, features=x)


def print_medians(table: EventTable) -> None:
    """Markdown table of the medians, then the four-jet share and b-tag rates."""
    print("| feature | HEPMASS | generated | generated − HEPMASS |")
    print("|---|---|---|---|")
    for feature, real in HEPMASS_MEDIANS.items():
        ours = generated_medians(table, feature=feature)
        cells = [", ".join(f"{v:+.2f}" for v in values) for values in (real, ours, ours - real)]
        print(f"| f{feature} {FEATURE_LABELS[feature]} | " + " | ".join(cells) + " |")
    four_jets = table.features[:, 5] == table.features[:, 5].min()
    shares = {name: float(four_jets[rows].mean()) for name, rows in groups(table).items()}
    print("four-jet share: " + ", ".join(f"{n} {v:.2f}" for n, v in shares.items()))
    tags = table.features[:, BTAG_COLUMNS] > 0  # a tagged jet carries the positive value
    print(
        "b-tag rate of jets 1-4: " + " / ".join(f"{v:.3f}" for v in tags.mean(axis=0))
        + f"; tags per event {tags.sum(axis=1).mean():.2f} "
        f"(HEPMASS's rates: {HEPMASS_TAGS_PER_EVENT:.2f})"
    )  # fmt: skip
    for name, rows in groups(table).items():
        rates = " / ".join(f"{v:.3f}" for v in tags[rows].mean(axis=0))
        print(f"  {name}: {rates}; tags per event {tags[rows].sum(axis=1).mean():.2f}")


def shift_aucs(
    table: EventTable,
    nets: Mapping[str, ReferenceNet],
    *,
    shifts: Sequence[Sequence[int]] = SHIFTS,
) -> dict[str, dict[str, dict[float, float]]]:
    """``{features moved: {net: {mass: AUC}}}``; the first key: the events as generated."""

    def label(features: Sequence[int]) -> str:
        return " + ".join(f"f{j} {FEATURE_LABELS[j]}" for j in features) or "none (as generated)"

    return {label(s): reference_aucs(median_shifted(table, features=s), nets) for s in shifts}


def btag_aucs(
    table: EventTable, nets: Mapping[str, ReferenceNet]
) -> dict[str, dict[str, Mapping[float, float]]]:
    """``{b-tag variant: {net: {mass: AUC}}}`` over :data:`BTAG_VARIANTS`; the per-mass
    nets (``individual_M``, each scored at its own mass) make one row."""
    return {
        label: merge_per_mass(reference_aucs(btag_units(table, rates=rates), nets))
        for label, rates in BTAG_VARIANTS.items()
    }


def print_variant_aucs(
    aucs: Mapping[str, Mapping[str, Mapping[float, float]]], *, heading: str
) -> None:
    """Markdown table: per variant of the events and net, the AUC per mass and, after the
    first variant, the change against it."""
    masses = " | ".join(f"{m:g}" for m in HEPMASS_MASSES)
    print(f"| {heading} | net | {masses} |")
    print("|---|---" + "|---" * len(HEPMASS_MASSES) + "|")
    first = next(iter(aucs.values()))
    for k, (label, by_net) in enumerate(aucs.items()):
        for name, row in by_net.items():
            cells = [
                f"{row[m]:.3f}" + (f" ({row[m] - first[name][m]:+.3f})" if k else "")
                for m in HEPMASS_MASSES
            ]
            print(f"| {label} | {name} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_test_file_options(parser)
    parser.add_argument(
        "--shift", action="store_true", help="AUCs of the real-data nets with medians moved"
    )
    parser.add_argument(
        "--btag-units", action="store_true", help="AUCs of the real-data nets, b-tag units varied"
    )
    parser.add_argument("--nets", type=Path, default=DEFAULT_FOLDER, help="reference-nets folder")
    args = parser.parse_args()
    try:
        table = generate_test_file(**file_options(args))
    except ConfigError as error:
        parser.exit(2, f"error: {error}\n")
    print_medians(table)
    if args.shift or args.btag_units:
        nets = load_reference_nets(args.nets)
        picked = {name: nets[name] for name in SHIFT_NETS}
    if args.shift:
        print_variant_aucs(shift_aucs(table, picked), heading="medians moved to HEPMASS's")
    if args.btag_units:
        per_mass = {name: net for name, net in nets.items() if net.mass is not None}
        print_variant_aucs(btag_aucs(table, picked | per_mass), heading="b-tags of jets 1-3")


if __name__ == "__main__":
    main()
