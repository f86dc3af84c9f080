"""The autograd-free training step: same loss, gradients and dropout draws as autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hep_pnn.data import EventTable
from hep_pnn.models import CONDITIONINGS, build_model, preset
from hep_pnn.models._kernels import bce_with_logits
from hep_pnn.models.direct import DirectStep, supports
from hep_pnn.training import Trainer, TrainingConfig
from hep_pnn.training.flat import FlatParameters
from hep_pnn.training.weights import weighted_bce

NAMES = [f"f{i}" for i in range(5)]

PLACEMENTS = ("input", "every", "output")
#: (mechanism, placement) pairs the direct step must refuse: a mechanism without lines in
#: m anywhere, concatenation after a hidden layer, modulation of the input features
REFUSED = (
    {("user_gate", placement) for placement in PLACEMENTS}
    | {("concat", "every"), ("concat", "output")}
    | {(mechanism, "input") for mechanism in ("affine", "bias", "scale", "user_film")}
)


def _expected_support(mechanism: str, placement: str) -> bool:
    if any(mechanism == known for known, _ in REFUSED):
        return (mechanism, placement) not in REFUSED
    # a mechanism registered later: covered where it declares lines and appends nothing
    layer = CONDITIONINGS[mechanism](1)
    lines = layer.coefficients()
    if placement == "input":
        return lines is not None and not lines.modulates and not any(layer.parameters())
    return lines is not None and not layer.extra_width


def _batch(n: int = 64, seed: int = 0, dtype=torch.float64):
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.normal(size=(n, len(NAMES)))).to(dtype)
    m = torch.from_numpy(rng.choice([500.0, 750.0, 1250.0], size=n)).to(dtype)
    y = torch.from_numpy((rng.random(n) < 0.5).astype(np.float64)).to(dtype)
    w = torch.from_numpy(rng.normal(1.0, 0.7, size=n)).to(dtype)  # some negative weights
    return x, m, y, w


def _pair(conditioning: str, placement: str, *, dropout: float = 0.25):
    config = preset(
        "affine", conditioning=conditioning, placement=placement, hidden=(33, 70, 9),
        dropout=dropout,
    )  # fmt: skip
    nets = [build_model(config, feature_names=NAMES, seed=5).double().train() for _ in "ab"]
    for net in nets:
        with torch.no_grad():  # non-trivial conditioning and preprocessing
            for parameter in net.parameters():
                parameter.add_(
                    0.3
                    * torch.randn(
                        parameter.shape,
                        dtype=parameter.dtype,
                        generator=torch.Generator().manual_seed(1),
                    )
                )
        net.fit_preprocessing(
            np.random.default_rng(2).normal(1.0, 2.0, size=(100, 5)), np.full(100, 800.0)
        )
    return nets


@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("dropout", [0.0, 0.25])
def test_direct_step_equals_autograd(mechanism, placement, dropout):
    """Every registered mechanism, the user-defined ones included: covered ones give
    autograd's loss and gradients, the others are refused (and train with autograd)."""
    direct_net, autograd_net = _pair(mechanism, placement, dropout=dropout)
    assert supports(direct_net) == _expected_support(mechanism, placement)
    if not supports(direct_net):
        with pytest.raises(ValueError, match="DirectStep covers"):
            DirectStep(direct_net)
        return
    x, m, y, w = _batch()
    step = DirectStep(direct_net)
    for _ in range(2):  # the second step reuses the cached views
        result = step(x, m, y, w)
        logits = autograd_net(x, m)
        loss = weighted_bce(logits, y, w)
        autograd_net.zero_grad()
        loss.backward()
        assert result.loss == pytest.approx(loss.item(), rel=1e-12)
        right = float((w * ((logits > 0) == (y > 0.5))).sum())
        assert result.right == pytest.approx(right, rel=1e-12, abs=1e-12)
        assert result.total_weight == pytest.approx(float(w.sum()), rel=1e-12)
        for (name, a), (_, b) in zip(
            direct_net.named_parameters(), autograd_net.named_parameters(), strict=True
        ):
            torch.testing.assert_close(a.grad, b.grad, rtol=1e-10, atol=1e-12, msg=name)
    # both drew their dropout masks from the generator identically
    assert torch.equal(direct_net.generator.get_state(), autograd_net.generator.get_state())


def test_eval_mode_step_has_no_dropout_like_autograd():
    direct_net, autograd_net = _pair("affine", "every")
    x, m, y, w = _batch()
    for net in (direct_net, autograd_net):
        net.eval()
    result = DirectStep(direct_net)(x, m, y, w)
    loss = weighted_bce(autograd_net(x, m), y, w)
    loss.backward()
    assert result.loss == pytest.approx(loss.item(), rel=1e-12)
    torch.testing.assert_close(
        direct_net.hidden[0].linear.weight.grad, autograd_net.hidden[0].linear.weight.grad
    )


