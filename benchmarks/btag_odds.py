r"""How much a b-tag says "signal", mass by mass: networks trained on the real HEPMASS
against hep-pnn networks trained on generated events.

In every signal event of a mass (a generated test file, by default as ``realism.py``'s:
``pnn generate --signal 20000 --background 100000 --seed 12``), the b-tag of one of jets
1–4 (f9, f13, f17, f21) is set to tagged and then to untagged, every other feature kept,
and the network's logit is compared. The script prints the mean change, per network, jet
and mass. For a network that learnt its data the logit is the log-likelihood ratio of
signal to background (up to a constant), so the change is the log-odds ratio of a tag,
signal against background, at those kinematics, averaged over the signal events. The
networks trained on the real data say what HEPMASS's b-tags carried, those trained on
generated events (by default the pretrained ``individual-hepmass`` and ``affine-hepmass``)
what the generator's carry. Probabilities are clipped to
[1e-7, 1 − 1e-7] before the logit.

The tagged and untagged values are the generator's standardised ones: since generator
version 8 a z-score at HEPMASS's tag rates, which gives f21's two stored values exactly
and those of jets 1–3 as far as their rates are known (read off a histogram, ±0.05;
docs/generator.md, "Standardisation").

Usage: .venv/bin/python benchmarks/btag_odds.py [--models individual-hepmass affine-hepmass]
[--nets ../shared/reference-nets] [--signal 20000] [--background 100000] [--seed 12]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from hep_pnn.data import HEPMASS_MASSES, EventTable
from hep_pnn.data.generator import standardise
from hep_pnn.errors import ConfigError, PNNError
from realism import add_test_file_options, file_options, generate_test_file, load_model_net
from reference_nets import DEFAULT_FOLDER, load_reference_nets

#: The b-tag column of jets 1–4.
TAG_COLUMNS = (9, 13, 17, 21)
#: The real-data networks of the table: a per-mass family, the two trained on every mass and
#: the two trained at 500 and 1500 GeV only.
REAL = ("individual", "pnn", "affine", "imb_interp_pnn", "imb_interp_affine")
CLIP = 1e-7


class Net(Protocol):
    """What the table scores: a reference network or a :class:`realism.ModelNet`."""

    def score(self, x: np.ndarray, mass: float) -> np.ndarray: ...


def tag_values(column: int) -> tuple[float, float]:
    """The standardised (untagged, tagged) values of b-tag ``column``, as the generator
    writes them."""
    raw = np.ones((2, 27), np.float32)
    raw[:, column] = (0.0, 1.0)
    untagged, tagged = standardise(raw)[:, column]
    return float(untagged), float(tagged)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), CLIP, 1 - CLIP)
    return np.log(p / (1 - p))


def tag_odds(
    features: np.ndarray, net: Net, *, mass: float, columns: Sequence[int] = TAG_COLUMNS
) -> np.ndarray:
    """Mean change of ``net``'s logit at ``mass`` over the rows of ``features`` when each
    of ``columns`` goes from untagged to tagged (one value per column)."""
    changes = []
    for column in columns:
        untagged, tagged = tag_values(column)
        x = np.array(features, np.float32)
        x[:, column] = tagged
        with_tag = _logit(net.score(x, mass))
        x[:, column] = untagged
        changes.append(float(np.mean(with_tag - _logit(net.score(x, mass)))))
    return np.asarray(changes)


def odds_table(
    table: EventTable,
    nets: Mapping[str, Callable[[float], Net]],
    *,
    masses: Sequence[float] = HEPMASS_MASSES,
) -> dict[str, np.ndarray]:
    """``{name: (len(masses), 4) array}``: :func:`tag_odds` on the signal of each mass, with
    the net that ``nets[name](mass)`` returns for it."""
    signal = table.label == 1
    return {
        name: np.stack(
            [
                tag_odds(table.features[signal & (np.round(table.mass) == m)], net_at(m), mass=m)
                for m in masses
            ]
        )
        for name, net_at in nets.items()
    }


def print_odds(
    result: Mapping[str, np.ndarray], *, masses: Sequence[float] = HEPMASS_MASSES
) -> None:
    """One row per network and jet, one column per signal mass."""
    print("| network | jet | " + " | ".join(f"{m:.0f}" for m in masses) + " |")
    print("|---|---|" + "---|" * len(masses))
    for name, odds in result.items():
        for jet in range(odds.shape[1]):
            cells = " | ".join(f"{v:+.2f}" for v in odds[:, jet])
            print(f"| {name} | {jet + 1} | {cells} |")


def load_nets(
    *, folder: str | Path = DEFAULT_FOLDER, models: Sequence[str] = ()
) -> dict[str, Callable[[float], Net]]:
    """The real-data networks of :data:`REAL` from ``folder`` and the hep-pnn ``models``
    (pretrained names or model folders), as ``{name: mass → net}``; raises
    :class:`~hep_pnn.errors.ConfigError` naming the option at fault."""
    try:
        reference = load_reference_nets(folder)
    except FileNotFoundError as error:
        raise ConfigError(str(error), where="--nets") from None
    needed = [f"individual_{m:.0f}" for m in HEPMASS_MASSES] + list(REAL[1:])
    missing = [name for name in needed if name not in reference]
    if missing:
        raise ConfigError(
            f"no {missing[0]}.npz in {folder}", where="--nets", fix="pass the reference-nets folder"
        )
    result: dict[str, Callable[[float], Net]] = {
        "individual_M (real data)": lambda m: reference[f"individual_{m:.0f}"]
    }
    for name in REAL[1:]:
        result[f"{name} (real data)"] = lambda m, net=reference[name]: net
    for text in models:
        model = load_model_net(text)
        result[f"{text} (generated)"] = lambda m, net=model: net
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit code (2 for bad input, with one line on stderr)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models",
        nargs="*",
        default=["individual-hepmass", "affine-hepmass"],
        help="models trained on generated events: pretrained names, run or model folders, .onnx",
    )
    parser.add_argument("--nets", type=Path, default=DEFAULT_FOLDER, help="reference-nets folder")
    add_test_file_options(parser)
    args = parser.parse_args(argv)
    try:
        table = generate_test_file(**file_options(args))
        nets = load_nets(folder=args.nets, models=args.models)
        result = odds_table(table, nets)
    except (PNNError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print_odds(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
