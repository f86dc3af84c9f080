"""Realism of the built-in generator, judged by networks trained on the real HEPMASS.

Generates a test file (by default as ``pnn generate --signal 20000 --background 100000
--seed 12``), scores it with every network in the shared ``reference-nets`` folder
(weights the published authors trained on the real HEPMASS / HEPMASS-IMB) and prints the
per-mass unweighted ROC-AUC beside the published real-data values and the difference. A
network that learnt the real data loses AUC where the generated events differ from it.

``--scan`` prints, for each per-mass network, where its signal-likeness peaks as one
standardised feature is scanned (all other features of a generated signal + background
mix kept), beside the generated signal's and background's medians: where the real
data's signal sat in HEPMASS's units, against where the generated one sits.

``--hypotheses`` scores the generated signal of 750, 1000 and 1250 GeV (or of the masses
given with ``--hypothesis-masses``, generated in addition) with each parametric network at
every mass hypothesis from 500 to 1500 GeV (the background at the same hypothesis) and
prints the AUC at the true mass, where the AUC peaks and which hypotheses lie within 0.002
of that peak. A network trained on every mass is expected to peak near the true mass on
events like those it learnt; where it peaks elsewhere on generated events, they look
heavier or lighter to it. With ``--plots`` the curves are also drawn
(``realism-hypotheses.png``).

The shape of the m_WWbb peaks against HEPMASS's is ``f26_shape.py``'s.

``--plots DIR`` also writes comparisons that need no real data: every feature per process
and mass (``features.png``), the m_jj / m_jjj / m_WWbb peaks in GeV (``peaks.png``) and
each feature's correlation with m_WWbb (``correlations.png``).

Usage: .venv/bin/python benchmarks/realism.py [--signal 20000] [--background 100000]
[--seed 12] [--btag-efficiency 0.70,0.12,0.01] [--nets ../shared/reference-nets] [--scan]
[--hypotheses]
[--hypothesis-masses 750,1000,1250] [--plots docs/figures]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import roc_auc_score

from hep_pnn.apply import load_scorer
from hep_pnn.data import HEPMASS_MASSES, EventTable
from hep_pnn.data.generator import generate
from hep_pnn.data.generator.detector import BTAG_WORKING_POINT
from hep_pnn.data.generator.standardise import destandardise
from hep_pnn.data.generator.validation import parse_btag_efficiency
from hep_pnn.errors import ConfigError
from hep_pnn.mass_lists import parse_masses
from hep_pnn.scorer import Scorer
from hep_pnn.zoo import RECIPES, load_zoo_model
from reference_nets import DEFAULT_FOLDER, ReferenceNet, load_reference_nets

#: Published real-data AUCs (docs/generator.md, REFERENCE.md): (low, high) per mass.
PUBLISHED: dict[str, tuple[tuple[float, float], ...]] = {
    "individual": tuple((a, a) for a in (0.775, 0.926, 0.974, 0.989, 0.994)),
    "pnn": ((0.773, 0.778), (0.927, 0.929), (0.975, 0.976), (0.990, 0.990), (0.995, 0.995)),
    "imb_interp_pnn": tuple((a, a) for a in (0.766, 0.766, 0.940, 0.979, 0.990)),
    "imb_interp_affine": tuple((a, a) for a in (0.771, 0.887, 0.965, 0.986, 0.993)),
}
PUBLISHED["affine"] = PUBLISHED["pnn"]
FEATURE_LABELS = (
    "lepton pT", "lepton η", "lepton φ", "MET", "MET φ", "n jets",
    *(f"jet{j} {q}" for j in range(1, 5) for q in ("pT", "η", "φ", "b-tag")),
    "m_jj", "m_jjj", "m_ℓν", "m_jℓν", "m_WWbb",
)  # fmt: skip


def reference_aucs(
    table: EventTable,
    nets: Mapping[str, ReferenceNet],
    *,
    masses: Sequence[float] = HEPMASS_MASSES,
) -> dict[str, dict]:
    """``{net: {mass: AUC}}``: per mass, all signal at that mass against all background,
    the background scored at that mass; per-mass nets only at their own mass."""
    result: dict[str, dict[float, float]] = {}
    for name, net in nets.items():
        result[name] = {}
        for mass in masses:
            if net.mass is not None and net.mass != mass:
                continue
            auc = hypothesis_scan(table, net, mass=mass, hypotheses=np.array([mass]))
            result[name][mass] = float(auc[0])
    return result


#: Signal masses and mass hypotheses of ``--hypotheses`` (GeV).
SCAN_MASSES = (750.0, 1000.0, 1250.0)
HYPOTHESES = np.arange(500.0, 1501.0, 50.0)
#: Hypotheses within this AUC of the best count as equally good (the top is flat).
PLATEAU = 0.002


@dataclass(frozen=True)
class ModelNet:
    """A hep-pnn model with the reference networks' ``score(x, mass)`` interface, so that
    :func:`hypothesis_scan` scores it."""

    name: str
    model: Scorer
    mass: None = None

    def score(self, x: np.ndarray, mass: float) -> np.ndarray:
        """Signal probability of each row of ``x`` at the mass hypothesis ``mass`` (GeV)."""
        return np.asarray(self.model.predict(x, np.full(len(x), float(mass))))


def load_model_net(text: str, *, name: str | None = None) -> ModelNet:
    """A hep-pnn model as a :class:`ModelNet` named ``name`` (default ``text``): a
    pretrained model by name (``pnn zoo list``), else what ``pnn apply`` takes (a run
    folder, a saved model folder or an ``.onnx`` file)."""
    model = load_zoo_model(text) if text in RECIPES else load_scorer(text)
    return ModelNet(text if name is None else name, model)


def _working_point(text: str) -> tuple[float, float, float]:
    """``--btag-efficiency``: three comma-separated probabilities (b, c, light)."""
    try:
        return parse_btag_efficiency(text)
    except ConfigError:
        raise argparse.ArgumentTypeError(f"not three probabilities b,c,light: {text!r}") from None


def add_test_file_options(parser: argparse.ArgumentParser) -> None:
    """``--signal``, ``--background``, ``--seed`` and ``--btag-efficiency`` of
    :func:`generate_test_file` (:func:`file_options` reads them back)."""
    parser.add_argument("--signal", type=int, default=20_000, help="signal events per mass")
    parser.add_argument("--background", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--btag-efficiency",
        type=_working_point,
        default=BTAG_WORKING_POINT,
        help="tag probabilities of b, c and light jets (default: the generator's, 0.70,0.12,0.01)",
    )


def file_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of :func:`generate_test_file` in parsed ``args``."""
    names = ("signal", "background", "seed", "btag_efficiency")
    return {name: getattr(args, name) for name in names}


