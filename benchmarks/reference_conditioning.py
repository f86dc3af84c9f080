"""The published conditioning study's own networks, scored on generated events.

The published repository (Luca96/affine-parametric-networks) keeps, under
``weights/conditioning-interp/<mechanism>/pnn_<placement>``, the twelve networks of its
conditioning study: concatenation, biasing, scaling and affine conditioning, each at the
input (``start``), after every hidden layer (``all``) and before the output (``end``),
trained on HEPMASS-IMB signal at 500 and 1500 GeV. Scored on generated events at all five
masses, their mean AUC says how the *real-data* networks rank on our events: if they keep
the published ranking, a different ranking of hep-pnn's own runs comes from training;
if they do not, from the events.

Two steps, because reading a TensorFlow checkpoint needs TensorFlow and the events are
Parquet:

    /tmp/refvenv/bin/python benchmarks/reference_conditioning.py extract \\
        --reference /tmp/apn --output /tmp/conditioning-nets
    .venv/bin/pnn generate -o /tmp/test.parquet --signal 50000 --background 250000 --seed 12
    .venv/bin/python benchmarks/reference_conditioning.py score \\
        --nets /tmp/conditioning-nets /tmp/test.parquet

``extract`` writes one ``.npz`` per network with its layers in order: ``<i>_dense_kernel``
/ ``<i>_dense_bias`` (a Dense layer; ReLU after every hidden one) and ``<i>_scale_kernel``
/ ``_scale_bias`` / ``_shift_kernel`` / ``_shift_bias`` (a conditioning layer:
``h ⊙ (m W_s + b_s) + (m W_b + b_b)``; biasing has only the shift, scaling only the scale).
A concatenation holds no weights: a Dense kernel one row wider than its input takes
``[h, m]``. The mass enters in TeV (GeV / 1000), as for the networks in
``../shared/reference-nets``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from reference_checkpoints import NO_TENSORFLOW, best_checkpoint, fail, import_tensorflow

MECHANISMS = {"concat": "concat", "biasing": "bias", "scaling": "scale", "affine": "affine"}
PLACEMENTS = {"start": "input", "all": "every", "end": "output"}
MASSES = (500.0, 750.0, 1000.0, 1250.0, 1500.0)
#: The published mean interpolation AUC of each (mechanism, placement).
PUBLISHED = {
    "concat-input": 0.892, "concat-every": 0.844, "concat-output": 0.709,
    "bias-input": 0.873, "bias-every": 0.914, "bias-output": 0.699,
    "scale-input": 0.854, "scale-every": 0.880, "scale-output": 0.871,
    "affine-input": 0.903, "affine-every": 0.915, "affine-output": 0.868,
}  # fmt: skip
VALUE = "/.ATTRIBUTES/VARIABLE_VALUE"
#: Checkpoint sub-layer of a conditioning layer -> the role of its Dense(1 -> u).
ROLES = {"dense_scale": "scale", "dense_bias": "shift"}


def layers_from_variables(variables: Mapping[str, np.ndarray], *, mechanism: str) -> dict:
    """The ``.npz`` arrays of one network from its checkpoint variables
    (``layer_with_weights-K/[sub/]kernel|bias/.ATTRIBUTES/VARIABLE_VALUE``)."""
    arrays: dict[str, np.ndarray] = {}
    for key, value in variables.items():
        parts = key.removesuffix(VALUE).split("/")
        if not parts[0].startswith("layer_with_weights-") or ".OPTIMIZER_SLOT" in key:
            continue
        index = int(parts[0].split("-")[1])
        if len(parts) == 2:  # a Dense layer
            role = "dense"
        elif parts[1] == "expand":  # ConditionalBiasing / ConditionalScaling: one Dense(1 -> u)
            role = {"bias": "shift", "scale": "scale"}[mechanism]
        else:
            role = ROLES[parts[1]]
        arrays[f"{index}_{role}_{parts[-1]}"] = np.asarray(value, np.float64)
    return arrays


def forward(arrays: Mapping[str, np.ndarray], x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Logits of the network ``arrays`` for features ``x (n, 27)`` and mass ``m (n,)`` in TeV."""
    indices = sorted({int(key.split("_")[0]) for key in arrays})
    dense = [i for i in indices if f"{i}_dense_kernel" in arrays]
    column = m[:, None]
    h = x.astype(np.float64)
    for i in indices:
        if i not in dense:
            if f"{i}_scale_kernel" in arrays:
                h = h * (column * arrays[f"{i}_scale_kernel"] + arrays[f"{i}_scale_bias"])
            if f"{i}_shift_kernel" in arrays:
                h = h + (column * arrays[f"{i}_shift_kernel"] + arrays[f"{i}_shift_bias"])
            continue
        kernel = arrays[f"{i}_dense_kernel"]
        if kernel.shape[0] == h.shape[1] + 1:  # concatenation: [h, m]
            h = np.concatenate([h, column], axis=1)
        h = h @ kernel + arrays[f"{i}_dense_bias"]
        if i != dense[-1]:
            h = np.maximum(h, 0.0)
    return h[:, 0]


