r"""Where a pNN trained at 500 + 1500 GeV loses AUC between them, against the real-data net.

On a generated test file (by default as ``realism.py``'s: ``pnn generate --signal 20000
--background 100000 --seed 12``) the script prints four tables.

1. *AUC against the mass hypothesis*: the signal of 500, 1000 and 1500 GeV against all
   background, both scored at every hypothesis from 500 to 1500 GeV, by the Baldi pNN the
   published authors trained on the real HEPMASS-IMB at 500 + 1500 GeV (``imb_interp_pnn``)
   and by each hep-pnn model given with ``--models`` (what ``pnn apply`` takes: a run
   folder such as the interpolation study's ``runs/pnn/seed0``, a saved model folder or an
   ``.onnx`` file). A network that blends its two training masses ranks the
   1500 GeV signal above the background even at a low hypothesis; one that switches
   between them ranks it below there and reaches its 1000 GeV AUC only above 1000 GeV.
2. *Scored at 500 GeV*: the signal of every HEPMASS mass against all background, all
   scored at 500 GeV, by the real-data per-mass net ``individual_500`` and by the 500 GeV
   network of a hep-pnn per-mass model trained on generated events (``--per-mass``, by
   default the zoo's ``individual-hepmass``; the published layer sizes, a smaller
   training set). What a 500 GeV classifier makes of heavier signal is what a pNN trained
   at 500 and 1500 GeV has to change with its mass input.
3. *Where the 500 GeV networks separate*: the same two networks' AUC for the 500 GeV
   signal against the background within ranges of m_WWbb (f26, HEPMASS's standardised
   units), with each range's share of the signal and of the background.
4. *What the 500 GeV networks read in heavier signal*: for the 1000 and 1500 GeV signal
   against the background, scored at 500 GeV by the same two networks, the change of
   each network's AUC when one feature is shuffled among those events (permutation
   importance; the features that move either network by at least 0.02). A positive
   change: the feature made that network rank the heavier signal *below* the background.

The models must have been trained on the current generator version: a model standardises
its inputs with its own training data, so events of another version reach it in other
units where the versions' standardisation differs.

``--plot PATH`` draws table 1 (one panel per signal mass).

Usage: .venv/bin/python benchmarks/interpolation_gap.py --models MODEL [MODEL ...]
[--per-mass individual-hepmass|MODEL] [--nets ../shared/reference-nets] [--signal 20000]
[--background 100000] [--seed 12] [--plot PATH]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import roc_auc_score

from hep_pnn.data import HEPMASS_MASSES, EventTable
from hep_pnn.data.features import FEATURE_DESCRIPTIONS
from hep_pnn.errors import ConfigError, PNNError
from realism import (
    ModelNet,
    add_test_file_options,
    file_options,
    generate_test_file,
    hypothesis_scan,
    hypothesis_scans,
    load_model_net,
    signal_and_background,
)
from reference_nets import DEFAULT_FOLDER, ReferenceNet, load_reference_nets

#: Signal masses and mass hypotheses of table 1 (GeV).
SCAN_MASSES = (500.0, 1000.0, 1500.0)
HYPOTHESES = np.arange(500.0, 1501.0, 50.0)
#: f26 (m_WWbb): its column and the ranges of table 3, in HEPMASS's standardised units.
F26, F26_EDGES = 26, (-0.5, 0.0, 0.5)
#: Table 4: the heavier signal masses, and the smallest AUC change printed.
SHUFFLE_MASSES, SHUFFLE_THRESHOLD = (1000.0, 1500.0), 0.02
#: The real-data networks of the tables.
REAL_INTERPOLATING = "imb_interp_pnn"
REAL_PER_MASS = "individual_500"


def model_name(path: Path) -> str:
    """``runs/pnn/seed0/model`` and the run folder ``runs/pnn/seed0`` → ``pnn/seed0``; an
    ``.onnx`` file: its stem; any other folder: its name."""
    parts = path.resolve().parts
    if parts[-1] == "model" and len(parts) >= 3:
        return "/".join(parts[-3:-1])
    if parts[-1].startswith("seed") and len(parts) >= 2:
        return "/".join(parts[-2:])
    return path.stem if path.suffix.lower() == ".onnx" else parts[-1]


def scored_at(
    table: EventTable,
    nets: Mapping[str, ReferenceNet | ModelNet],
    *,
    hypothesis: float = 500.0,
    masses: Sequence[float] = HEPMASS_MASSES,
) -> dict[str, dict[float, float]]:
    """``{net: {signal mass: AUC}}``, every signal mass scored at ``hypothesis`` (table 2)."""
    at = np.array([hypothesis])
    return {
        name: {m: float(hypothesis_scan(table, net, mass=m, hypotheses=at)[0]) for m in masses}
        for name, net in nets.items()
    }


class Range(NamedTuple):
    """One row of table 3."""

    name: str
    signal_share: float
    background_share: float
    aucs: dict[str, float]


def by_m_wwbb(
    table: EventTable,
    nets: Mapping[str, ReferenceNet | ModelNet],
    *,
    mass: float = 500.0,
    edges: Sequence[float] = F26_EDGES,
) -> list[Range]:
    """Table 3: per f26 range, the shares of the signal of ``mass`` and of the background
    in it and each net's AUC there, all scored at ``mass`` (NaN where a range holds only
    one class)."""
    x, label = signal_and_background(table, mass=mass)
    scores = {name: net.score(x, mass) for name, net in nets.items()}
    bounds = (-np.inf, *edges, np.inf)
    rows = []
    for low, high in itertools.pairwise(bounds):
        inside = (x[:, F26] >= low) & (x[:, F26] < high)
        if low == -np.inf:
            name = f"below {high:g}"
        elif high == np.inf:
            name = f"{low:g} and above"
        else:
            name = f"{low:g} to {high:g}"
        both = len(np.unique(label[inside])) == 2
        aucs = {
            net: float(roc_auc_score(label[inside], s[inside])) if both else float("nan")
            for net, s in scores.items()
        }
        signal, background = inside[label == 1].mean(), inside[label == 0].mean()
        rows.append(Range(name, float(signal), float(background), aucs))
    return rows


def shuffle_shifts(
    table: EventTable,
    nets: Mapping[str, ReferenceNet | ModelNet],
    *,
    masses: Sequence[float] = SHUFFLE_MASSES,
    hypothesis: float = 500.0,
    seed: int = 0,
) -> dict[float, dict[str, np.ndarray]]:
    """Table 4: ``{signal mass: {net: AUC change per feature}}``, the signal of each mass
    against all background scored at ``hypothesis``, each feature shuffled in turn among
    those events (one permutation per feature, from ``seed``)."""
    rng = np.random.default_rng(seed)
    at = float(hypothesis)
    result: dict[float, dict[str, np.ndarray]] = {}
    for mass in masses:
        x, label = signal_and_background(table, mass=mass)
        orders = [rng.permutation(len(x)) for _ in range(x.shape[1])]
        result[mass] = {}
        for name, net in nets.items():
            base = roc_auc_score(label, net.score(x, at))
            shifts = np.empty(x.shape[1])
            for column, order in enumerate(orders):
                shuffled = x.copy()
                shuffled[:, column] = x[order, column]
                shifts[column] = roc_auc_score(label, net.score(shuffled, at)) - base
            result[mass][name] = shifts
    return result


def print_shifts(
    result: Mapping[float, Mapping[str, np.ndarray]], *, threshold: float = SHUFFLE_THRESHOLD
) -> None:
    """Table 4 in Markdown: per signal mass, the features that move some net's AUC by at
    least ``threshold`` when shuffled, largest first, a column per net."""
    names = list(next(iter(result.values())))
    print("| signal | feature shuffled | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for mass, shifts in result.items():
        largest = np.max(np.abs(np.stack(list(shifts.values()))), axis=0)
        if not largest.max() >= threshold:
            dashes = " | ".join("–" for _ in names)
            print(f"| X {mass:g} | none moves a net by {threshold:g} | {dashes} |")
        for column in np.argsort(-largest, kind="stable"):
            if largest[column] < threshold:
                break
            feature = f"f{column} {FEATURE_DESCRIPTIONS[f'f{column}']}"
            cells = " | ".join(f"{shifts[n][column]:+.3f}" for n in names)
            print(f"| X {mass:g} | {feature} | {cells} |")


def print_scans(
    result: Mapping[str, Mapping[float, np.ndarray]], *, hypotheses: np.ndarray = HYPOTHESES
) -> None:
    """Table 1 in Markdown: a row per net and signal mass, a column per hypothesis."""
    print("| net | signal (GeV) | " + " | ".join(f"{h:g}" for h in hypotheses) + " |")
    print("|---|---|" + "---|" * len(hypotheses))
    for name, rows in result.items():
        for mass, aucs in rows.items():
            print(f"| {name} | {mass:g} | " + " | ".join(f"{a:.3f}" for a in aucs) + " |")


def print_scored_at(
    result: Mapping[str, Mapping[float, float]], *, hypothesis: float = 500.0
) -> None:
    """Table 2 in Markdown: a row per net, a column per signal mass."""
    masses = next(iter(result.values()))
    print(f"| net, scored at {hypothesis:g} GeV | " + " | ".join(f"X {m:g}" for m in masses) + " |")
    print("|---|" + "---|" * len(masses))
    for name, aucs in result.items():
        print(f"| {name} | " + " | ".join(f"{a:.3f}" for a in aucs.values()) + " |")


def print_by_m_wwbb(rows: Sequence[Range], *, mass: float = 500.0) -> None:
    """Table 3 in Markdown: a row per f26 range, a column per net."""
    names = list(rows[0].aucs)
    header = f"| f26 (m_WWbb) | X {mass:g} share | background share | "
    print(header + " | ".join(names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    for row in rows:
        cells = " | ".join(f"{row.aucs[n]:.3f}" for n in names)
        print(f"| {row.name} | {row.signal_share:.3f} | {row.background_share:.3f} | {cells} |")


def plot_scans(
    result: Mapping[str, Mapping[float, np.ndarray]],
    *,
    hypotheses: np.ndarray = HYPOTHESES,
    fig: Figure | None = None,
) -> Figure:
    """AUC against the mass hypothesis, one panel per signal mass, a curve per net (the
    first one, the real-data net, in black)."""
    masses = list(next(iter(result.values())))
    fig = fig or Figure(figsize=(4.2 * len(masses), 3.8))
    axes = np.atleast_1d(fig.subplots(1, len(masses), sharey=True))
    for ax, mass in zip(axes, masses, strict=True):
        for k, (name, rows) in enumerate(result.items()):
            style = {"color": "black", "lw": 2.2} if k == 0 else {"color": f"C{k - 1}", "lw": 1.2}
            ax.plot(hypotheses, rows[mass], label=name, **style)
        ax.axvline(mass, color="grey", ls=":", lw=1)
        ax.axhline(0.5, color="grey", ls="--", lw=0.8)
        ax.set_title(f"signal at {mass:g} GeV", fontsize=10)
        ax.set_xlabel("mass hypothesis (GeV)")
    axes[0].set_ylabel("ROC AUC against all background")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def load_inputs(
    *, models: Sequence[Path], per_mass: str, nets: Path, plot: Path | None
) -> tuple[dict[str, ReferenceNet], dict[str, ModelNet], ModelNet]:
    """The reference networks, the ``--models`` by name and the ``--per-mass`` model;
    raises :class:`~hep_pnn.errors.ConfigError` naming the option at fault."""
    try:
        reference = load_reference_nets(nets)
    except FileNotFoundError as error:
        raise ConfigError(str(error), where="--nets") from None
    for name in (REAL_INTERPOLATING, REAL_PER_MASS):
        if name not in reference:
            raise ConfigError(
                f"no {name}.npz in {nets}", where="--nets", fix="pass the reference-nets folder"
            )
    paths: dict[str, Path] = {}
    for path in models:
        name = model_name(path)
        if name in paths:
            raise ConfigError(
                f"two models are named {name!r} ({paths[name]} and {path})",
                where="--models",
                fix="compare models of one result folder per run",
            )
        paths[name] = path
    loaded = {name: load_model_net(str(path), name=name) for name, path in paths.items()}
    if plot is not None and not plot.parent.is_dir():
        raise ConfigError(f"folder {plot.parent} does not exist", where="--plot")
    return reference, loaded, load_model_net(per_mass)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit code (2 for bad input, with one line on stderr)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models",
        type=Path,
        nargs="+",
        required=True,
        help="hep-pnn models: run folders, saved model folders or .onnx files",
    )
    parser.add_argument(
        "--per-mass",
        default="individual-hepmass",
        help="a per-mass model trained on generated events: pretrained name, run or model folder",
    )
    parser.add_argument("--nets", type=Path, default=DEFAULT_FOLDER, help="reference-nets folder")
    add_test_file_options(parser)
    parser.add_argument("--plot", type=Path, default=None, help="write table 1 as a PNG here")
    args = parser.parse_args(argv)
    try:
        table = generate_test_file(**file_options(args))
        reference, models, per_mass = load_inputs(
            models=args.models, per_mass=args.per_mass, nets=args.nets, plot=args.plot
        )
    except (PNNError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    interpolating = {f"{REAL_INTERPOLATING} (real data)": reference[REAL_INTERPOLATING], **models}
    result = hypothesis_scans(table, interpolating, masses=SCAN_MASSES, hypotheses=HYPOTHESES)
    print_scans(result)
    print()
    at_500 = {
        f"{REAL_PER_MASS} (real data)": reference[REAL_PER_MASS],
        f"{args.per_mass}, 500 GeV net (generated)": per_mass,
    }
    print_scored_at(scored_at(table, at_500))
    print()
    print_by_m_wwbb(by_m_wwbb(table, at_500))
    print()
    print_shifts(shuffle_shifts(table, at_500))
    if args.plot is not None:
        plot_scans(result).savefig(args.plot, dpi=80)
        print(f"wrote {args.plot} ({args.plot.stat().st_size / 1024:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
