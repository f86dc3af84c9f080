"""Scoring the published conditioning study's networks (``benchmarks/reference_conditioning.py``).

TensorFlow is not installed here: checkpoints are given as the variable dictionaries the
script reads from them, with the published keys; the forward pass is checked against the
formulas of each mechanism written out by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
VALUE = "/.ATTRIBUTES/VARIABLE_VALUE"


@pytest.fixture(scope="module")
def script(load_script):
    return load_script(BENCHMARKS / "reference_conditioning.py")


def _dense(rng, n_in, n_out):
    return rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)


def _relu(h):
    return np.maximum(h, 0.0)


def test_biasing_at_every_layer_reads_and_scores_as_published(script) -> None:
    rng = np.random.default_rng(0)
    (k0, b0), (w1, c1), (k2, b2) = _dense(rng, 3, 4), _dense(rng, 1, 4), _dense(rng, 4, 1)
    variables = {
        f"layer_with_weights-0/kernel{VALUE}": k0,
        f"layer_with_weights-0/bias{VALUE}": b0,
        f"layer_with_weights-1/expand/kernel{VALUE}": w1,
        f"layer_with_weights-1/expand/bias{VALUE}": c1,
        f"layer_with_weights-2/kernel{VALUE}": k2,
        f"layer_with_weights-2/bias{VALUE}": b2,
        # optimizer slots and the step count are not layers
        f"layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m{VALUE}": k0 * 0,
        f"optimizer/iter{VALUE}": np.array(7),
    }
    arrays = script.layers_from_variables(variables, mechanism="bias")
    assert sorted(arrays) == [
        "0_dense_bias", "0_dense_kernel", "1_shift_bias", "1_shift_kernel",
        "2_dense_bias", "2_dense_kernel",
    ]  # fmt: skip
    x, m = rng.normal(size=(5, 3)), np.full(5, 0.75)
    expected = (_relu(x @ k0 + b0) + (m[:, None] * w1 + c1)) @ k2 + b2
    np.testing.assert_allclose(script.forward(arrays, x, m), expected[:, 0])
    # the same layer read as scaling multiplies instead
    scaled = script.layers_from_variables(variables, mechanism="scale")
    expected = (_relu(x @ k0 + b0) * (m[:, None] * w1 + c1)) @ k2 + b2
    np.testing.assert_allclose(script.forward(scaled, x, m), expected[:, 0])


def test_affine_at_the_input_and_concatenation_before_the_output(script) -> None:
    rng = np.random.default_rng(1)
    x, m = rng.normal(size=(6, 3)), np.full(6, 1.25)
    (ws, bs), (wb, bb), (k1, b1), (k2, b2) = (
        _dense(rng, 1, 3), _dense(rng, 1, 3), _dense(rng, 3, 4), _dense(rng, 4, 1)
    )  # fmt: skip
    affine = {
        "0_scale_kernel": ws, "0_scale_bias": bs, "0_shift_kernel": wb, "0_shift_bias": bb,
        "1_dense_kernel": k1, "1_dense_bias": b1, "2_dense_kernel": k2, "2_dense_bias": b2,
    }  # fmt: skip
    conditioned = x * (m[:, None] * ws + bs) + (m[:, None] * wb + bb)
    np.testing.assert_allclose(
        script.forward(affine, x, m), (_relu(conditioned @ k1 + b1) @ k2 + b2)[:, 0]
    )
    # a kernel one row wider than its input takes [h, m] (concatenation, no weights)
    k3, b3 = _dense(rng, 5, 1)
    concat = {"0_dense_kernel": k1, "0_dense_bias": b1, "1_dense_kernel": k3, "1_dense_bias": b3}
    hidden = np.concatenate([_relu(x @ k1 + b1), m[:, None]], axis=1)
    np.testing.assert_allclose(script.forward(concat, x, m), (hidden @ k3 + b3)[:, 0])


def test_mass_aucs_scores_background_at_each_mass(script) -> None:
    from sklearn.metrics import roc_auc_score

    # one feature near the signal's mass in TeV; the net scores -|x - m| through
    # relu(x - m) + relu(m - x), its first kernel one row wider than x: input [x, m]
    rng = np.random.default_rng(2)
    signal_mass = np.repeat(np.array(script.MASSES), 40)
    x = np.concatenate([signal_mass / 1000 + rng.normal(0, 0.2, 200), rng.uniform(0.4, 1.6, 300)])
    mass = np.concatenate([signal_mass, rng.choice(script.MASSES, 300)])  # stored, not used
    label = np.concatenate([np.ones(200), np.zeros(300)])
    arrays = {
        "0_dense_kernel": np.array([[1.0, -1.0], [-1.0, 1.0]]),
        "0_dense_bias": np.zeros(2),
        "1_dense_kernel": np.array([[-1.0], [-1.0]]),
        "1_dense_bias": np.zeros(1),
    }
    expected = []
    for value in script.MASSES:
        keep = (label == 0) | (mass == value)  # signal at m against all background
        expected.append(roc_auc_score(label[keep], -np.abs(x[keep] - value / 1000)))
    aucs = script.mass_aucs(arrays, x[:, None], mass, label)
    np.testing.assert_allclose(aucs, expected)
    assert 0.6 < min(aucs) < max(aucs) < 1.0


def test_bad_input_is_one_line_and_exit_2(script, tmp_path, capsys) -> None:
    assert script.main(["extract", "--reference", str(tmp_path), "--output", str(tmp_path)]) == 2
    assert "no weights/conditioning-interp" in capsys.readouterr().err
    assert script.main(["score", "--nets", str(tmp_path), str(tmp_path / "e.parquet")]) == 2
    assert "run `extract` first" in capsys.readouterr().err
    np.savez(tmp_path / "net.npz", **{"0_dense_kernel": np.ones((28, 1))})
    (tmp_path / "e.parquet").write_text("not parquet")
    assert script.main(["score", "--nets", str(tmp_path), str(tmp_path / "e.parquet")]) == 2
    error = capsys.readouterr().err
    assert "not an event file" in error and len(error.strip().splitlines()) == 1
