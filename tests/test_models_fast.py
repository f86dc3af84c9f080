"""The fast training kernels give the same model as the plain implementation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from hep_pnn.models import (
    CONDITIONINGS,
    ModelConfig,
    build_model,
    dropout_mask,
    effective_dropout,
    network,
    preset,
)
from hep_pnn.models.conditioning import sampled_coefficients
from hep_pnn.models.fast import (
    linear_activate_condition_dropout,
    mass_design,
    reference_activate_modulate_dropout,
    weighted_squared_norm,
)


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("p", [0.25, 0.5, 0.125, 0.1, 0.3])
def test_dropout_mask_values_and_rate(p):
    mask = dropout_mask((500, 301), p, generator=_generator(0))
    used = effective_dropout(p)
    assert abs(used - p) <= 1 / 512
    assert mask.unique().tolist() == pytest.approx([0.0, 1 / (1 - used)])
    dropped = (mask == 0).float().mean().item()
    assert dropped == pytest.approx(used, abs=0.005)
    assert mask.mean().item() == pytest.approx(1.0, abs=0.01)


def test_dropout_mask_bits_are_independent_across_positions():
    mask = dropout_mask((4000, 32), 0.25, generator=_generator(1)) == 0
    per_position = mask.float().mean(0)
    assert torch.allclose(per_position, torch.full((32,), 0.25), atol=0.03)
    neighbours = (mask[:, :-1] & mask[:, 1:]).float().mean().item()
    assert neighbours == pytest.approx(0.25**2, abs=0.01)


def test_dropout_mask_follows_its_generator():
    first = dropout_mask((7, 3), 0.25, generator=_generator(5))
    again = dropout_mask((7, 3), 0.25, generator=_generator(5))
    other = dropout_mask((7, 3), 0.25, generator=_generator(6))
    assert first.shape == (7, 3)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_mask_of_a_key_does_not_depend_on_the_batch_it_sits_in():
    full = dropout_mask((300, 130), 0.25, key=11)
    assert torch.equal(dropout_mask((40, 70), 0.25, key=11), full[:40, :70])
    assert not torch.equal(dropout_mask((40, 70), 0.25, key=12), full[:40, :70])


def _fused_leaves(rng, shape, with_scale, with_shift):
    n, width = shape
    return {
        "x": torch.randn(n, 6, generator=rng, dtype=torch.float64),
        "weight": torch.randn(width, 6, generator=rng, dtype=torch.float64),
        "bias": torch.randn(width, generator=rng, dtype=torch.float64),
        "scale": torch.randn(2, width, generator=rng, dtype=torch.float64) if with_scale else None,
        "shift": torch.randn(2, width, generator=rng, dtype=torch.float64) if with_shift else None,
    }


@pytest.mark.parametrize(
    ("with_scale", "with_shift", "p"),
    list(itertools.product([False, True], [False, True], [0, 0.25])),
)
def test_fused_layer_matches_reference(with_scale, with_shift, p):
    rng = _generator(2)
    shape = (133, 70)  # more rows than kernel chunks, more columns than one 64-bit word
    mass = torch.rand(shape[0], 1, generator=rng, dtype=torch.float64) + 0.5
    leaves = _fused_leaves(rng, shape, with_scale, with_shift)
    upstream = torch.randn(shape, generator=rng, dtype=torch.float64)
    results = []
    for fused in (True, False):
        inputs = {k: None if v is None else v.clone().requires_grad_() for k, v in leaves.items()}
        x, weight, bias, scale, shift = inputs.values()
        if fused:
            out = linear_activate_condition_dropout(x, weight, bias, mass, scale, shift, p=p, key=7)
        else:
            scale, shift = (None if c is None else mass_design(mass) @ c for c in (scale, shift))
            mask = dropout_mask(shape, p, key=7, dtype=torch.float64) if p else None
            out = reference_activate_modulate_dropout(x @ weight.T + bias, scale, shift, mask)
        out.backward(upstream)
        grads = [v.grad for v in inputs.values() if v is not None]
        results.append((out.detach(), grads))
    (fused, fused_grads), (plain, plain_grads) = results
    torch.testing.assert_close(fused, plain, rtol=1e-12, atol=1e-12)
    for a, b in zip(fused_grads, plain_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


def test_fused_layer_passes_gradcheck():
    rng = _generator(3)
    leaves = _fused_leaves(rng, (9, 4), True, True)
    mass = torch.rand(9, 1, generator=rng, dtype=torch.float64)
    inputs = [v.requires_grad_() for v in leaves.values()]
    assert torch.autograd.gradcheck(
        lambda x, w, b, s, t: linear_activate_condition_dropout(x, w, b, mass, s, t, p=0.5, key=3),
        inputs,
    )


def test_fused_gradients_do_not_depend_on_the_thread_count():
    rng = _generator(4)
    leaves = _fused_leaves(rng, (257, 33), True, True)
    mass = torch.rand(257, 1, generator=rng)
    grads = []
    previous = torch.get_num_threads()
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            inputs = [v.float().requires_grad_() for v in leaves.values()]
            out = linear_activate_condition_dropout(*inputs[:3], mass, *inputs[3:], p=0.25, key=1)
            out.square().sum().backward()
            grads.append([v.grad for v in inputs])
    finally:
        torch.set_num_threads(previous)
    for a, b in zip(*grads, strict=True):
        assert torch.equal(a, b)


def test_l2_norm_kernel_matches_plain_sum():
    tensors = [torch.randn(4, 3, generator=_generator(i), requires_grad=True) for i in range(3)]
    factors = [1e-5, 1e-6, 0.5]
    weighted_squared_norm(tensors, factors).backward()
    fast_grads = [t.grad.clone() for t in tensors]
    for t in tensors:
        t.grad = None
    plain = sum(f * t.square().sum() for f, t in zip(factors, tensors, strict=True))
    plain.backward()
    assert weighted_squared_norm(tensors, factors).item() == pytest.approx(plain.item())
    for fast, t in zip(fast_grads, tensors, strict=True):
        torch.testing.assert_close(fast, t.grad)


def test_coefficients_reproduce_the_modulation(mechanism):
    layer = CONDITIONINGS[mechanism](6)
    with torch.no_grad():
        for parameter in layer.parameters():
            parameter.normal_(generator=_generator(0))
    mass = 3 * torch.rand(9, 1, generator=_generator(1)) - 1  # also outside [0, 1]
    lines = layer.coefficients()
    if lines is None:
        return  # no lines declared: the fast paths never run it (tested below)
    for line, direct in zip((lines.scale, lines.shift), layer.modulation(mass), strict=True):
        assert (line is None) == (direct is None)
        if direct is not None:
            torch.testing.assert_close(mass_design(mass) @ line.matrix(), direct)


def test_a_gate_is_not_affine_and_declares_no_lines(custom_mechanisms):
    gate = custom_mechanisms["user_gate"](4)
    torch.nn.init.normal_(gate.gate.weight, generator=_generator(0))
    assert gate.coefficients() is None
    # what a fast path would wrongly apply: the line through m = 0 and m = 1
    line = sampled_coefficients(gate).scale
    mass = torch.tensor([[0.5], [2.0]])
    assert not torch.allclose(mass_design(mass) @ line.matrix(), gate.modulation(mass)[0])


def _fused_calls(monkeypatch) -> list[int]:
    """Count the calls of the fused kernel from the network's blocks."""
    calls = []
    original = network.linear_activate_condition_dropout

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(network, "linear_activate_condition_dropout", counting)
    return calls


