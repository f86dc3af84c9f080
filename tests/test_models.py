"""Every preset and every (mechanism, placement) pair through the same checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import ALL_MECHANISMS
from hep_pnn.models import (
    CONDITIONINGS,
    PRESETS,
    ModelConfig,
    build_model,
    export_program,
    fold_at_mass,
    load_model,
    preset,
    save_model,
)

FEATURES = ("a", "b", "c", "d")
SMALL = (6, 5)

CASES = {f"preset-{name}": preset(name, hidden=SMALL) for name in PRESETS} | {
    f"{mechanism}-{placement}": (mechanism, placement)
    for mechanism in ALL_MECHANISMS
    for placement in ("input", "every", "output")
}


@pytest.fixture(params=list(CASES), ids=list(CASES))
def case(request, custom_mechanisms):
    """A freshly built small network, fitted to small data, and that data."""
    config = CASES[request.param]
    if isinstance(config, tuple):  # built here: the user-defined mechanisms are registered now
        mechanism, placement = config
        config = ModelConfig(
            hidden=SMALL, conditioning=mechanism, placement=placement, dropout=0.25
        )
    rng = np.random.default_rng(7)
    features = rng.normal(loc=3.0, scale=2.0, size=(64, len(FEATURES))).astype(np.float32)
    mass = rng.choice([500.0, 1000.0, 1500.0], size=64).astype(np.float32)
    net = build_model(config, feature_names=FEATURES, seed=3)
    net.fit_preprocessing(features, mass)
    net.training_masses = (500.0, 1000.0, 1500.0)
    return net, features, mass


def test_output_shape_range_and_mass_dependence(case):
    net, features, mass = case
    logits = net(torch.from_numpy(features), torch.from_numpy(mass))
    assert logits.shape == (64,)
    assert torch.isfinite(logits).all()
    scores = net.predict(features, mass)
    assert scores.shape == (64,) and scores.dtype == np.float32
    assert ((scores >= 0) & (scores <= 1)).all()
    moved = net.predict(features, 1500.0) - net.predict(features, 500.0)
    assert (np.abs(moved).max() > 0) == net.uses_mass


def test_gradients_reach_every_parameter(case):
    net, features, mass = case
    net.train()
    logits = net(torch.from_numpy(features), torch.from_numpy(mass))
    target = torch.from_numpy((np.arange(64) % 2).astype(np.float32))
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
    (loss + net.l2_penalty()).backward()
    for name, parameter in net.named_parameters():
        assert parameter.grad is not None, name
        assert parameter.grad.abs().sum() > 0, name


def test_dropout_acts_in_training_only(case):
    net, features, mass = case
    x, m = torch.from_numpy(features), torch.from_numpy(mass)
    with torch.no_grad():
        net.eval()
        first, second = net(x, m), net(x, m)
        net.train()
        trained = net(x, m)
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    assert (not torch.equal(trained, first)) == (net.config.dropout > 0)


def test_save_load_gives_identical_outputs(case, tmp_path):
    net, features, mass = case
    save_model(net, tmp_path / "model")
    loaded = load_model(tmp_path / "model", expected_features=FEATURES)
    assert loaded.config == net.config
    assert loaded.training_masses == net.training_masses
    np.testing.assert_array_equal(loaded.predict(features, mass), net.predict(features, mass))


def test_repr_names_the_mechanism(case):
    net, _, _ = case
    text = repr(net)
    assert f"conditioning={net.config.conditioning}" in text
    assert (f"placement={net.config.placement}" in text) == net.uses_mass
    if net.uses_mass:
        assert CONDITIONINGS[net.config.conditioning].__name__ in text


def test_export_matches_eager(case):
    net, features, mass = case
    program = export_program(net)
    for n in (7, 64):
        exported = program.module()(torch.from_numpy(features[:n]), torch.from_numpy(mass[:n]))
        np.testing.assert_allclose(exported.numpy(), net.predict(features[:n], mass[:n]), atol=1e-6)


def test_folding_at_one_mass_scores_like_the_network(case):
    net, features, _ = case
    net.eval()
    x = torch.from_numpy(features)
    for value in (500.0, 1234.5):
        with torch.no_grad():
            expected = net(x, torch.full((64,), value))
        torch.testing.assert_close(fold_at_mass(net, value)(x), expected, rtol=1e-5, atol=1e-5)
        # predict() at one mass scores through the folded network
        np.testing.assert_allclose(
            net.predict(features, value), torch.sigmoid(expected).numpy(), rtol=0, atol=1e-6
        )


NAMES_27 = [f"f{i}" for i in range(27)]


@pytest.mark.parametrize(("name", "count"), [("pnn", 74_051), ("affine", 76_151)])
def test_reference_parameter_counts(name, count):
    net = build_model(preset(name), feature_names=NAMES_27)
    assert sum(p.numel() for p in net.parameters()) == count


def test_affine_preset_is_the_published_architecture():
    net = build_model(preset("affine"), feature_names=NAMES_27)
    assert net.input_conditioning is None
    assert [block.linear.out_features for block in net.hidden] == [300, 150, 100, 50]
    assert all(type(block.conditioning).__name__ == "Affine" for block in net.hidden)
    assert all(block.dropout == 0.25 for block in net.hidden)
    assert net.hidden[0].linear.in_features == 27


@pytest.mark.parametrize("name", ["pnn", "individual", "blind"])
def test_published_presets_drop_out_after_every_hidden_layer(name):
    # the published pNN, per-mass and mass-blind nets have a Dropout layer after each
    # hidden Dense (benchmarks/reference_checkpoints.py); without it the Baldi pNN overfits
    # the 1.4k signal events at 1500 GeV of the interpolation study
    net = build_model(preset(name), feature_names=NAMES_27)
    assert [block.linear.out_features for block in net.hidden] == [300, 150, 100, 50]
    assert all(block.dropout == 0.25 for block in net.hidden)


def test_keras_initialisation():
    net = build_model(preset("affine"), feature_names=NAMES_27, seed=1)
    for module in net.modules():
        if isinstance(module, torch.nn.Linear):
            fan_out, fan_in = module.weight.shape
            bound = (6 / (fan_in + fan_out)) ** 0.5
            assert module.weight.abs().max() <= bound
            if module.weight.numel() >= 1000:
                assert module.weight.abs().max() > 0.95 * bound
                assert module.weight.std().item() == pytest.approx(bound / 3**0.5, rel=0.05)
            if module.bias is not None:
                assert torch.count_nonzero(module.bias) == 0


def test_torch_initialisation_and_seeds():
    config = preset("pnn", init="torch")
    net = build_model(config, feature_names=NAMES_27, seed=1)
    first = net.hidden[0].linear
    assert first.weight.abs().max() <= 28**-0.5
    assert torch.count_nonzero(first.bias) > 0
    same = build_model(config, feature_names=NAMES_27, seed=1)
    other = build_model(config, feature_names=NAMES_27, seed=2)
    assert torch.equal(same.hidden[0].linear.weight, first.weight)
    assert not torch.equal(other.hidden[0].linear.weight, first.weight)


def test_l2_penalty_follows_the_keras_convention():
    net = build_model(preset("affine", hidden=SMALL), feature_names=FEATURES)
    for parameter in net.parameters():
        torch.nn.init.constant_(parameter, 0.5)
    kernels = sum(p.numel() for n, p in net.named_parameters() if n.endswith("weight"))
    biases = sum(p.numel() for n, p in net.named_parameters() if n.endswith("bias"))
    expected = 1e-5 * 0.25 * kernels + 1e-6 * 0.25 * biases
    assert net.l2_penalty().item() == pytest.approx(expected, rel=1e-6)


def test_hidden_representation_is_the_last_hidden_layer():
    net = build_model(preset("affine", hidden=(6, 5)), feature_names=FEATURES)
    features = np.ones((3, 4), dtype=np.float32)
    representation = net.hidden_representation(features, 1000.0)
    assert representation.shape == (3, 5)
    logits = representation @ net.output.weight.detach().numpy().T + net.output.bias.item()
    np.testing.assert_allclose(
        1 / (1 + np.exp(-logits[:, 0])), net.predict(features, 1000.0), rtol=1e-5
    )


def test_building_and_training_leave_global_random_state_alone():
    before = torch.random.get_rng_state()
    net = build_model(preset("affine", hidden=SMALL), feature_names=FEATURES, seed=5).train()
    net(torch.ones(8, 4), torch.full((8,), 500.0)).sum().backward()
    assert torch.equal(torch.random.get_rng_state(), before)