def mass_aucs(arrays: Mapping[str, np.ndarray], x, mass, label) -> list[float]:
    """Unweighted ROC-AUC per mass: signal at m against all background scored at m."""
    from sklearn.metrics import roc_auc_score

    aucs = []
    for value in MASSES:
        keep = (label == 0) | (np.round(mass) == value)
        scores = forward(arrays, x[keep], np.full(int(keep.sum()), value / 1000.0))
        aucs.append(float(roc_auc_score(label[keep], scores)))
    return aucs


def extract(reference: Path, output: Path) -> int:
    folders = sorted((reference / "weights" / "conditioning-interp").glob("*/pnn_*"))
    if not folders:
        return fail(
            f"no weights/conditioning-interp/*/pnn_* under {reference}: pass the checkout "
            "of Luca96/affine-parametric-networks with --reference"
        )
    tf = import_tensorflow()
    if tf is None:
        return fail(NO_TENSORFLOW.format(sys.executable))
    output.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        mechanism = MECHANISMS[folder.parent.name]
        name = f"{mechanism}-{PLACEMENTS[folder.name.removeprefix('pnn_')]}"
        prefix = best_checkpoint(tf, folder)
        try:
            reader = tf.train.load_checkpoint(prefix)
        except tf.errors.OpError as error:
            return fail(f"{prefix}: not a readable TensorFlow checkpoint ({error.message})")
        variables = {key: reader.get_tensor(key) for key, _ in tf.train.list_variables(prefix)}
        np.savez(output / f"{name}.npz", **layers_from_variables(variables, mechanism=mechanism))
        print(f"{name:14s} <- {Path(prefix).relative_to(reference)}")
    return 0


def score(nets: Path, events: Path) -> int:
    import pandas as pd

    files = sorted(nets.glob("*.npz"))
    if not files:
        return fail(f"no .npz networks in {nets}: run `extract` first")
    columns = [f"f{i}" for i in range(27)]
    try:
        table = pd.read_parquet(events, columns=[*columns, "mass", "label"])
    except (OSError, KeyError, ValueError) as error:
        return fail(f"{events}: not an event file with f0..f26, mass, label ({error})")
    x = table[columns].to_numpy(np.float64)
    mass, label = table["mass"].to_numpy(), table["label"].to_numpy()
    rows = []
    for path in files:
        aucs = mass_aucs(dict(np.load(path)), x, mass, label)
        rows.append((path.stem, aucs, float(np.mean(aucs))))
    print("| network | " + " | ".join(f"{m:.0f}" for m in MASSES) + " | mean | published |")
    print("|---|" + "---:|" * (len(MASSES) + 2))
    for name, aucs, mean in sorted(rows, key=lambda row: -row[2]):
        cells = " | ".join(f"{a:.3f}" for a in aucs)
        print(f"| {name} | {cells} | {mean:.3f} | {PUBLISHED.get(name, float('nan')):.3f} |")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("extract", help="checkpoints -> .npz (needs TensorFlow)")
    one.add_argument("--reference", type=Path, required=True, help="checkout of the code")
    one.add_argument("--output", type=Path, required=True, help="folder for the .npz files")
    two = commands.add_parser("score", help="per-mass AUC of every network on an event file")
    two.add_argument("--nets", type=Path, required=True, help="folder written by extract")
    two.add_argument("events", type=Path, help="Parquet with f0..f26, mass, label")
    args = parser.parse_args(argv)
    if args.command == "extract":
        return extract(args.reference, args.output)
    return score(args.nets, args.events)


if __name__ == "__main__":
    sys.exit(main())
