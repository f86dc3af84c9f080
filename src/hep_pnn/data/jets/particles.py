r"""Per-constituent inputs of point-cloud taggers (ParticleNet), computed from (E, px, py, pz).

Every function works on whole arrays of jets at once: no Python loop over jets or
constituents. Padded constituents (rows of zeros) are recognised by ``E <= 0`` and come
out as zeros with ``mask == False``.

References:
    Qu, Gouskos, "ParticleNet: Jet Tagging via Particle Clouds", Phys. Rev. D 101 (2020)
    056019, arXiv:1902.08570 (the seven input features of the top-tagging benchmark).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "PARTICLE_FEATURES",
    "ParticleInputs",
    "constituent_kinematics",
    "jet_axis",
    "particle_inputs",
    "relative_coordinates",
    "wrap_phi",
]

#: Names of the per-constituent features of :func:`particle_inputs`, in column order.
PARTICLE_FEATURES = (
    "delta_eta",
    "delta_phi",
    "log_pt",
    "log_e",
    "log_pt_fraction",
    "log_e_fraction",
    "delta_r",
)

_TINY = 1e-8


def wrap_phi(phi: np.ndarray) -> np.ndarray:
    """Angles mapped into ``[-π, π)``.

    Example:
        >>> float(wrap_phi(np.array([3 * np.pi / 2]))[0]) == -np.pi / 2
        True
    """
    return np.asarray((phi + np.pi) % (2 * np.pi) - np.pi)


def constituent_kinematics(
    constituents: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(pt, eta, phi, mask)`` of every constituent, each ``(n, m)``; padded rows give zeros.

    Example:
        >>> c = np.array([[[10.0, 6.0, 0.0, 8.0], [0, 0, 0, 0]]], np.float32)
        >>> pt, eta, phi, mask = constituent_kinematics(c)
        >>> pt.round(3).tolist(), mask.tolist()
        ([[6.0, 0.0]], [[True, False]])
    """
    energy, px, py, pz = (constituents[..., i].astype(np.float64) for i in range(4))
    mask = energy > 0
    pt = np.hypot(px, py)
    eta = np.where(mask, np.arcsinh(pz / np.maximum(pt, _TINY)), 0.0)
    phi = np.where(mask, np.arctan2(py, px), 0.0)
    return np.where(mask, pt, 0.0), eta, phi, mask


def jet_axis(constituents: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(pt, eta, phi, energy)`` of each jet, the sum of its constituents, each ``(n,)``.

    Example:
        >>> c = np.array([[[10.0, 6.0, 0.0, 8.0], [5.0, 3.0, 0.0, 4.0]]], np.float32)
        >>> [round(float(x[0]), 3) for x in jet_axis(c)]
        [9.0, 1.099, 0.0, 15.0]
    """
    total = constituents.astype(np.float64).sum(axis=1)
    energy, px, py, pz = total[:, 0], total[:, 1], total[:, 2], total[:, 3]
    pt = np.hypot(px, py)
    return pt, np.arcsinh(pz / np.maximum(pt, _TINY)), np.arctan2(py, px), energy


def relative_coordinates(
    constituents: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(delta_eta, delta_phi, pt, mask)`` of every constituent relative to its jet axis.

    Example:
        >>> c = np.array([[[10.0, 6.0, 0.0, 8.0], [10.0, 0.0, 6.0, 8.0]]], np.float32)
        >>> d_eta, d_phi, _, _ = relative_coordinates(c)
        >>> d_phi.round(3).tolist()
        [[-0.785, 0.785]]
    """
    pt, eta, phi, mask = constituent_kinematics(constituents)
    _, jet_eta, jet_phi, _ = jet_axis(constituents)
    delta_eta = np.where(mask, eta - jet_eta[:, None], 0.0)
    delta_phi = np.where(mask, wrap_phi(phi - jet_phi[:, None]), 0.0)
    return delta_eta, delta_phi, pt, mask


@dataclass(frozen=True)
class ParticleInputs:
    """The inputs of a point-cloud tagger for ``n`` jets of up to ``m`` constituents.

    Attributes:
        coordinates: ``(n, m, 2)`` float32, (Δη, Δφ) to the jet axis: where the k nearest
            neighbours of the first EdgeConv block are searched.
        features: ``(n, m, 7)`` float32, the columns of :data:`PARTICLE_FEATURES`.
        mask: ``(n, m)`` bool, True for real constituents; padded rows are zeros.
    """

    coordinates: np.ndarray
    features: np.ndarray
    mask: np.ndarray

    def __len__(self) -> int:
        return int(self.mask.shape[0])


def particle_inputs(constituents: np.ndarray, *, n_particles: int = 100) -> ParticleInputs:
    """ParticleNet's inputs from ``(n, m, 4)`` constituents (E, px, py, pz), sorted by pT.

    The first ``n_particles`` constituents are kept (fewer are padded with zeros). Features:
    Δη, Δφ to the jet axis, log pT, log E, log(pT / pT_jet), log(E / E_jet), ΔR.

    Example:
        >>> c = np.array([[[10.0, 6.0, 0.0, 8.0], [5.0, 3.0, 0.0, 4.0]]], np.float32)
        >>> inputs = particle_inputs(c, n_particles=3)
        >>> inputs.features.shape, inputs.mask.tolist()
        ((1, 3, 7), [[True, True, False]])
    """
    if constituents.ndim != 3 or constituents.shape[-1] != 4:
        raise ValueError(f"constituents must be (n, m, 4), got shape {constituents.shape}")
    if n_particles < 1:
        raise ValueError(f"n_particles must be positive, got {n_particles}")
    if constituents.shape[1] < n_particles:
        constituents = np.pad(
            constituents, ((0, 0), (0, n_particles - constituents.shape[1]), (0, 0))
        )
    # the jet axis, pT and energy of the whole jet; then only the leading constituents
    jet_pt, _, _, jet_energy = jet_axis(constituents)
    delta_eta, delta_phi, pt, mask = (
        values[:, :n_particles] for values in relative_coordinates(constituents)
    )
    energy = np.where(mask, constituents[:, :n_particles, 0].astype(np.float64), 0.0)

    def log(values: np.ndarray) -> np.ndarray:
        return np.where(mask, np.log(np.maximum(values, _TINY)), 0.0)

    features = np.stack(
        [
            delta_eta,
            delta_phi,
            log(pt),
            log(energy),
            log(pt / np.maximum(jet_pt, _TINY)[:, None]),
            log(energy / np.maximum(jet_energy, _TINY)[:, None]),
            np.hypot(delta_eta, delta_phi),
        ],
        axis=-1,
    )
    coordinates = np.stack([delta_eta, delta_phi], axis=-1)
    return ParticleInputs(
        coordinates=coordinates.astype(np.float32),
        features=features.astype(np.float32),
        mask=mask,
    )
