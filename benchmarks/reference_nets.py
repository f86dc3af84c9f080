r"""Networks trained on the real HEPMASS, read from ``../shared/reference-nets/*.npz``.

The weights are data for checks (not part of the package): per-mass nets
``individual_M``, the Baldi pNN ``pnn`` and the AffinePNN ``affine`` (Anzalone et al.,
MLST 3 (2022) 035017) and their HEPMASS-IMB interpolation versions. Forward pass as the
folder's README states: Dense + ReLU layers ``layerK_kernel``/``layerK_bias`` in increasing
K, a sigmoid after the last; the pNN takes ``[x, m]``, the AffinePNN applies
``h * (m ws + bs) + (m wb + bb)`` after each hidden layer; ``m`` in TeV.

Example:
    >>> import numpy as np
    >>> w = {"layer1_kernel": np.ones((2, 1), np.float32), "layer1_bias": np.zeros(1, np.float32)}
    >>> net = ReferenceNet("individual_1000", w)  # a per-mass net: no mass input
    >>> net.score(np.zeros((3, 2), np.float32), 1000.0).tolist()
    [0.5, 0.5, 0.5]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["DEFAULT_FOLDER", "ReferenceNet", "load_reference_nets"]

#: ``<repo>/../shared/reference-nets``.
DEFAULT_FOLDER = Path(__file__).resolve().parents[1].parent / "shared" / "reference-nets"


@dataclass(frozen=True)
class ReferenceNet:
    """One network: its file stem and arrays."""

    name: str
    weights: dict[str, np.ndarray]

    @property
    def mass(self) -> float | None:
        """The signal mass of a per-mass net (``individual_M``), else ``None``."""
        prefix = "individual_"
        return float(self.name[len(prefix) :]) if self.name.startswith(prefix) else None

    def _layers(self) -> list[int]:
        return sorted({int(key.split("_")[0][len("layer") :]) for key in self.weights})

    def score(self, x: np.ndarray, mass: float) -> np.ndarray:
        """Signal probability of standardised features ``x`` ``(n, 27)`` at ``mass`` (GeV;
        ignored by per-mass nets)."""
        w = self.weights
        m = np.full((len(x), 1), mass / 1000.0, np.float32)
        conditioned = "layer1_scale_kernel" in w
        h = np.asarray(x, np.float32)
        if self.mass is None and not conditioned:
            h = np.concatenate([h, m], axis=1)
        layers = self._layers()
        for i in layers:
            if f"layer{i}_scale_kernel" in w:
                scale = m * w[f"layer{i}_scale_kernel"] + w[f"layer{i}_scale_bias"]
                h = h * scale + (m * w[f"layer{i}_bias_kernel"] + w[f"layer{i}_bias_bias"])
                continue
            h = h @ w[f"layer{i}_kernel"] + w[f"layer{i}_bias"]
            h = np.maximum(h, 0.0) if i != layers[-1] else 1.0 / (1.0 + np.exp(-h))
        return h.ravel()


def load_reference_nets(folder: Path = DEFAULT_FOLDER) -> dict[str, ReferenceNet]:
    """Every ``*.npz`` network in ``folder``, by file stem (sorted)."""
    paths = sorted(Path(folder).glob("*.npz"))
    if not paths:
        raise FileNotFoundError(
            f"no reference networks (*.npz) in {folder}; pass --nets with the folder that "
            "holds them (the shared reference-nets folder)"
        )
    return {path.stem: ReferenceNet(path.stem, dict(np.load(path))) for path in paths}
