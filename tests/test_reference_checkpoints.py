"""Reading the published checkpoints' layer sequence (``benchmarks/reference_checkpoints.py``).

The layer sequences are those the script prints for the published repository's weights.
TensorFlow is not installed here: the object graph is given as the plain lists the script
reads from a checkpoint, and the bad-input paths stop before TensorFlow would be used.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def script(load_script):
    return load_script(BENCHMARKS / "reference_checkpoints.py")


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        # hep-imb/interp-500_1500/identical-sampled/pnn: x, m, m/1000, concatenate, then
        # one dropout after each hidden Dense
        ("- - - - D300 - D150 - D100 - D50 - D1", [1, 1, 1, 1]),
        # .../uniform-sampled/pnn-overfit, trained without regularisation on purpose
        ("- - - - D300 D150 D100 D50 D1", [0, 0, 0, 0]),
        # hep/same-sampled/affine: the affine layers (W) hold variables and are not counted
        ("- - D300 - W - D150 W - D100 W - D50 W - D1", [2, 1, 1, 1]),
        # a layer after the output is not after a hidden layer
        ("- D300 D50 D1 -", [0, 0]),
    ],
)
def test_variable_free_layers_are_counted_after_each_hidden_dense(script, sequence, expected):
    assert script.free_layers_after_hidden(sequence.split()) == expected


def test_the_object_graph_gives_each_layer_once_in_model_order(script):
    # the published pNN's graph: inputs x and m, m / 1000, concatenate, then Dense + Dropout;
    # a weighted layer is listed twice (layer_with_weights-K and layer-N, one node)
    root = [("layer-0", 1), ("layer-1", 2), ("layer-2", 3), ("layer-3", 4)]
    root += [("layer_with_weights-0", 5), ("layer-4", 5), ("layer-5", 6)]
    root += [("layer_with_weights-1", 7), ("layer-6", 7), ("layer-7", 8)]
    root += [("layer_with_weights-2", 9), ("layer-8", 9), ("optimizer", 10)]
    children = {5: ["kernel", "bias"], 7: ["dense_bias", "dense_scale"], 9: ["kernel", "bias"]}
    children[10] = ["iter", "beta_1"]
    widths = {"layer_with_weights-0": 300, "layer_with_weights-2": 1}
    sequence = script.sequence_from_graph(root, children, widths)
    # an affine layer (variables, no kernel of its own) is W; the optimizer is not a layer
    assert sequence == ["-", "-", "-", "-", "D300", "-", "W", "-", "D1"]
    assert script.free_layers_after_hidden(sequence) == [2]


def test_without_tensorflow_the_script_says_which_python_to_use(
    script, tmp_path, monkeypatch, capsys
):
    (tmp_path / "weights" / "pnn").mkdir(parents=True)
    (tmp_path / "weights" / "pnn" / "weights-01-0.9.index").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # import tensorflow -> ImportError
    assert script.main(["--reference", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "TensorFlow is not installed" in err
    assert "the reference's Python" in err


def test_a_checkout_without_checkpoints_is_one_message_and_exit_2(script, tmp_path, capsys):
    (tmp_path / "weights").mkdir()
    assert script.main(["--reference", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"no checkpoints (*.index) under {tmp_path / 'weights'}" in err