def generate_test_file(
    *,
    signal: int,
    background: int,
    seed: int,
    btag_efficiency: tuple[float, float, float] = BTAG_WORKING_POINT,
    masses: Sequence[float] = HEPMASS_MASSES,
) -> EventTable:
    """The generated test file (:func:`add_test_file_options`), with a line saying how it
    was made; raises :class:`~hep_pnn.errors.ConfigError` for counts below 1 or a bad
    working point."""
    if min(signal, background) < 1:
        counts = f"{signal} and {background}"
        raise ConfigError(f"event counts {counts}", where="--signal, --background", fix="use ≥ 1")
    start = time.perf_counter()
    table = generate(
        masses=masses,
        n_signal_per_mass=signal,
        n_background=background,
        seed=seed,
        btag_efficiency=btag_efficiency,
    )
    options = f"--signal {signal} --background {background} --seed {seed}"
    if tuple(btag_efficiency) != BTAG_WORKING_POINT:
        options += " --btag-efficiency " + ",".join(f"{p:g}" for p in btag_efficiency)
    print(f"generated {len(table):,} events in {time.perf_counter() - start:.1f} s ({options})")
    return table


def hypothesis_scan(
    table: EventTable, net: ReferenceNet, *, mass: float, hypotheses: np.ndarray = HYPOTHESES
) -> np.ndarray:
    """AUC of ``net`` for the signal of ``mass`` against all background, both scored at
    each mass hypothesis in ``hypotheses``."""
    x, label = signal_and_background(table, mass=mass)
    return np.array([roc_auc_score(label, net.score(x, h)) for h in hypotheses])


