"""hep-pnn against the published Keras AffinePNN or Baldi pNN, trained on the same files.

Generates a training file (as ``pnn generate --signal 100000 --background 500000 --seed 11``)
and a test file (``--signal 20000 --background 100000 --seed 12``), each written twice from
the same events: Parquet for hep-pnn (with processes and event weights) and the HEPMASS CSV
layout for the reference code. Then, one after the other on the same machine:

* the reference: ``benchmarks/reference_driver.py`` runs in the reference's own virtual
  environment (``--reference-python``) and imports the ``script`` package of a checkout of
  Luca96/affine-parametric-networks (``--reference``); its own balanced sequence, 75/25
  split, AffinePNN (Dense 300-150-100-50, affine conditioning, dropout 0.25, L2 1e-5 /
  1e-6, mass as m/1000), Adam 1e-3, batch 1024, best epoch by validation AUC;
* hep-pnn: :func:`hep_pnn.training.train_experiment` with the library's defaults except the
  number of epochs (its defaults are the same split, batch size and learning rate).

Both are scored on the test file: at each mass m, the signal at m against all test
background scored at m, unweighted ROC-AUC (``sklearn.metrics.roc_auc_score``), as the
publications compute it. Training wall time is the reference's ``fit`` (training, per-epoch
validation, checkpoints) and hep-pnn's whole ``train_experiment`` (reading the file, fitting
the standardisation, training, validation, checkpoints, saving the model); events/s counts
the training events (75 % of the file) times the epochs over that time.

The reference code is never imported by hep-pnn nor shipped with it; setting up its
environment is described in docs/benchmarks.md ("Side by side with the published code").

``--model pnn`` compares the Baldi pNN instead (the mass concatenated to the input, dropout
0.25 after each hidden layer, as hep-pnn's ``pnn`` preset; the reference's
``utils.get_compiled_pnn``); ``--dropout P`` trains both sides with another rate;
``--train-masses 500,1500`` puts signal at those masses only in the training file (the
interpolation study's setting; the test file keeps all five); ``--conditioning
affine-input`` (any run name of the conditioning study, ``MECHANISM-PLACEMENT``) trains
that network on both sides instead: hep-pnn's ``affine`` preset with that conditioning and
placement, the reference's ``PNN`` with ``conditioning={"method", "place"}`` (``input``,
``every``, ``output`` are its ``start``, ``all``, ``end``); ``--imbalanced`` gives the
training masses HEPMASS-IMB's signal proportions (350k : 140k : 35k : 7k : 1.4k from 500 to
1500 GeV, ``--signal`` events at the most populated mass).

Run: ``.venv/bin/python benchmarks/bench_reference.py --reference /path/to/checkout``
(several minutes; ``--quick`` for a smoke run on small files with one epoch,
``--skip-reference`` for the hep-pnn half only, ``--skip-hep-pnn`` for the reference's;
``--seed`` sets both sides' training seed, validation split included, and leaves the event
files as they are).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from hep_pnn.data import EventTable, generate, read_events, write_hepmass_csv, write_parquet
from hep_pnn.data.features import HEPMASS_MASSES
from hep_pnn.data.generator.validation import preset_sizes
from hep_pnn.models.config import preset
from hep_pnn.training import ExperimentConfig, FileData, TrainingConfig, train_experiment
from hep_pnn.training.config import ModelSection
from machine import cpu_model

DRIVER = Path(__file__).with_name("reference_driver.py")
DEFAULT_PYTHON = Path("/tmp/refvenv/bin/python")
VALIDATION_FRACTION = 0.25  # the reference's split; hep-pnn's default is checked against it
QUICK = {"signal": 4000, "background": 20000, "test_signal": 2000, "test_background": 10000}
NAMES = {"affine": "AffinePNN", "pnn": "Baldi pNN"}
#: hep-pnn's placements under the reference's names (``PNN.structure``'s ``place``).
PLACES = {"input": "start", "every": "all", "output": "end"}
MECHANISMS = ("concat", "bias", "scale", "affine")


@dataclass(frozen=True)
class Result:
    """One side of the comparison: test scores at every mass and the training wall time."""

    name: str
    scores: np.ndarray  # (n_test, n_masses)
    seconds: float
    epochs_log: str
    epoch_seconds: float | None = None  # hep-pnn: its epochs alone


def _load() -> str:
    """The 1/5/15-minute load averages (other jobs on the machine change the timings)."""
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def write_files(
    workdir: Path,
    name: str,
    *,
    signal: int,
    background: int,
    seed: int,
    masses: tuple[float, ...] = HEPMASS_MASSES,
    imbalanced: bool = False,
) -> int:
    """Generate events as ``pnn generate`` does, write ``name``.parquet and ``name``.csv;
    return the number of events."""
    per_mass: int | dict[float, int] = signal
    if imbalanced:
        shares = preset_sizes("hepmass-imb")["n_signal_per_mass"]
        top = max(shares[m] for m in masses)
        per_mass = {m: max(1, round(signal * shares[m] / top)) for m in masses}
    table = generate(masses=masses, n_signal_per_mass=per_mass, n_background=background, seed=seed)
    write_parquet(table, workdir / f"{name}.parquet", overwrite=True)
    write_hepmass_csv(table, workdir / f"{name}.csv", overwrite=True)
    return table.label.size


def reference_command(args: argparse.Namespace, output: Path) -> list[str]:
    """The driver's command line: the reference trains the same model as hep-pnn's preset."""
    return [
        str(args.reference_python),
        str(DRIVER),
        "--reference",
        str(args.reference),
        "--train",
        str(args.workdir / "train.csv"),
        "--test",
        str(args.workdir / "test.csv"),
        "--output",
        str(output),
        "--epochs",
        str(args.epochs),
        "--seed",
        str(args.seed),
        "--model",
        args.model,
        "--dropout",
        str(args.dropout),
        *(
            ["--conditioning", reference_conditioning(args.conditioning)]
            if args.conditioning
            else []
        ),
    ]


def run_reference(args: argparse.Namespace, masses: tuple[float, ...], test: EventTable) -> Result:
    """Train and score the published code in a subprocess with its own Python."""
    output = args.workdir / "reference.npz"
    command = reference_command(args, output)
    print("$", " ".join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=True)
    print(f"reference subprocess: {time.perf_counter() - start:.1f} s in all", flush=True)
    with np.load(output) as saved:
        if not np.array_equal(saved["label"], test.label) or not np.array_equal(
            saved["masses"], masses
        ):
            raise SystemExit("the reference read a different test file (labels or masses differ)")
        history = json.loads(str(saved["history"]))
        log = "val_auc per epoch " + " ".join(f"{v:.4f}" for v in history["val_auc"])
        log += f" (TensorFlow {saved['tf_version']})"
        name = f"reference Keras {network_name(args)}"
        return Result(name, saved["scores"], float(saved["seconds"]), log)


def hep_pnn_config(args: argparse.Namespace) -> ExperimentConfig:
    """hep-pnn's default recipe for the model (and ``--dropout``) on the Parquet files."""
    training = TrainingConfig(epochs=args.epochs, seed=args.seed)
    if training.validation_fraction != VALIDATION_FRACTION or training.batch_size != 1024:
        raise SystemExit("hep-pnn's default split or batch size changed: update this benchmark")
    data = FileData(
        source="files",
        train_paths=[str(args.workdir / "train.parquet")],
        test_paths=[str(args.workdir / "test.parquet")],
    )
    options: dict[str, object] = {"dropout": args.dropout}
    if args.conditioning:
        mechanism, placement = args.conditioning
        options.update(conditioning=mechanism, placement=placement)
    model = ModelSection(preset=args.model, options=options)
    return ExperimentConfig(data=data, model=model, training=training)


