"""k-nearest-neighbours baseline with event-weighted votes and a stored scaler."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file
from sklearn.neighbors import KNeighborsClassifier

from hep_pnn.data.table import EventTable
from hep_pnn.models.baselines.base import Baseline
from hep_pnn.models.baselines.options import KNNOptions
from hep_pnn.run_files import MODEL_WEIGHTS

__all__ = ["KNNBaseline"]

_PAYLOAD = MODEL_WEIGHTS


class KNNBaseline(Baseline):
    r"""k-nearest neighbours (scikit-learn) on standardised features; the mass is ignored.

    The probability of an event is the event-weighted share of signal among its
    ``n_neighbors`` nearest training events. Features are standardised with a mean and
    standard deviation fitted on the training events only and stored with the model.
    Training events with zero weight are dropped; if more than ``max_train_events`` remain,
    a seeded random subset is kept, because every prediction searches the stored events.

    Saving writes the scaled training points, labels and weights to safetensors and refits
    the neighbour index on load: no pickle.

    Example:
        >>> import numpy as np
        >>> from hep_pnn.data import EventTable
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(400, 2)); y = (x[:, 0] > 0).astype(int)
        >>> knn = KNNBaseline(n_neighbors=10).fit(EventTable.from_arrays(x, label=y), seed=0)
        >>> knn.predict(np.array([[2.0, 0.0], [-2.0, 0.0]]), np.zeros(2)).tolist()
        [1.0, 0.0]

    References:
        Cover, Hart, "Nearest neighbor pattern classification", IEEE Trans. Inf.
        Theory 13 (1967) 21 (no arXiv id); scikit-learn's ``KNeighborsClassifier``.
    """

    name = "knn"
    options: KNNOptions

    def _fit(
        self,
        train: EventTable,
        weight: np.ndarray,
        *,
        rng: np.random.Generator,
        validation: EventTable | None,
    ) -> None:
        keep = np.flatnonzero(weight > 0)
        if len(keep) > self.options.max_train_events:
            keep = np.sort(rng.choice(keep, size=self.options.max_train_events, replace=False))
        points = train.features[keep]
        mean = points.mean(axis=0, dtype=np.float64)
        scale = points.std(axis=0, dtype=np.float64)
        scale[scale == 0] = 1.0  # a constant feature carries no distance information
        self._set_state(
            points=((points - mean) / scale).astype(np.float32),
            label=train.label[keep].astype(np.int8),
            weight=weight[keep].astype(np.float32),
            mean=mean.astype(np.float32),
            scale=scale.astype(np.float32),
        )

    def _set_state(self, **arrays: np.ndarray) -> None:
        self._arrays = arrays
        n_neighbors = min(self.options.n_neighbors, len(arrays["points"]))
        # the classifier is only the neighbour index: the vote below adds the event weights
        self._index = KNeighborsClassifier(
            n_neighbors=n_neighbors, algorithm=self.options.algorithm, n_jobs=self.options.n_jobs
        ).fit(arrays["points"], arrays["label"])

    @property
    def n_stored(self) -> int:
        """Training events kept by the model (after dropping zero weights and subsampling)."""
        return len(self._arrays["points"])

    def _predict(self, features: np.ndarray, mass: np.ndarray) -> np.ndarray:
        scaled = (features - self._arrays["mean"]) / self._arrays["scale"]
        distance, index = self._index.kneighbors(scaled)
        vote = self._arrays["weight"][index].astype(np.float64)
        if self.options.distance_weighting:
            vote /= np.maximum(distance, 1e-12)
        signal = (vote * self._arrays["label"][index]).sum(axis=1)
        return signal / vote.sum(axis=1)

    def _save_payload(self, directory: Path) -> dict[str, Any]:
        save_file(self._arrays, str(directory / _PAYLOAD))
        return {"payload": _PAYLOAD, "n_stored": self.n_stored}

    def _load_payload(self, directory: Path, extra: dict[str, Any]) -> None:
        try:
            arrays = load_file(str(directory / extra.get("payload", _PAYLOAD)))
        except SafetensorError as err:
            raise ValueError(str(err)) from None
        missing = {"points", "label", "weight", "mean", "scale"} - set(arrays)
        if missing:
            raise KeyError(f"arrays {sorted(missing)} missing")
        self._set_state(**arrays)