def signal_and_background(table: EventTable, *, mass: float) -> tuple[np.ndarray, np.ndarray]:
    """Features (float32) and labels of the signal of ``mass`` and all background."""
    keep = (table.label == 0) | ((np.round(table.mass) == mass) & (table.label == 1))
    return table.features[keep].astype(np.float32), table.label[keep]


def hypothesis_scans(
    table: EventTable,
    nets: Mapping[str, ReferenceNet],
    *,
    masses: Sequence[float] = SCAN_MASSES,
    hypotheses: np.ndarray = HYPOTHESES,
) -> dict[str, dict[float, np.ndarray]]:
    """``{net: {mass: AUCs over hypotheses}}`` for the parametric nets."""
    return {
        name: {m: hypothesis_scan(table, net, mass=m, hypotheses=hypotheses) for m in masses}
        for name, net in nets.items()
        if net.mass is None
    }


def print_hypothesis_scans(
    scans: Mapping[str, Mapping[float, np.ndarray]], *, hypotheses: np.ndarray = HYPOTHESES
) -> None:
    """Markdown table: per parametric net and signal mass, the AUC at the true mass
    (interpolated between hypotheses), the hypothesis where it peaks and the hypotheses
    within :data:`PLATEAU` of that peak."""
    print("| net | signal mass | AUC at the true mass | best hypothesis (AUC) | within 0.002 |")
    print("|---|---|---|---|---|")
    for name, rows in scans.items():
        for mass, aucs in rows.items():
            best = int(np.argmax(aucs))
            plateau = hypotheses[aucs >= aucs[best] - PLATEAU]
            cells = (
                f"{mass:g}",
                f"{np.interp(mass, hypotheses, aucs):.3f}",
                f"{hypotheses[best]:g} ({aucs[best]:.3f})",
                f"{plateau.min():g}–{plateau.max():g}",
            )
            print(f"| {name} | " + " | ".join(cells) + " |")


def plot_hypothesis_scans(
    scans: Mapping[str, Mapping[float, np.ndarray]],
    *,
    hypotheses: np.ndarray = HYPOTHESES,
    fig: Figure | None = None,
) -> Figure:
    """AUC against the mass hypothesis, one panel per parametric net, a curve per
    signal mass (dotted line: the true mass)."""
    fig = fig or Figure(figsize=(4.2 * len(scans), 3.8))
    axes = np.atleast_1d(fig.subplots(1, len(scans), sharey=True))
    for ax, (name, rows) in zip(axes, scans.items(), strict=True):
        for k, (mass, aucs) in enumerate(rows.items()):
            line = ax.plot(hypotheses, aucs, color=f"C{k}", label=f"X {mass:g} GeV")[0]
            ax.axvline(mass, color=line.get_color(), ls=":", lw=1)
        ax.set_title(f"{name} (trained on real data)", fontsize=10)
        ax.set_xlabel("mass hypothesis fed to the net (GeV)")
    axes[0].set_ylabel("ROC AUC on generated events")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def _published(name: str) -> tuple[tuple[float, float], ...]:
    return PUBLISHED["individual" if name.startswith("individual_") else name]


def _difference(auc: float, low: float, high: float) -> float:
    """Signed distance to the published range (0 inside it)."""
    return auc - low if auc < low else (auc - high if auc > high else 0.0)


def merge_per_mass(
    aucs: Mapping[str, Mapping[float, float]], *, label: str = "individual_M"
) -> dict[str, Mapping[float, float]]:
    """``aucs`` with the per-mass nets' rows (``individual_M``, each at its own mass)
    merged into one row ``label``, placed first."""
    merged = {m: a for name, row in aucs.items() if name.startswith("individual_")
              for m, a in row.items()}  # fmt: skip
    rest = {name: row for name, row in aucs.items() if not name.startswith("individual_")}
    return ({label: merged} if merged else {}) | rest


