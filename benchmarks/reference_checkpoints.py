"""The layer sequence of every network the published code saved: which ones used dropout.

The published repository (Luca96/affine-parametric-networks) keeps the best-epoch checkpoint
of each network it trained under ``weights/`` but not the notebooks' settings (the notebooks
are Git LFS pointers). A TensorFlow checkpoint's object graph still lists every layer of the
Keras model, in the model's order, including the layers that hold no variables (inputs,
the ``Divide`` of the mass, ``concatenate``, ``Dropout``): a Keras functional model names
each layer ``layer-N`` and, when it has variables, also ``layer_with_weights-K``. This script
prints, per checkpoint, that sequence (``D300`` a Dense layer of 300 units, ``W`` another
layer with variables such as an affine conditioning, ``-`` a layer without variables), the
optimizer's step count, how many variable-free layers follow each hidden Dense layer, and
at the end how many networks have at least one after every hidden layer.

Reading it: in the reference's ``PNN.structure`` (``script/models/pnn.py``) and
``NN.structure`` (``script/models/nn.py``) a hidden ``Dense`` is followed by the
conditioning layer when the mass enters every layer or only the last (``place='all'`` /
``'end'``; an affine, bias or scale layer holds variables, a concatenation widens the next
kernel by one), by ``BatchNormalization`` (variables) if asked, and by ``Dropout`` if
``dropout > 0``. Inputs, the mass's ``Divide`` and an input concatenation come before the
first Dense (the Baldi pNN's first kernel is 28 × 300: 27 features and the mass), and a
network that takes no mass lists its unused mass input last, just before the output layer
(Keras orders layers by depth). So a variable-free layer after every hidden Dense of a pNN
with the mass at the input, or of a per-mass net before its last hidden layer, is a
``Dropout``: the network was trained with dropout (its rate is not stored). The one
network saved without it, ``hep-imb/interp-500_1500/uniform-sampled/pnn-overfit``, is the
one the paper trains without regularisation on purpose.

Runs with the reference's Python (TensorFlow installed; docs/benchmarks.md, "Setting up the
reference"); hep-pnn never imports this file:

    /tmp/refvenv/bin/python benchmarks/reference_checkpoints.py --reference /tmp/apn
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

#: The checkpoint key of a weighted layer's kernel and of the optimizer's step count.
KERNEL = "{}/kernel/.ATTRIBUTES/VARIABLE_VALUE"
STEPS = "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE"


def sequence_from_graph(
    root: Sequence[tuple[str, int]],
    children: Mapping[int, Sequence[str]],
    kernel_widths: Mapping[str, int],
) -> list[str]:
    """The model's layers from its object graph: ``D<units>``, ``W`` or ``-`` per layer.

    ``root`` is the model's dependencies as ``(name, node id)`` in order (``layer-N`` for
    every layer; ``layer_with_weights-K`` for the same node when it holds variables);
    ``children`` the names of each node's own dependencies (``kernel``, ``bias``, ...);
    ``kernel_widths`` the output width of each ``layer_with_weights-K`` that has a kernel.
    """
    weighted = {node: name for name, node in root if name.startswith("layer_with_weights-")}
    sequence = []
    for name, node in root:
        if not name.startswith("layer-"):
            continue
        owned = children.get(node, ())
        if "kernel" in owned:
            sequence.append(f"D{kernel_widths[weighted[node]]}")
        else:
            sequence.append("W" if owned else "-")
    return sequence


def read_checkpoint(prefix: str) -> tuple[list[str], int | None]:
    """The layers of the checkpoint ``prefix`` (path without ``.index``) and its step count."""
    import tensorflow as tf
    from tensorflow.core.protobuf import trackable_object_graph_pb2

    reader = tf.train.load_checkpoint(prefix)
    shapes = reader.get_variable_to_shape_map()
    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    graph.ParseFromString(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    root = [(child.local_name, child.node_id) for child in graph.nodes[0].children]
    children = {
        node: [child.local_name for child in graph.nodes[node].children] for _, node in root
    }
    widths = {
        name: shapes[KERNEL.format(name)][-1] for name, _ in root if KERNEL.format(name) in shapes
    }
    steps = int(reader.get_tensor(STEPS)) if STEPS in shapes else None
    return sequence_from_graph(root, children, widths), steps


def free_layers_after_hidden(sequence: list[str]) -> list[int]:
    """How many variable-free layers (``-``) follow each hidden Dense layer (not the output)."""
    dense = [i for i, layer in enumerate(sequence) if layer.startswith("D")]
    return [
        sum(layer == "-" for layer in sequence[start + 1 : end])
        for start, end in itertools.pairwise(dense)
    ]


def fail(message: str) -> int:
    """Print ``message`` as the one error line; the exit code of a usage error."""
    print(message, file=sys.stderr)
    return 2


def import_tensorflow() -> ModuleType | None:
    """TensorFlow, quiet, or ``None`` when this Python has none (say so with
    :data:`NO_TENSORFLOW`)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import tensorflow as tf
    except ImportError:
        return None
    return tf


#: The error line when :func:`import_tensorflow` finds none.
NO_TENSORFLOW = (
    "TensorFlow is not installed for {}: run this script with the reference's Python "
    "(docs/benchmarks.md, 'Setting up the reference')"
)


def best_checkpoint(tf: ModuleType, folder: Path) -> str:
    """The prefix of ``folder``'s best-epoch checkpoint: the one its ``checkpoint`` file
    names, or without that file the last one saved (by name)."""
    prefix = tf.train.latest_checkpoint(str(folder))
    return prefix or str(sorted(folder.glob("*.index"))[-1].with_suffix(""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, required=True, help="checkout of the code")
    args = parser.parse_args(argv)
    weights = args.reference / "weights"
    folders = sorted({index.parent for index in weights.rglob("*.index")})
    if not folders:
        return fail(f"no checkpoints (*.index) under {weights}: pass the checkout with --reference")
    tf = import_tensorflow()
    if tf is None:
        return fail(NO_TENSORFLOW.format(sys.executable))
    print(f"{'checkpoint':62s} {'best epoch file':18s} {'steps':>7s}  after each hidden Dense")
    with_dropout = 0
    for folder in folders:
        prefix = best_checkpoint(tf, folder)
        try:
            sequence, steps = read_checkpoint(prefix)
        except tf.errors.OpError as error:
            return fail(f"{prefix}: not a readable TensorFlow checkpoint ({error.message})")
        after = free_layers_after_hidden(sequence)
        with_dropout += bool(after) and min(after) >= 1
        name = str(folder.relative_to(weights))
        print(f"{name:62s} {Path(prefix).name:18s} {steps!s:>7s}  {after}  {' '.join(sequence)}")
    print(
        f"{with_dropout} of {len(folders)} networks have a layer without variables "
        "after every hidden Dense layer"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