def run_hep_pnn(args: argparse.Namespace, masses: tuple[float, ...], test: EventTable) -> Result:
    """Train hep-pnn's default recipe for the model on the Parquet file; score the test file."""
    config = hep_pnn_config(args)
    start = time.perf_counter()
    run = train_experiment(config, args.workdir / "hep-pnn-run", overwrite=True, progress=False)
    seconds = time.perf_counter() - start
    scores = np.column_stack([run.model.predict(test.features, m) for m in masses])
    history = run.history
    log = "val AUC (mean over masses) per epoch " + " ".join(
        f"{v:.4f}" for v in history["val_auc_mean"]
    )
    log += "; events/s per epoch " + " ".join(f"{v / 1e3:.0f}k" for v in history["events_per_s"])
    epochs = float(history["seconds"].sum())
    log += (
        f"; its epochs (training, validation, checkpoints: the scope of the reference's fit) "
        f"took {epochs:.1f} s, the rest of train_experiment (imports, reading, "
        f"standardisation, saving) {seconds - epochs:.1f} s"
    )
    return Result(hep_pnn_label(args), scores, seconds, log, epochs)


def network_name(args: argparse.Namespace) -> str:
    """``AffinePNN``, ``Baldi pNN`` or, with ``--conditioning``, e.g. ``pNN affine-input``."""
    if args.conditioning:
        return "pNN {}-{}".format(*args.conditioning)
    return NAMES[args.model]