def print_table(aucs: Mapping[str, Mapping[float, float]]) -> None:
    """Markdown table: measured AUC, published real-data AUC and difference per mass."""
    print(
        "| network, trained on real data | " + " | ".join(f"{m:g}" for m in HEPMASS_MASSES) + " |"
    )
    print("|---" * (len(HEPMASS_MASSES) + 1) + "|")
    for name, row in merge_per_mass(aucs, label="individual_M (per-mass nets)").items():
        published = _published("individual_" if name.startswith("individual") else name)
        cells = []
        for k, mass in enumerate(HEPMASS_MASSES):
            low, high = published[k]
            ref = f"{low:.3f}" if low == high else f"{low:.3f}–{high:.3f}"
            diff = _difference(row[mass], low, high)
            cells.append(f"{row[mass]:.3f} ({ref}, {diff:+.3f})")
        print(f"| {name} | " + " | ".join(cells) + " |")


SCAN_FEATURES = (0, 3, 6, 10, 14, 18, 22, 23, 25, 26)


def feature_scan(
    table: EventTable, net: ReferenceNet, feature: int, *, grid: np.ndarray, events: int = 2000
) -> np.ndarray:
    """Mean logit of ``net`` at its mass when ``feature`` of ``events`` signal and as many
    background events is set to each value of ``grid``."""
    mass = net.mass
    signal = table.features[(table.label == 1) & (np.round(table.mass) == mass)][:events]
    mix = np.concatenate([signal, table.features[table.label == 0][:events]])
    response = []
    for value in grid:
        x = mix.copy()
        x[:, feature] = value
        score = np.clip(net.score(x, mass), 1e-7, 1 - 1e-7)
        response.append(float(np.mean(np.log(score / (1 - score)))))
    return np.asarray(response)


