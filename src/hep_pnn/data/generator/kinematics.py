r"""Vectorised numpy four-vector kinematics (used by the four-top example).

The event generator's numba kernels use scalar versions of the same formulas
(:mod:`._fourvec`), drawing their random numbers themselves (:mod:`._draws`).

A four-vector is an array whose *first* axis has length 4 and holds ``(px, py, pz, E)``
in GeV; the remaining axes index events (and objects). Components-first keeps every
component contiguous, which makes the element-wise numpy arithmetic fast.

Example:
    >>> import numpy as np
    >>> p = from_pt_eta_phi_m(np.array([30.0]), np.array([0.0]), np.array([0.0]), np.array([0.0]))
    >>> p[:, 0].tolist(), float(mass(p)[0])
    ([30.0, 0.0, 0.0, 30.0], 0.0)
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "boost",
    "breit_wigner",
    "cauchy_window",
    "eta",
    "from_pt_eta_phi_m",
    "mass",
    "phi",
    "pt",
    "two_body_decay",
]


def pt(p: np.ndarray) -> np.ndarray:
    """Transverse momentum of four-vectors ``p``."""
    # sqrt of the sum is several times faster than np.hypot, and GeV values cannot overflow.
    return np.sqrt(p[0] * p[0] + p[1] * p[1])


def eta(p: np.ndarray, transverse: np.ndarray | None = None) -> np.ndarray:
    """Pseudorapidity (pass ``transverse`` = pT if known); zero pT gives ``eta = 0``."""
    if transverse is None:
        transverse = pt(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.arcsinh(p[2] / transverse)
    return np.where(transverse > 0, value, 0.0)


def phi(p: np.ndarray) -> np.ndarray:
    """Azimuthal angle in ``[-pi, pi]``."""
    return np.arctan2(p[1], p[0])


def mass(p: np.ndarray) -> np.ndarray:
    """Invariant mass; tiny negative m² from rounding is read as zero."""
    m2 = p[3] * p[3] - p[0] * p[0] - p[1] * p[1] - p[2] * p[2]
    return np.sqrt(np.maximum(m2, 0.0))


def from_pt_eta_phi_m(
    transverse: np.ndarray, pseudorapidity: np.ndarray, azimuth: np.ndarray, m: np.ndarray
) -> np.ndarray:
    """Four-vectors from pT, eta, phi and mass (broadcast against each other)."""
    px = transverse * np.cos(azimuth)
    py = transverse * np.sin(azimuth)
    pz = transverse * np.sinh(pseudorapidity)
    energy = np.sqrt(px * px + py * py + pz * pz + m * m)
    return np.stack([px, py, pz, energy])


def boost(p: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Lorentz-boost four-vectors ``p`` by velocity ``beta`` (shape ``(3, ...)``).

    Example:
        >>> import numpy as np
        >>> rest = np.array([[0.0], [0.0], [0.0], [10.0]])
        >>> moving = boost(rest, np.array([[0.6], [0.0], [0.0]]))
        >>> np.round(moving[:, 0], 6).tolist()
        [7.5, 0.0, 0.0, 12.5]
    """
    b2 = beta[0] * beta[0] + beta[1] * beta[1] + beta[2] * beta[2]
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = beta[0] * p[0] + beta[1] * p[1] + beta[2] * p[2]
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma2 = np.where(b2 > 0, (gamma - 1.0) / b2, 0.0)
    along = gamma2 * bp + gamma * p[3]
    return np.stack(
        [
            p[0] + along * beta[0],
            p[1] + along * beta[1],
            p[2] + along * beta[2],
            gamma * (p[3] + bp),
        ]
    )


def two_body_decay(
    parent: np.ndarray,
    m1: np.ndarray | float,
    m2: np.ndarray | float,
    rng: np.random.Generator,
    *,
    cos_theta: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Decay ``parent`` into two daughters of masses ``m1``, ``m2``, isotropically at rest.

    Args:
        parent: ``(4, n)`` four-vectors; its mass must exceed ``m1 + m2``.
        m1, m2: daughter masses (scalars or ``(n,)``).
        rng: the random generator.
        cos_theta: optional decay angle in the parent frame (default: isotropic).

    Returns:
        The two daughters in the lab frame, ``(4, n)`` each; they sum to ``parent``.

    Example:
        >>> import numpy as np
        >>> top = np.array([[50.0], [0.0], [100.0], [np.sqrt(50**2 + 100**2 + 172.5**2)]])
        >>> w, b = two_body_decay(top, 80.4, 4.8, np.random.default_rng(0))
        >>> np.allclose(w + b, top), round(float(mass(w)[0]), 6)
        (True, 80.4)
    """
    n = parent.shape[1]
    m_parent = mass(parent)
    m1 = np.broadcast_to(np.asarray(m1, dtype=parent.dtype), (n,))
    m2 = np.broadcast_to(np.asarray(m2, dtype=parent.dtype), (n,))
    s = m_parent * m_parent
    lam = (s - (m1 + m2) ** 2) * (s - (m1 - m2) ** 2)
    p_star = np.sqrt(np.maximum(lam, 0.0)) / (2.0 * m_parent)
    if cos_theta is None:
        cos_theta = 2 * rng.random(n, dtype=parent.dtype) - 1
    azimuth = (2 * np.pi) * rng.random(n, dtype=parent.dtype)
    sin_theta = np.sqrt(1.0 - cos_theta * cos_theta)
    direction = np.stack([sin_theta * np.cos(azimuth), sin_theta * np.sin(azimuth), cos_theta])
    momentum = p_star * direction
    e1 = np.sqrt(p_star * p_star + m1 * m1)
    e2 = np.sqrt(p_star * p_star + m2 * m2)
    beta = parent[:3] / parent[3]
    first = boost(np.concatenate([momentum, e1[None]]), beta)
    second = boost(np.concatenate([-momentum, e2[None]]), beta)
    return first, second


def breit_wigner(
    rng: np.random.Generator,
    centre: np.ndarray | float,
    width: np.ndarray | float,
    low: np.ndarray | float,
    high: np.ndarray | float,
    size: int,
) -> np.ndarray:
    """Masses from a (non-relativistic) Breit–Wigner truncated to ``[low, high]``.

    Sampled by inverting the Cauchy distribution function on the truncated range,
    so no draw is wasted.

    Example:
        >>> import numpy as np
        >>> m = breit_wigner(np.random.default_rng(1), 80.4, 2.1, 70.0, 90.0, 10_000)
        >>> bool(m.min() >= 70.0 and m.max() <= 90.0), round(float(np.median(m)))
        (True, 80)
    """
    centre, half, lo, hi = cauchy_window(centre, width, low, high)
    u = rng.random(size, dtype=np.float32)
    return centre + half * np.tan(lo + u * (hi - lo))


def cauchy_window(
    centre: np.ndarray | float,
    width: np.ndarray | float,
    low: np.ndarray | float,
    high: np.ndarray | float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Float32 ``(centre, half width, lo, hi)`` of :func:`breit_wigner`, where ``lo`` and
    ``hi`` are the Cauchy angles of ``low`` and ``high``: the mass at a uniform draw ``u``
    is ``centre + half * tan(lo + u * (hi - lo))``."""
    half = 0.5 * np.asarray(width, dtype=np.float32)
    centre = np.asarray(centre, dtype=np.float32)
    lo = np.arctan((np.asarray(low, dtype=np.float32) - centre) / half)
    hi = np.arctan((np.asarray(high, dtype=np.float32) - centre) / half)
    return centre, half, lo, hi