def reference_conditioning(conditioning: tuple[str, str]) -> str:
    """``METHOD:PLACE`` of the reference's ``PNN.structure`` for hep-pnn's (mechanism,
    placement), e.g. ``affine:start``."""
    mechanism, placement = conditioning
    return f"{mechanism}:{PLACES[placement]}"


def hep_pnn_label(args: argparse.Namespace) -> str:
    """hep-pnn's row of the table: its defaults, or the dropout ``--dropout`` set."""
    if args.dropout == preset(args.model).dropout:
        return f"hep-pnn {network_name(args)} (defaults)"
    return f"hep-pnn {network_name(args)} (defaults, dropout {args.dropout:g})"


def auc_per_mass(scores: np.ndarray, test: EventTable, masses: tuple[float, ...]) -> list[float]:
    """Unweighted ROC-AUC at each mass: signal at m against all background, scored at m."""
    background = test.label == 0
    aucs = []
    for column, mass in enumerate(masses):
        rows = background | ((test.label == 1) & (test.mass == mass))
        aucs.append(float(roc_auc_score(test.label[rows], scores[rows, column])))
    return aucs


def print_table(
    results: list[Result], test: EventTable, masses: tuple[float, ...], events: int
) -> None:
    header = ["", *(f"{m:g}" for m in masses), "mean", "training wall time", "events/s"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for result in results:
        aucs = auc_per_mass(result.scores, test, masses)
        cells = [f"{a:.4f}".lstrip("0") for a in (*aucs, float(np.mean(aucs)))]
        speed = f"{events / result.seconds / 1e3:.0f}k"
        print(f"| {result.name} | " + " | ".join(cells) + f" | {result.seconds:.1f} s | {speed} |")
    if len(results) == 2:
        reference, ours = results
        print(f"\nwall-time ratio hep-pnn / reference: {ours.seconds / reference.seconds:.2f}")
        if ours.epoch_seconds is not None:
            print(
                "the same for hep-pnn's epochs only (the scope of the reference's fit): "
                f"{ours.epoch_seconds / reference.seconds:.2f}"
            )
    for result in results:
        print(f"{result.name}: {result.epochs_log}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, help="checkout of affine-parametric-networks")
    parser.add_argument(
        "--reference-python",
        type=Path,
        default=DEFAULT_PYTHON,
        help=f"Python of the reference's venv (default {DEFAULT_PYTHON})",
    )
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "hep-pnn-bench-reference"
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument(
        "--signal",
        type=int,
        default=100_000,
        help="training signal per mass (with --imbalanced: at the most populated mass)",
    )
    parser.add_argument("--background", type=int, default=500_000, help="training background")
    parser.add_argument("--test-signal", type=int, default=20_000)
    parser.add_argument("--test-background", type=int, default=100_000)
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="training seed of both sides (the reference's RNGs, hep-pnn's training.seed); "
        "the event files stay the same",
    )
    parser.add_argument("--model", choices=tuple(NAMES), default="affine")
    parser.add_argument(
        "--dropout",
        type=float,
        default=None,
        help="dropout after each hidden layer, both sides (default: the hep-pnn preset's)",
    )
    parser.add_argument(
        "--train-masses",
        default=",".join(f"{m:g}" for m in HEPMASS_MASSES),
        help="signal masses of the training file, e.g. 500,1500 (test file: all five)",
    )
    parser.add_argument(
        "--imbalanced", action="store_true", help="HEPMASS-IMB's signal shares in training"
    )
    parser.add_argument(
        "--conditioning",
        help="a conditioning-study network on both sides, MECHANISM-PLACEMENT, e.g. affine-input",
    )
    parser.add_argument("--quick", action="store_true", help="small files, one epoch")
    skip = parser.add_mutually_exclusive_group()
    skip.add_argument("--skip-reference", action="store_true")
    skip.add_argument("--skip-hep-pnn", action="store_true", help="train the reference only")
    args = parser.parse_args(argv)
    if args.quick:
        vars(args).update(QUICK, epochs=1)
    if args.conditioning is not None:
        mechanism, _, placement = args.conditioning.partition("-")
        if mechanism not in MECHANISMS or placement not in PLACES:
            parser.error(
                f"--conditioning {args.conditioning!r}: give MECHANISM-PLACEMENT with a "
                f"mechanism in {', '.join(MECHANISMS)} and a placement in {', '.join(PLACES)}"
            )
        if args.model != "affine":
            parser.error("--conditioning sets the network: leave --model at affine")
        args.conditioning = (mechanism, placement)
    if not 0 <= args.seed < 2**32:
        parser.error(f"--seed {args.seed}: give a seed in [0, 2**32)")  # numpy's legacy seed range
    if args.dropout is None:
        args.dropout = preset(args.model).dropout
    elif not 0 <= args.dropout < 1:
        parser.error(f"--dropout {args.dropout:g}: give a rate in [0, 1)")
    if not args.skip_reference:
        if args.reference is None or not (args.reference / "script" / "hep" / "data.py").is_file():
            parser.error(
                "--reference must be a checkout of Luca96/affine-parametric-networks "
                "(with script/hep/data.py), or pass --skip-reference"
            )
        if not args.reference_python.is_file():
            parser.error(
                f"no Python at {args.reference_python}: set up the reference's venv "
                "(docs/benchmarks.md) or pass --reference-python"
            )
        args.reference = args.reference.resolve()
    args.workdir = args.workdir.resolve()
    try:
        args.train_masses = tuple(float(m) for m in args.train_masses.split(","))
    except ValueError:
        parser.error(f"--train-masses {args.train_masses!r}: give masses in GeV, e.g. 500,1500")
    if len(set(args.train_masses)) != len(args.train_masses):
        parser.error(
            f"--train-masses {','.join(f'{m:g}' for m in args.train_masses)}: a mass twice"
        )
    if args.imbalanced and not set(args.train_masses) <= set(HEPMASS_MASSES):
        parser.error(
            "--imbalanced takes HEPMASS-IMB's shares, defined at "
            + ", ".join(f"{m:g}" for m in HEPMASS_MASSES)
            + " GeV only: choose --train-masses among them"
        )
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"CPU: {cpu_model()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {' '.join(sys.argv)}")
    sizes = (args.signal, args.background, args.test_signal, args.test_background)
    n_train = write_files(
        args.workdir,
        "train",
        signal=sizes[0],
        background=sizes[1],
        seed=11,
        masses=args.train_masses,
        imbalanced=args.imbalanced,
    )
    write_files(args.workdir, "test", signal=sizes[2], background=sizes[3], seed=12)
    test = read_events(args.workdir / "test.parquet", cache=False)
    masses = tuple(float(m) for m in test.signal_masses)
    results = []
    sides = ((run_reference, args.skip_reference), (run_hep_pnn, args.skip_hep_pnn))
    for side in (run for run, skipped in sides if not skipped):
        print(f"load average before: {_load()}", flush=True)
        results.append(side(args, masses, test))
        print(f"load average after: {_load()}", flush=True)
    events = round((1 - VALIDATION_FRACTION) * n_train) * args.epochs
    print_table(results, test, masses, events)


if __name__ == "__main__":
    main()
