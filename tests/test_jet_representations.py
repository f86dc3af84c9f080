"""Jet images and ParticleNet inputs: symmetries that must hold and values that can be checked."""

from __future__ import annotations

import numpy as np
import pytest

from hep_pnn.data.jets.images import jet_images, preprocessed_coordinates
from hep_pnn.data.jets.particles import PARTICLE_FEATURES, particle_inputs
from hep_pnn.data.jets.toy import toy_jets


@pytest.fixture(scope="module")
def jets():
    return toy_jets(20, 20, seed=11)


def _rotated_and_boosted(constituents: np.ndarray, angle: float, rapidity: float) -> np.ndarray:
    """Every constituent turned by ``angle`` in φ and boosted by ``rapidity`` along z."""
    energy, px, py, pz = (constituents[..., i].astype(np.float64) for i in range(4))
    cos, sin = np.cos(angle), np.sin(angle)
    cosh, sinh = np.cosh(rapidity), np.sinh(rapidity)
    moved = np.stack(
        [
            energy * cosh + pz * sinh,
            px * cos - py * sin,
            px * sin + py * cos,
            pz * cosh + energy * sinh,
        ],
        axis=-1,
    )
    return (moved * (energy > 0)[..., None]).astype(np.float32)


def test_images_are_pt_fractions_of_the_right_shape(jets):
    images = jet_images(jets.constituents)
    assert images.shape == (len(jets), 40, 40)
    assert np.allclose(images.sum(axis=(1, 2)), 1.0, atol=1e-5)
    assert (images >= 0).all()
    raw = jet_images(jets.constituents, normalise=False)
    pt = np.hypot(jets.constituents[..., 1], jets.constituents[..., 2]).sum(axis=1)
    assert np.all(raw.sum(axis=(1, 2)) <= pt * (1 + 1e-5))  # at most the jet's pT, in GeV
    assert np.median(raw.sum(axis=(1, 2)) / pt) > 0.99  # toy jets fit in the image


def test_images_do_not_depend_on_jet_direction(jets):
    # a rotation in phi and a boost along the beam change no angle inside the jet
    moved = _rotated_and_boosted(jets.constituents, angle=2.0, rapidity=0.7)
    assert np.allclose(jet_images(moved), jet_images(jets.constituents), atol=1e-4)


def test_preprocessing_puts_the_principal_axis_vertical_and_pt_up_right(jets):
    eta, phi, pt = preprocessed_coordinates(jets.constituents)
    weight = pt / pt.sum(axis=1, keepdims=True)
    assert np.allclose((weight * eta).sum(axis=1), 0, atol=1e-9)  # centred
    assert np.allclose((weight * eta * phi).sum(axis=1), 0, atol=1e-9)  # principal axes
    assert ((weight * phi**2).sum(axis=1) >= (weight * eta**2).sum(axis=1) - 1e-12).all()
    assert ((weight * (eta > 0)).sum(axis=1) >= 0.5 - 1e-9).all()
    assert ((weight * (phi > 0)).sum(axis=1) >= 0.5 - 1e-9).all()


def test_mirrored_jets_give_the_same_image(jets):
    mirrored = jets.constituents.copy()
    mirrored[..., 3] *= -1  # eta -> -eta
    assert np.allclose(jet_images(mirrored), jet_images(jets.constituents), atol=1e-4)


def test_particle_inputs(jets):
    inputs = particle_inputs(jets.constituents, n_particles=30)
    assert inputs.features.shape == (len(jets), 30, len(PARTICLE_FEATURES))
    n_real = np.minimum(jets.features["n_constituents"].to_numpy(), 30)
    assert (inputs.mask.sum(axis=1) == n_real).all()
    assert (inputs.features[~inputs.mask] == 0).all()
    columns = {name: inputs.features[..., i] for i, name in enumerate(PARTICLE_FEATURES)}
    real = inputs.mask
    assert np.allclose(
        columns["delta_r"][real], np.hypot(columns["delta_eta"], columns["delta_phi"])[real]
    )
    assert (columns["log_pt_fraction"][real] < 0).all()  # each constituent below the jet pT
    log_jet_pt = np.log(jets.features["jet_pt"].to_numpy())[:, None]
    difference = columns["log_pt"] - columns["log_pt_fraction"]
    assert np.allclose(difference[real], np.broadcast_to(log_jet_pt, real.shape)[real], atol=1e-4)
    # a turn in phi changes no angle to the axis (a boost would move the pseudorapidity of
    # the massive jet by less than that of its massless constituents)
    moved = particle_inputs(_rotated_and_boosted(jets.constituents, 1.0, 0.0), n_particles=30)
    angular = [PARTICLE_FEATURES.index(n) for n in ("delta_eta", "delta_phi", "delta_r")]
    assert np.allclose(moved.features[..., angular], inputs.features[..., angular], atol=1e-4)
    wide = particle_inputs(jets.constituents, n_particles=250)
    assert wide.mask.shape == (len(jets), 250) and not wide.mask[:, 200:].any()


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="constituents"):
        jet_images(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="n_particles"):
        particle_inputs(np.zeros((2, 5, 4)), n_particles=0)
