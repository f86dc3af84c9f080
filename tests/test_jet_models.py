"""Every jet tagger through the same checks: shapes, gradients, modes, save/load, repr,
padding and (for point clouds) permutation invariance."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hep_pnn.data.jets.toy import toy_jets
from hep_pnn.errors import ConfigError, ModelError
from hep_pnn.models.jets import (
    JET_TAGGERS,
    JetTagger,
    ParametricParticleNet,
    build_tagger,
    load_tagger,
    nearest_neighbours,
    save_tagger,
    to_tensors,
)

TINY = {
    "jet_cnn": {"image_size": 16, "channels": [4, 4], "pool_after": [1, 2], "dense": [8]},
    "particlenet_lite": {"n_particles": 24, "edge_convs": [{"k": 4, "channels": [8, 8]}] * 2},
    "particlenet": {"n_particles": 24, "edge_convs": [{"k": 4, "channels": [8]}], "fc": [8]},
    "parametric_particlenet": {
        "n_particles": 24,
        "edge_convs": [{"k": 4, "channels": [8]}, {"k": 3, "channels": [8]}],
        "fc": [8],
    },
}


@pytest.fixture(scope="module")
def jets():
    return toy_jets(6, 6, seed=3)


def _inputs(tagger: JetTagger, constituents: np.ndarray) -> dict[str, torch.Tensor]:
    arrays = tagger.prepare(constituents)
    if tagger.parametric:
        arrays["parameter"] = np.linspace(500, 1500, len(constituents), dtype=np.float32)
    return to_tensors(arrays, slice(None), "cpu")


def test_every_registered_tagger_is_checked():
    assert set(TINY) == set(JET_TAGGERS)


@pytest.mark.parametrize("name", sorted(TINY))
def test_tagger_contract(name, jets, tmp_path):
    tagger = build_tagger(name, TINY[name], seed=1)
    inputs = _inputs(tagger, jets.constituents)
    # shapes and gradients: every parameter gets a finite, non-zero gradient somewhere
    tagger.train()
    logits = tagger(inputs)
    assert logits.shape == (len(jets),)
    torch.nn.functional.binary_cross_entropy_with_logits(
        logits, torch.as_tensor(jets.labels, dtype=torch.float32)
    ).backward()
    grads = [p.grad for p in tagger.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0
    # eval mode is deterministic; the same seed builds the same tagger
    tagger.eval()
    with torch.no_grad():
        first, second = tagger(inputs), tagger(inputs)
        assert torch.equal(first, second)
        twin = build_tagger(name, TINY[name], seed=1).eval()
        twin.load_state_dict(tagger.state_dict())
        assert torch.allclose(twin(inputs), first)
    # save / load round trip, through the public functions
    if isinstance(tagger, ParametricParticleNet):
        tagger.fit_parameter(np.array([500.0, 1500.0]))
        with torch.no_grad():
            first = tagger(inputs)
    folder = save_tagger(tagger, tmp_path / "model")
    loaded = load_tagger(folder)
    with torch.no_grad():
        assert torch.allclose(loaded(inputs), first, atol=1e-6)
    parameter = inputs["parameter"].numpy() if tagger.parametric else None
    scores = loaded.predict(jets.constituents, parameter, batch_size=5)
    assert np.allclose(scores, torch.sigmoid(first).numpy(), atol=1e-6)
    assert type(tagger).__name__ in repr(tagger)


@pytest.mark.parametrize("name", sorted(TINY))
def test_padding_rows_do_not_change_the_output(name, jets):
    tagger = build_tagger(name, TINY[name], seed=2).eval()
    short = jets.constituents[:, :20]  # fewer than n_particles: every one is kept
    padded = np.concatenate([short, np.zeros((len(jets), 80, 4), np.float32)], axis=1)
    options = dict(TINY[name])
    if "n_particles" in options:  # the same real constituents, more padding rows
        options["n_particles"] = 64
        wide = build_tagger(name, options, seed=2).eval()
        wide.load_state_dict(tagger.state_dict())
    else:
        wide = tagger
    with torch.no_grad():
        a = tagger(_inputs(tagger, short))
        b = wide(_inputs(wide, padded))
    assert torch.allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("name", [n for n in sorted(TINY) if n != "jet_cnn"])
def test_point_cloud_taggers_ignore_constituent_order(name, jets):
    tagger = build_tagger(name, TINY[name], seed=4).eval()
    inputs = _inputs(tagger, jets.constituents)
    order = torch.as_tensor(np.random.default_rng(0).permutation(TINY[name]["n_particles"]))
    shuffled = {
        key: value[:, order] if key != "parameter" else value for key, value in inputs.items()
    }
    with torch.no_grad():
        assert torch.allclose(tagger(inputs), tagger(shuffled), atol=1e-5)


def test_parametric_output_depends_on_the_parameter(jets):
    tagger = build_tagger("parametric_particlenet", TINY["parametric_particlenet"], seed=5).eval()
    tagger.fit_parameter(np.array([500.0, 1500.0]))
    low = tagger.predict(jets.constituents, np.full(len(jets), 500.0))
    high = tagger.predict(jets.constituents, np.full(len(jets), 1500.0))
    assert not np.allclose(low, high)
    with pytest.raises(ValueError, match="parameter"):
        tagger.predict(jets.constituents)


def test_nearest_neighbours_skip_padding_and_self():
    points = torch.tensor([[[0.0, 0.0], [0.1, 0.0], [1.0, 0.0], [0.05, 0.0]]])
    index, valid = nearest_neighbours(points, torch.tensor([[True, True, True, False]]), 2)
    assert index[0, 0].tolist() == [1, 2]  # not itself, not the padded point at 0.05
    assert valid[0, :3].all() and not valid[0, 3].any()


def test_bad_options_and_files_are_our_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"model\.options"):
        build_tagger("particlenet", {"n_particles": 0})
    with pytest.raises(ConfigError, match="unknown jet tagger"):
        build_tagger("resnet")
    (tmp_path / "model.json").write_text("{}")
    with pytest.raises(ModelError, match="not a jet tagger"):
        load_tagger(tmp_path)
