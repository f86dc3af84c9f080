"""The fast training kernels give the same model as the plain implementation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from hep_pnn.models import CONDITIONINGS, build_model, dropout_mask, effective_dropout, preset
from hep_pnn.models.fast import (
    activate_condition_dropout,
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


@pytest.mark.parametrize(
    ("with_scale", "with_shift", "with_mask"), list(itertools.product([False, True], repeat=3))
)
def test_fused_step_matches_reference(with_scale, with_shift, with_mask):
    rng = _generator(2)
    shape = (33, 17)
    design = mass_design(torch.rand(33, 1, generator=rng, dtype=torch.float64) + 0.5)
    leaves = {
        "z": torch.randn(shape, generator=rng, dtype=torch.float64),
        "scale": torch.randn(2, 17, generator=rng, dtype=torch.float64) if with_scale else None,
        "shift": torch.randn(2, 17, generator=rng, dtype=torch.float64) if with_shift else None,
    }
    mask = dropout_mask(shape, 0.25, generator=rng).double() if with_mask else None
    upstream = torch.randn(shape, generator=rng, dtype=torch.float64)
    results = []
    for fused in (True, False):
        inputs = {k: None if v is None else v.clone().requires_grad_() for k, v in leaves.items()}
        if fused:
            out = activate_condition_dropout(
                inputs["z"], design, inputs["scale"], inputs["shift"], mask
            )
        else:
            scale, shift = (None if c is None else design @ c for c in list(inputs.values())[1:])
            out = reference_activate_modulate_dropout(inputs["z"], scale, shift, mask)
        out.backward(upstream)
        grads = [v.grad for v in inputs.values() if v is not None]
        results.append((out.detach(), grads))
    (fused, fused_grads), (plain, plain_grads) = results
    torch.testing.assert_close(fused, plain, rtol=1e-12, atol=1e-12)
    for a, b in zip(fused_grads, plain_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_fused_step_passes_gradcheck():
    rng = _generator(3)
    z = torch.randn(5, 4, generator=rng, dtype=torch.float64, requires_grad=True)
    scale = torch.randn(2, 4, generator=rng, dtype=torch.float64, requires_grad=True)
    shift = torch.randn(2, 4, generator=rng, dtype=torch.float64, requires_grad=True)
    design = mass_design(torch.rand(5, 1, generator=rng, dtype=torch.float64))
    mask = dropout_mask((5, 4), 0.5, generator=rng).double()
    assert torch.autograd.gradcheck(
        lambda z, s, t: activate_condition_dropout(z, design, s, t, mask), (z, scale, shift)
    )


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


@pytest.mark.parametrize("mechanism", ["affine", "bias", "scale"])
def test_coefficients_reproduce_the_modulation(mechanism):
    layer = CONDITIONINGS[mechanism](6)
    for parameter in layer.parameters():
        torch.nn.init.normal_(parameter, generator=_generator(0))
    mass = torch.rand(9, 1, generator=_generator(1))
    for coefficients, direct in zip(layer.coefficients(), layer.modulation(mass), strict=True):
        assert (coefficients is None) == (direct is None)
        if direct is not None:
            torch.testing.assert_close(mass_design(mass) @ coefficients, direct)


@pytest.mark.parametrize("name", ["affine", "pnn"])
def test_fused_network_matches_reference_network(name):
    names = [f"f{i}" for i in range(5)]
    nets = [build_model(preset(name, hidden=(16, 8)), feature_names=names, seed=4) for _ in "ab"]
    nets[1].fused = False
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(50, 5)).astype(np.float32))
    m = torch.from_numpy(rng.choice([500.0, 1000.0], size=50).astype(np.float32))
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
