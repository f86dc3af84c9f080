"""The layer sequence of every network the published code saved: which ones used dropout.

The published repository (Luca96/affine-parametric-networks) keeps the best-epoch checkpoint
of each network it trained under ``weights/`` but not the notebooks' settings (the notebooks
are Git LFS pointers). A TensorFlow checkpoint's object graph still lists every layer of the
Keras model, in the model's order, including the layers that hold no variables (inputs,
the ``Divide`` of the mass, ``concatenate``, ``Dropout``): a Keras functional model names
each layer ``layer-N`` and, when it has variables, also ``layer_with_weights-K``. This script
prints, per checkpoint, that sequence (``D300`` a Dense layer of 300 units, ``W`` another
layer with variables such as an affine conditioning, ``-`` a layer without variables), the
optimizer's step count and how many variable-free layers follow each hidden Dense layer.

In the reference's ``PNN.structure`` (``script/models/pnn.py``) the only layer without
variables that can follow a hidden ``Dense`` when the mass is concatenated at the input
(``place='start'``, no batch normalisation) is ``Dropout``; so one such layer after every
hidden Dense layer means the network was trained with dropout (its rate is not stored).
The one network saved without it, ``hep-imb/interp-500_1500/uniform-sampled/pnn-overfit``,
is the one the paper trains without regularisation on purpose.

Runs with the reference's Python (TensorFlow installed; docs/benchmarks.md, "Setting up the
reference"); hep-pnn never imports this file:

    /tmp/refvenv/bin/python benchmarks/reference_checkpoints.py --reference /tmp/apn
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path


def layer_sequence(prefix: str) -> tuple[list[str], int | None]:
    """The layers of the checkpoint ``prefix`` (path without ``.index``) and its step count."""
    import tensorflow as tf
    from tensorflow.core.protobuf import trackable_object_graph_pb2

    reader = tf.train.load_checkpoint(prefix)
    shapes = reader.get_variable_to_shape_map()
    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    graph.ParseFromString(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    root = graph.nodes[0].children
    weighted = {c.node_id: c.local_name for c in root if c.local_name.startswith("layer_with")}
    sequence = []
    for child in root:
        if not child.local_name.startswith("layer-"):
            continue
        variables = [c.local_name for c in graph.nodes[child.node_id].children]
        if "kernel" in variables:
            kernel = f"{weighted[child.node_id]}/kernel/.ATTRIBUTES/VARIABLE_VALUE"
            sequence.append(f"D{shapes[kernel][-1]}")
        else:
            sequence.append("W" if variables else "-")
    step = "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE"
    steps = int(reader.get_tensor(step)) if step in shapes else None
    return sequence, steps


def free_layers_after_hidden(sequence: list[str]) -> list[int]:
    """How many variable-free layers (``-``) follow each hidden Dense layer (not the output)."""
    dense = [i for i, layer in enumerate(sequence) if layer.startswith("D")]
    return [
        sum(layer == "-" for layer in sequence[start + 1 : end])
        for start, end in itertools.pairwise(dense)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, required=True, help="checkout of the code")
    args = parser.parse_args(argv)
    weights = args.reference / "weights"
    indexes = sorted(weights.rglob("*.index"))
    if not indexes:
        print(
            f"no checkpoints (*.index) under {weights}: pass the checkout with --reference",
            file=sys.stderr,
        )
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    folders: dict[Path, Path] = {}
    for index in indexes:  # the best epoch is the last file saved in each folder
        folders[index.parent] = index
    print(f"{'checkpoint':62s} {'best epoch file':18s} {'steps':>7s}  after each hidden Dense")
    for folder, index in folders.items():
        sequence, steps = layer_sequence(str(index.with_suffix("")))
        after = free_layers_after_hidden(sequence)
        name = str(folder.relative_to(weights))
        print(f"{name:62s} {index.stem:18s} {steps!s:>7s}  {after}  {' '.join(sequence)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