def print_scans(table: EventTable, nets: Mapping[str, ReferenceNet]) -> None:
    """Per per-mass net and feature: the value of highest signal-likeness within the
    central 98 % of the generated values, the logit swing over that range, and the
    generated signal and background medians (standardised units)."""
    background = table.features[table.label == 0]
    print("| net | feature | most signal-like value | logit swing | signal median | "
          "background median |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for name, net in nets.items():
        if net.mass is None:
            continue
        signal = table.features[(table.label == 1) & (np.round(table.mass) == net.mass)]
        for j in SCAN_FEATURES:
            grid = np.linspace(*np.quantile(table.features[:, j], [0.01, 0.99]), 41)
            response = feature_scan(table, net, j, grid=grid)
            print(
                f"| {name} | f{j} {FEATURE_LABELS[j]} | {grid[np.argmax(response)]:+.2f} | "
                f"{np.ptp(response):.2f} | {np.median(signal[:, j]):+.2f} | "
                f"{np.median(background[:, j]):+.2f} |"
            )


def _groups(table: EventTable) -> dict[str, np.ndarray]:
    """Row masks: ttbar, wjets, then signal at each mass."""
    groups = {name: table.process == table.process_names.index(name) for name in ("ttbar", "wjets")}
    for mass in HEPMASS_MASSES:
        groups[f"X {mass:g}"] = (table.label == 1) & (np.round(table.mass) == mass)
    return groups


_STYLE = {"ttbar": dict(color="0.3", lw=2.0), "wjets": dict(color="0.6", lw=1.5, ls="--")}


def _hist(ax, values: np.ndarray, name: str, bins: np.ndarray) -> None:
    ax.hist(values, bins=bins, density=True, histtype="step", label=name, **_STYLE.get(name, {}))


def plot_features(table: EventTable, *, fig: Figure | None = None) -> Figure:
    """Every standardised feature, per process and signal mass (normalised)."""
    fig = fig or Figure(figsize=(14, 21))
    axes = fig.subplots(7, 4).ravel()
    groups = _groups(table)
    for j, ax in enumerate(axes[:27]):
        column = table.features[:, j]
        values = np.unique(column)
        if values.size <= 20:  # jet count and b-tags: one bin per value
            bins = np.r_[values[0] - 0.1, 0.5 * (values[1:] + values[:-1]), values[-1] + 0.1]
        else:
            bins = np.linspace(*np.quantile(column, [0.001, 0.999]), 40)
        for name, rows in groups.items():
            _hist(ax, column[rows], name, bins)
        ax.set_title(f"f{j} {FEATURE_LABELS[j]}", fontsize=10)
        ax.tick_params(labelsize=8)
    axes[27].axis("off")
    axes[0].legend(fontsize=8)
    fig.suptitle("generated features (standardised), per process and mass")
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    return fig


def plot_peaks(raw: np.ndarray, table: EventTable, *, fig: Figure | None = None) -> Figure:
    """m_jj, m_jjj and m_WWbb in GeV per process and signal mass."""
    fig = fig or Figure(figsize=(16, 4.5))
    axes = fig.subplots(1, 3)
    groups = _groups(table)
    ranges = {22: (0, 250), 23: (0, 500), 26: (200, 2200)}
    for ax, (j, (low, high)) in zip(axes, ranges.items(), strict=True):
        bins = np.linspace(low, high, 80)
        for name, rows in groups.items():
            _hist(ax, raw[rows, j], name, bins)
        ax.set_xlabel(f"f{j} {FEATURE_LABELS[j]} (GeV)")
    axes[1].axvline(172.5, color="k", lw=0.5)
    axes[0].axvline(80.4, color="k", lw=0.5)
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_correlations(table: EventTable, *, fig: Figure | None = None) -> Figure:
    """Pearson correlation of each standardised feature with m_WWbb (f26), per group."""
    fig = fig or Figure(figsize=(14, 5))
    ax = fig.subplots()
    for name, rows in _groups(table).items():
        x = table.features[rows]
        corr = [np.corrcoef(x[:, j], x[:, 26])[0, 1] if x[:, j].std() > 0 else 0.0
                for j in range(26)]  # fmt: skip
        ax.plot(range(26), corr, marker="o", ms=3, label=name, **_STYLE.get(name, {}))
    ax.set_xticks(range(26), [f"f{j} {FEATURE_LABELS[j]}" for j in range(26)], rotation=90)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_ylabel("correlation with f26 m_WWbb")
    ax.legend(fontsize=8, ncol=4)
    fig.tight_layout()
    return fig


def write_plots(table: EventTable, folder: Path) -> list[Path]:
    """The three comparison figures as PNGs in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = destandardise(table.features)
    figures = {
        "features": (plot_features(table), 50),
        "peaks": (plot_peaks(raw, table), 80),
        "correlations": (plot_correlations(table), 80),
    }
    paths = []
    for name, (fig, dpi) in figures.items():
        path = folder / f"realism-{name}.png"
        fig.savefig(path, dpi=dpi)
        paths.append(path)
    return paths


def _masses(text: str) -> tuple[float, ...]:
    """``--hypothesis-masses``: a mass list (:func:`~hep_pnn.mass_lists.parse_masses`)
    within 500-1500 GeV."""
    try:
        masses = parse_masses(text, option="--hypothesis-masses")
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if not all(HYPOTHESES[0] <= m <= HYPOTHESES[-1] for m in masses):
        raise argparse.ArgumentTypeError(f"masses must lie within 500-1500 GeV, not {text!r}")
    return masses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_test_file_options(parser)
    parser.add_argument("--nets", type=Path, default=DEFAULT_FOLDER, help="reference-nets folder")
    parser.add_argument("--scan", action="store_true", help="scan features through the nets")
    parser.add_argument(
        "--hypotheses", action="store_true", help="AUC against the mass hypothesis fed to the nets"
    )
    parser.add_argument(
        "--hypothesis-masses",
        type=_masses,
        default=SCAN_MASSES,
        help="signal masses of --hypotheses, comma-separated GeV (default 750,1000,1250)",
    )
    parser.add_argument("--plots", type=Path, default=None, help="write comparison PNGs here")
    args = parser.parse_args()
    nets = load_reference_nets(args.nets)
    try:
        table = generate_test_file(
            **file_options(args), masses=sorted({*HEPMASS_MASSES, *args.hypothesis_masses})
        )
    except ConfigError as error:
        parser.exit(2, f"error: {error}\n")
    print_table(reference_aucs(table, nets))
    if args.scan:
        print_scans(table, nets)
    paths = [] if args.plots is None else write_plots(table, args.plots)
    if args.hypotheses:
        scans = hypothesis_scans(table, nets, masses=args.hypothesis_masses)
        print_hypothesis_scans(scans)
        if args.plots is not None:
            paths.append(args.plots / "realism-hypotheses.png")
            plot_hypothesis_scans(scans).savefig(paths[-1], dpi=80)
    for path in paths:
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} kB)")


if __name__ == "__main__":
    main()