def test_unsupported_networks_are_refused():
    assert not supports(build_model(preset("affine", activation="tanh"), feature_names=NAMES))
    assert not supports(
        build_model(preset("affine", conditioning="concat", placement="every"), feature_names=NAMES)
    )
    assert not supports(build_model(preset("affine", placement="input"), feature_names=NAMES))
    plain = build_model(preset("affine"), feature_names=NAMES)
    plain.fused = False
    assert not supports(plain)
    with pytest.raises(ValueError, match="DirectStep covers"):
        DirectStep(plain)


@pytest.mark.parametrize("conditioning", ["affine", "user_film"])
def test_gradients_follow_parameters_that_moved(conditioning, custom_mechanisms):
    """Re-homing the parameters into flat buffers after the step was made still fills the
    new gradient buffers (the cached numpy views are rebuilt; computed lines hand their
    gradients to autograd, which fills the flat buffer in place)."""
    direct_net, autograd_net = _pair(conditioning, "every")
    step = DirectStep(direct_net)
    x, m, y, w = _batch()
    step(x, m, y, w)
    flat = FlatParameters(direct_net)
    flat.zero_grad()
    direct_net.generator.set_state(autograd_net.generator.get_state())
    step(x, m, y, w)
    weighted_bce(autograd_net(x, m), y, w).backward()
    expected = torch.cat([p.grad.reshape(-1) for p in autograd_net.parameters()])
    got = torch.cat([p.grad.reshape(-1) for p in direct_net.parameters()])
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)
    assert all(p.grad.abs().sum() > 0 for p in flat.parameters)


def test_bce_kernel_is_finite_and_exact_for_large_logits():
    logit = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
    target = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    weight = np.array([1.0, -2.0, 0.5, 1.0, 3.0])
    grad = np.empty(5)
    loss, right, total = bce_with_logits(logit, target, weight, grad)
    expected = weighted_bce(*(torch.from_numpy(a) for a in (logit, target, weight)))
    assert loss == pytest.approx(expected.item(), rel=1e-12)
    sigmoid = 1 / (1 + np.exp(-np.clip(logit, -700, 700)))
    np.testing.assert_allclose(grad, weight * (sigmoid - target) / 5, rtol=1e-12, atol=1e-300)
    assert (right, total) == (-2.0 + 1.0, 3.5)


def test_trainer_takes_the_direct_step_and_trains_like_autograd():
    rng = np.random.default_rng(0)
    n = 600
    features = rng.normal(size=(n, 5)).astype(np.float32)
    label = (rng.random(n) < 0.5).astype(np.int8)
    mass = rng.choice(np.array([500.0, 1000.0], np.float32), n)
    features[:, 0] += label * mass / 1000
    table = EventTable.from_arrays(features, label=label, mass=mass, feature_names=NAMES)
    config = TrainingConfig(epochs=2, batch_size=64, seed=3)
    histories, weights = [], []
    for use_direct in (True, False):
        net = build_model(preset("affine", hidden=(16, 8)), feature_names=NAMES, seed=1)
        trainer = Trainer(net, table, config, generators={"dropout": net.generator}, log=str)
        assert (trainer.direct is not None) is True
        if not use_direct:
            trainer.direct = None
        histories.append(trainer.fit().history)
        weights.append(torch.cat([p.detach().reshape(-1) for p in net.parameters()]))
    torch.testing.assert_close(weights[0], weights[1], rtol=1e-4, atol=1e-5)
    for a, b in zip(*histories, strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
        assert a["train_accuracy"] == pytest.approx(b["train_accuracy"], rel=1e-6)


@pytest.mark.parametrize(("conditioning", "direct"), [("user_film", True), ("user_gate", False)])
def test_trainer_chooses_the_step_by_capability(conditioning, direct, custom_mechanisms):
    """A user-defined mechanism trains: through the direct step when it declares lines
    in m, with autograd when not; and the loss goes down either way."""
    rng = np.random.default_rng(1)
    n = 400
    features = rng.normal(size=(n, 5)).astype(np.float32)
    label = (rng.random(n) < 0.5).astype(np.int8)
    mass = rng.choice(np.array([500.0, 1500.0], np.float32), n)
    features[:, 0] += 2 * label * (mass / 1000 - 1)
    table = EventTable.from_arrays(features, label=label, mass=mass, feature_names=NAMES)
    config = preset("affine", conditioning=conditioning, hidden=(16, 8), dropout=0.0)
    net = build_model(config, feature_names=NAMES, seed=1)
    trainer = Trainer(
        net, table, TrainingConfig(epochs=3, batch_size=64, seed=3),
        generators={"dropout": net.generator}, log=str,
    )  # fmt: skip
    assert (trainer.direct is not None) is direct
    history = trainer.fit().history
    assert history[-1]["train_loss"] < history[0]["train_loss"]
