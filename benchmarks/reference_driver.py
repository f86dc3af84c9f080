"""Train the published Keras AffinePNN or Baldi pNN on a HEPMASS-layout file; score a test file.

Run by ``benchmarks/bench_reference.py`` with the Python of a separate virtual environment
that has TensorFlow and tf-keras (docs/benchmarks.md, "Side by side with the published
code"); it imports the ``script`` package of a checkout of Luca96/affine-parametric-networks
given by ``--reference`` and uses its own classes: ``Hepmass`` to hold the events,
``BalancedSequence.get_data`` for the 75/25 split, the balanced batches and the validation
sequence, ``utils.get_compiled_affine`` (``--model affine``) or ``utils.get_compiled_pnn``
(``--model pnn``: the mass concatenated to the input; with ``--conditioning METHOD:PLACE``
the same ``PNN`` class with ``conditioning={"method": METHOD, "place": PLACE}``, a network
of the published conditioning study) for the network and its best-validation-AUC
checkpoint, ``utils.load_from_checkpoint`` to load the best epoch.
hep-pnn never imports this file or the reference code.

Three adaptations, none of which changes what the code computes:

* numpy 2 removed the ``newshape=`` keyword that ``BalancedSequence`` passes to
  ``np.reshape``; a shim accepts it and passes it on as the shape.
* the validation sequence looks up ``data.columns["mA"]``, which ``Hepmass.load`` does not
  set; the key is added, pointing at the ``mass`` column.
* the Baldi pNN joins features and mass with ``tf.keras.layers.concatenate`` (axis -1);
  tf-keras 2.21 resolves a negative axis to 0 when the rank is unknown while the training
  step is traced, and training stops ("ConcatOp: Dimension 1 in both shapes must be
  equal"). The driver passes the same axis as 1 (features are rank 2).

The input files are converted as the reference converts HEPMASS (``# label`` renamed to
``type``, masses rounded to integers). Writes ``--output`` (``.npz``): the test scores at
every signal mass of the test file, the training wall time of ``fit``, the per-epoch history.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

_numpy_reshape = np.reshape


def _reshape_accepting_newshape(a, *args, newshape=None, **kwargs):
    """``np.reshape`` that also takes the ``newshape=`` keyword numpy 2 removed."""
    if newshape is not None:
        return _numpy_reshape(a, newshape, *args, **kwargs)
    return _numpy_reshape(a, *args, **kwargs)


def checkpoint_name(model: str) -> str:
    """The reference's checkpoint folder (under ./weights/) for ``model``."""
    return f"reference-{model}"


def read_converted(path: Path):
    """A HEPMASS-layout CSV as the reference reads HEPMASS: float32, ``type``, whole masses."""
    import pandas as pd

    frame = pd.read_csv(path, dtype=np.float32, na_filter=False)
    frame = frame.rename(columns={"# label": "type"})
    frame["mass"] = frame["mass"].round()
    return frame


def train_reference(args: argparse.Namespace) -> dict:
    import tensorflow as tf
    from script import utils
    from script.datasets import Hepmass
    from script.hep.data import BalancedSequence
    from script.models.layers import Divide

    if args.model == "pnn" or (args.conditioning or "").startswith("concat"):
        tf.keras.layers.concatenate = functools.partial(tf.keras.layers.concatenate, axis=1)
    utils.set_random_seed(args.seed)
    frame = read_converted(args.train)
    data = Hepmass()
    data.load(path=None, signal=frame[frame["type"] == 1], bkg=frame[frame["type"] == 0])
    data.columns["mA"] = data.columns["mass"]
    train, valid = BalancedSequence.get_data(
        data, train_batch=args.batch_size, eval_batch=args.batch_size, seed=args.seed
    )
    compiled = {"affine": utils.get_compiled_affine, "pnn": utils.get_compiled_pnn}[args.model]
    extra = {}
    if args.conditioning:  # a network of the conditioning study: the reference's PNN class
        method, place = args.conditioning.split(":")
        compiled, extra = (
            utils.get_compiled_pnn,
            {"conditioning": {"method": method, "place": place}},
        )
    model, checkpoint = compiled(
        data,
        save=checkpoint_name(args.model),
        **extra,
        kernel_regularizer=tf.keras.regularizers.l2(1e-5),
        bias_regularizer=tf.keras.regularizers.l2(1e-6),
        preprocess={"m": [Divide(1000.0)]},
        dropout=args.dropout,
    )
    start = time.perf_counter()
    history = model.fit(
        x=train, epochs=args.epochs, validation_data=valid, verbose=2, callbacks=[checkpoint]
    )
    seconds = time.perf_counter() - start
    utils.load_from_checkpoint(model, path=checkpoint_name(args.model))
    return {
        "model": model,
        "history": history.history,
        "seconds": seconds,
        "tf_version": tf.__version__,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, required=True, help="checkout of the code")
    parser.add_argument("--train", type=Path, required=True, help="HEPMASS-layout CSV")
    parser.add_argument("--test", type=Path, required=True, help="HEPMASS-layout CSV")
    parser.add_argument("--output", type=Path, required=True, help=".npz to write")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", choices=("affine", "pnn"), default="affine")
    parser.add_argument("--dropout", type=float, default=0.25)
    parser.add_argument("--conditioning", help="METHOD:PLACE of PNN.structure, e.g. affine:start")
    args = parser.parse_args(argv)
    args.train, args.test, args.output = (p.resolve() for p in (args.train, args.test, args.output))

    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # the reference is written for Keras 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    np.reshape = _reshape_accepting_newshape
    sys.path.insert(0, str(args.reference.resolve()))
    os.chdir(args.output.parent)  # the checkpoints go to ./weights/, as in the reference
    # the reference loads the best checkpoint it finds: start from none
    shutil.rmtree(Path("weights", checkpoint_name(args.model)), ignore_errors=True)
    result = train_reference(args)

    test = read_converted(args.test)
    features = test[[f"f{i}" for i in range(27)]].to_numpy()
    masses = np.sort(test.loc[test["type"] == 1, "mass"].unique())
    scores = np.column_stack(
        [
            result["model"]
            .predict(
                {"x": features, "m": np.full((len(test), 1), m, np.float32)},
                verbose=0,
                batch_size=16384,
            )
            .ravel()
            for m in masses
        ]
    )
    np.savez(
        args.output,
        scores=scores.astype(np.float32),
        masses=masses,
        label=test["type"].to_numpy(),
        seconds=result["seconds"],
        tf_version=result["tf_version"],
        history=json.dumps({k: [float(v) for v in vs] for k, vs in result["history"].items()}),
    )


if __name__ == "__main__":
    main()
