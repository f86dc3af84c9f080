"""One network per training mass, used as a single scorer (the "individual" baseline)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from hep_pnn.errors import ModelError
from hep_pnn.models._inference import as_inputs, check_feature_names
from hep_pnn.models.network import ParametricNet

__all__ = ["PerMassEnsemble"]


class PerMassEnsemble:
    r"""Per-mass classifiers behind the scorer interface.

    Each event goes to the network of the *nearest* training mass (exactly half-way:
    the lower one). There is deliberately no interpolation between networks: this is
    the baseline a parametric network must beat at masses it never saw.

    Args:
        members: ``{mass: network}``; all networks use the same feature names.

    Example:
        >>> from hep_pnn.models import build_model, preset
        >>> nets = {m: build_model(preset("individual", hidden=(4,)), feature_names=["a"], seed=i)
        ...         for i, m in enumerate([500.0, 1000.0])}
        >>> ensemble = PerMassEnsemble(nets)
        >>> ensemble.training_masses
        (500.0, 1000.0)
        >>> ensemble.predict(np.zeros((2, 1)), np.array([600.0, 900.0])).shape
        (2,)

    References:
        The per-mass networks a pNN is compared with: Baldi et al., arXiv:1601.07913;
        Anzalone, Diotalevi, Bonacorsi, MLST 3 (2022) 035017, arXiv:2202.00424.
    """

    kind = "per_mass_ensemble"

    def __init__(self, members: Mapping[float, ParametricNet]) -> None:
        if not members:
            raise ModelError(
                "a per-mass ensemble needs at least one network",
                where="PerMassEnsemble(members)",
                fix="pass {mass: network} for every training mass",
            )
        self.members: dict[float, ParametricNet] = {
            float(mass): net for mass, net in sorted(members.items())
        }
        first = next(iter(self.members.values()))
        for mass, net in self.members.items():
            if net.feature_names != first.feature_names:
                raise ModelError(
                    f"the network for mass {mass:g} has features {list(net.feature_names)}, "
                    f"others have {list(first.feature_names)}",
                    where="PerMassEnsemble(members)",
                    fix="train every member on the same feature columns",
                )

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Feature columns, in input order."""
        return next(iter(self.members.values())).feature_names

    @property
    def training_masses(self) -> tuple[float, ...]:
        """The masses that have a network, ascending."""
        return tuple(self.members)

    def check_features(self, feature_names: Sequence[str]) -> None:
        """Raise :class:`~hep_pnn.errors.ModelError` unless ``feature_names`` match."""
        check_feature_names(self.feature_names, feature_names)

    def nearest_mass_index(self, mass: np.ndarray) -> np.ndarray:
        """Index into :attr:`training_masses` of the nearest trained mass of each event."""
        masses = np.asarray(self.training_masses)
        midpoints = (masses[1:] + masses[:-1]) / 2
        return np.searchsorted(midpoints, np.asarray(mass), side="left")

    def predict(
        self, features: np.ndarray, mass: np.ndarray | float, *, batch_size: int = 65536
    ) -> np.ndarray:
        """Signal probabilities ``(n,)``, each from the network of the nearest trained mass."""
        x, m = as_inputs(features, mass, n_features=len(self.feature_names), needs_mass=True)
        assert m is not None  # needs_mass=True
        chosen = self.nearest_mass_index(m)
        scores = np.empty(x.shape[0], dtype=np.float32)
        for index, net in enumerate(self.members.values()):
            rows = np.flatnonzero(chosen == index)
            if rows.size:
                scores[rows] = net.predict(x[rows], m[rows], batch_size=batch_size)
        return scores

    def __repr__(self) -> str:
        masses = ", ".join(f"{mass:g}" for mass in self.members)
        config = next(iter(self.members.values())).config
        return f"PerMassEnsemble(masses=[{masses}], hidden={config.hidden})"
