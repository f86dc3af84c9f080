"""Reading the published checkpoints' layer sequence (``benchmarks/reference_checkpoints.py``).

The layer sequences are those the script prints for the published repository's weights;
TensorFlow is not installed here, so only the counting and the bad-input path run.
"""

from __future__ import annotations

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


def test_a_checkout_without_checkpoints_is_one_message_and_exit_2(script, tmp_path, capsys):
    (tmp_path / "weights").mkdir()
    assert script.main(["--reference", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"no checkpoints (*.index) under {tmp_path / 'weights'}" in err
