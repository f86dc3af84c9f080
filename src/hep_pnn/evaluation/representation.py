"""2-D map of a network's last hidden layer (PCA by default, t-SNE on request)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from hep_pnn._random import SeedLike, as_generator
from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError, ModelError
from hep_pnn.evaluation.scoring import feature_matrix

__all__ = ["Representation2D", "representation_2d"]


@dataclass(frozen=True)
class Representation2D:
    """Events embedded in two dimensions, with what to colour them by.

    Attributes:
        coordinates: ``(n, 2)`` embedding.
        label: 1 for signal, 0 for background.
        mass: each event's mass hypothesis (GeV).
        method: ``"pca"`` or ``"tsne"``.
    """

    coordinates: np.ndarray
    label: np.ndarray
    mass: np.ndarray
    method: str


def representation_2d(
    model: Any,
    table: EventTable,
    *,
    method: Literal["pca", "tsne"] = "pca",
    max_events: int = 2000,
    seed: SeedLike = 0,
) -> Representation2D:
    """Embed ``model.hidden_representation(features, mass)`` of some events in 2-D.

    Args:
        model: a network with ``hidden_representation(features, mass) -> (n, units)``.
        table: events to embed (each at its own mass column).
        method: ``"pca"`` (fast, deterministic) or ``"tsne"`` (slower, local structure).
        max_events: events drawn at random (with ``seed``) when the table is larger.
        seed: seed of the subsample and of t-SNE.

    Example:
        >>> class Net:
        ...     def hidden_representation(self, x, m):
        ...         return np.column_stack([x[:, 0], m / 1000, x[:, 0] * 2])
        >>> t = EventTable.from_arrays(np.arange(6.0)[:, None], label=[1, 0] * 3,
        ...                            mass=[500, 1000] * 3)
        >>> representation_2d(Net(), t).coordinates.shape
        (6, 2)
    """
    if method not in ("pca", "tsne"):
        raise ConfigError(
            f"unknown method {method!r}", where="representation", fix="use pca or tsne"
        )
    if not hasattr(model, "hidden_representation"):
        raise ModelError(
            f"{type(model).__name__} has no hidden layers to show",
            where="representation plot",
            fix="use a neural-network model",
        )
    if len(table) > max_events:
        keep = np.sort(as_generator(seed).choice(len(table), max_events, replace=False))
        table = table.select(keep)
    hidden = model.hidden_representation(feature_matrix(model, table), table.mass)
    if hasattr(hidden, "detach"):
        hidden = hidden.detach().cpu().numpy()
    hidden = np.asarray(hidden, dtype=np.float64).reshape(len(table), -1)
    if method == "pca":
        from sklearn.decomposition import PCA

        coordinates = PCA(n_components=2).fit_transform(hidden)
    else:
        from sklearn.manifold import TSNE

        random_state = int(as_generator(seed).integers(2**31 - 1))
        perplexity = min(30.0, max(1.0, (len(table) - 1) / 3))
        coordinates = TSNE(
            n_components=2, perplexity=perplexity, init="pca", random_state=random_state
        ).fit_transform(hidden)
    return Representation2D(coordinates, table.label.copy(), table.mass.copy(), method)