@pytest.mark.parametrize("placement", ["input", "every", "output"])
@pytest.mark.parametrize("dropout", [0.0, 0.25])
def test_fused_network_matches_reference_network(mechanism, placement, dropout, monkeypatch):
    """Every registered mechanism, the user-defined ones included: the fused path (taken
    exactly where the mechanism declares lines in m) gives the plain path's values."""
    names = [f"f{i}" for i in range(5)]
    config = ModelConfig(
        hidden=(16, 8), conditioning=mechanism, placement=placement, dropout=dropout
    )
    nets = [build_model(config, feature_names=names, seed=4) for _ in "ab"]
    nets[1].fused = False
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(50, 5)).astype(np.float32))
    m = torch.from_numpy(rng.choice([500.0, 1000.0, 2500.0], size=50).astype(np.float32))
    calls = _fused_calls(monkeypatch)
    outputs = []
    for net in nets:
        net.train()
        out = net(x, m)
        (out.square().mean() + net.l2_penalty()).backward()
        outputs.append(out.detach())
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-6, atol=1e-6)
    for (name_a, a), (_, b) in zip(
        nets[0].named_parameters(), nets[1].named_parameters(), strict=True
    ):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-5, atol=1e-6, msg=name_a)
    conditioned = [block.conditioning is not None for block in nets[0].hidden]
    declared = CONDITIONINGS[mechanism](1).coefficients()
    modulating = declared is not None and declared.modulates
    expected = sum(
        (dropout > 0 or (cond and modulating)) and not (cond and declared is None)
        for cond in conditioned
    )
    assert len(calls) == expected
    if mechanism == "user_gate" and placement == "every":
        assert calls == []  # never the fused kernel, which would make the gate a line
    if mechanism in ("affine", "user_film") and placement == "every":
        assert len(calls) == len(conditioned)


def test_gate_network_computes_the_gate_in_training(custom_mechanisms):
    """A non-affine mechanism trains with its true function of m, not a line through
    m = 0 and m = 1 (the fast path used wrongly would fail this at m = 2.5)."""
    config = ModelConfig(hidden=(6,), conditioning="user_gate", placement="every", dropout=0.0)
    net = build_model(config, feature_names=["a", "b"], seed=1).train()
    x = torch.randn(8, 2, generator=_generator(0))
    mass = torch.full((8,), 2500.0)
    block = net.hidden[0]
    m = mass.unsqueeze(1) / 1000
    hidden = torch.relu(block.linear(x)) * 2 * torch.sigmoid(block.conditioning.gate(m))
    expected = net.output(hidden).squeeze(1)
    torch.testing.assert_close(net(x, mass), expected)


def test_dropout_generator_state_reproduces_a_step():
    net = build_model(preset("affine", hidden=(8,)), feature_names=["a", "b"], seed=0).train()
    x, m = torch.ones(10, 2), torch.full((10,), 750.0)
    state = net.generator.get_state()
    first = net(x, m)
    second = net(x, m)
    net.generator.set_state(state)
    assert not torch.equal(first, second)
    assert torch.equal(net(x, m), first)


@pytest.mark.parametrize("activation", ["elu", "silu", "tanh"])
def test_other_activations_train(activation):
    net = build_model(
        preset("affine", hidden=(6,), activation=activation), feature_names=["a", "b"]
    ).train()
    x, m = torch.randn(20, 2, generator=_generator(0)), torch.full((20,), 750.0)
    net(x, m).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
    assert f"activation={activation}" in repr(net)
