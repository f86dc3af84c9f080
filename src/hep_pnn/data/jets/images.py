r"""Jet images: pT fractions on an η–φ grid around the jet axis, with the standard preprocessing.

For every jet, in this order and for all jets at once (numpy, no loop over jets):

1. *centre*: Δη, Δφ to the pT-weighted centroid of the constituents;
2. *rotate*: the principal axis of the pT-weighted second moments to the vertical (φ') axis;
3. *flip*: η' and φ' so that the right half and the upper half hold at least half the pT,
   which puts the hardest structure in the upper-right quadrant;
4. *pixelate*: sum pT into ``size × size`` pixels covering ``[-extent, extent]²``;
5. *normalise*: divide by the pT in the image, so every image sums to 1.

Image axis 1 is φ' (rows, vertical), axis 2 is η' (columns); draw with
``imshow(image, origin="lower")``.

References:
    de Oliveira, Kagan, Mackey, Nachman, Schwartzman, "Jet-images — deep learning edition",
    JHEP 07 (2016) 069, arXiv:1511.05190 (the preprocessing);
    Kasieczka, Plehn, Russell, Schell, "Deep-learning top taggers or the end of QCD?",
    JHEP 05 (2017) 006, arXiv:1701.08784 (40 × 40 top-jet images);
    Macaluso, Shih, "Pulling out all the tops with computer vision and deep learning",
    JHEP 10 (2018) 121, arXiv:1803.00107.
"""

from __future__ import annotations

import numpy as np

from hep_pnn.data.jets.particles import relative_coordinates, wrap_phi

__all__ = ["IMAGE_EXTENT", "IMAGE_SIZE", "jet_images", "preprocessed_coordinates"]

#: Pixels per side of a jet image.
IMAGE_SIZE = 40
#: Half-width of the image in η' and φ' (the anti-kT R = 0.8 jet plus a margin).
IMAGE_EXTENT = 1.0


def _weighted_mean(values: np.ndarray, weight: np.ndarray, total: np.ndarray) -> np.ndarray:
    return np.asarray((values * weight).sum(axis=1) / total)


def preprocessed_coordinates(
    constituents: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(eta', phi', pt)`` of every constituent after centring, rotating and flipping.

    Each ``(n, m)``; padded constituents have ``pt == 0``.

    Example:
        >>> c = np.zeros((1, 3, 4), np.float32)  # three constituents along a line in eta
        >>> c[0, :, 1], c[0, :, 3] = [100.0, 50.0, 20.0], [0.0, 10.0, -5.0]
        >>> c[0, :, 0] = np.sqrt(c[0, :, 1] ** 2 + c[0, :, 3] ** 2)
        >>> eta, phi, pt = preprocessed_coordinates(c)
        >>> bool(np.abs(eta).max() < 1e-9), bool(np.abs(phi).max() > 0.1)  # now vertical
        (True, True)
    """
    delta_eta, delta_phi, pt, _ = relative_coordinates(constituents)
    total = np.maximum(pt.sum(axis=1), 1e-12)
    x = delta_eta - _weighted_mean(delta_eta, pt, total)[:, None]
    y = wrap_phi(delta_phi - _weighted_mean(delta_phi, pt, total)[:, None])
    xx = _weighted_mean(x * x, pt, total)
    yy = _weighted_mean(y * y, pt, total)
    xy = _weighted_mean(x * y, pt, total)
    # angle of the major axis to the eta axis; rotate it onto the phi' axis
    major = 0.5 * np.arctan2(2 * xy, xx - yy)
    angle = (np.pi / 2 - major)[:, None]
    cos, sin = np.cos(angle), np.sin(angle)
    eta = x * cos - y * sin
    phi = x * sin + y * cos
    eta_sign = np.where((pt * (eta > 0)).sum(axis=1) >= (pt * (eta < 0)).sum(axis=1), 1.0, -1.0)
    phi_sign = np.where((pt * (phi > 0)).sum(axis=1) >= (pt * (phi < 0)).sum(axis=1), 1.0, -1.0)
    mask = pt > 0
    return (
        np.where(mask, eta * eta_sign[:, None], 0.0),
        np.where(mask, phi * phi_sign[:, None], 0.0),
        pt,
    )


def jet_images(
    constituents: np.ndarray,
    *,
    size: int = IMAGE_SIZE,
    extent: float = IMAGE_EXTENT,
    normalise: bool = True,
) -> np.ndarray:
    """``(n, size, size)`` float32 images of pT fractions from ``(n, m, 4)`` constituents.

    Constituents outside ``[-extent, extent]²`` after preprocessing are dropped; with
    ``normalise`` every non-empty image sums to 1, otherwise pixels hold pT in GeV.

    Example:
        >>> c = np.zeros((2, 5, 4), np.float32)
        >>> c[:, :2] = [[100.0, 80.0, 0.0, 60.0], [50.0, 0.0, 40.0, 30.0]]
        >>> images = jet_images(c, size=8)
        >>> images.shape, images.sum(axis=(1, 2)).round(6).tolist()
        ((2, 8, 8), [1.0, 1.0])
    """
    if constituents.ndim != 3 or constituents.shape[-1] != 4:
        raise ValueError(f"constituents must be (n, m, 4), got shape {constituents.shape}")
    if size < 1 or extent <= 0:
        raise ValueError(f"size must be positive and extent > 0, got {size}, {extent}")
    n_jets = constituents.shape[0]
    eta, phi, pt = preprocessed_coordinates(constituents)
    column = np.floor((eta + extent) / (2 * extent) * size).astype(np.int64)
    row = np.floor((phi + extent) / (2 * extent) * size).astype(np.int64)
    inside = (pt > 0) & (column >= 0) & (column < size) & (row >= 0) & (row < size)
    jet = np.broadcast_to(np.arange(n_jets)[:, None], pt.shape)
    pixel = (jet * size + row) * size + column
    images = np.bincount(pixel[inside], weights=pt[inside], minlength=n_jets * size * size)
    images = images.reshape(n_jets, size, size).astype(np.float64)
    if normalise:
        images = images / np.maximum(images.sum(axis=(1, 2), keepdims=True), 1e-12)
    return images.astype(np.float32)
