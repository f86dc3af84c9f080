"""Gradient-boosted decision trees (xgboost): mass-blind and parametric (mass as a feature)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from hep_pnn.data.table import EventTable
from hep_pnn.errors import DataError
from hep_pnn.models.baselines.base import Baseline
from hep_pnn.models.baselines.options import BDTOptions

__all__ = ["BDTBaseline", "ParametricBDT"]

_PAYLOAD = "booster.json"


class BDTBaseline(Baseline):
    r"""Boosted decision trees on the features (xgboost ``hist``, event weights honoured).

    The mass is ignored. :attr:`history` records the weighted log-loss and accuracy of every
    boosting round (the "epochs" of a BDT) on the training and ``validation`` samples; with
    a validation sample, training stops ``early_stopping_rounds`` after the round with the
    lowest validation loss and keeps that round. Saved with xgboost's own JSON format.

    Example:
        >>> import numpy as np
        >>> from hep_pnn.data import EventTable
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(1000, 3)); y = (x[:, 0] + x[:, 1] > 0).astype(int)
        >>> bdt = BDTBaseline(n_estimators=20).fit(EventTable.from_arrays(x, label=y), seed=0)
        >>> p = bdt.predict(np.array([[2.0, 2.0, 0.0], [-2.0, -2.0, 0.0]]), np.zeros(2))
        >>> bool(p[0] > 0.9 and p[1] < 0.1)
        True

    References:
        Chen, Guestrin, "XGBoost: A Scalable Tree Boosting System", KDD 2016,
        arXiv:1603.02754.
    """

    name = "bdt"
    options: BDTOptions

    def _inputs(self, features: np.ndarray, mass: np.ndarray) -> np.ndarray:
        return features

    def _params(self, rng: np.random.Generator) -> dict[str, Any]:
        o = self.options
        return {
            "objective": "binary:logistic",
            "tree_method": "hist",
            # early stopping watches the last metric: the loss
            "eval_metric": ["error", "logloss"],
            "max_depth": o.max_depth,
            "eta": o.learning_rate,
            "subsample": o.subsample,
            "colsample_bytree": o.colsample_bytree,
            "min_child_weight": o.min_child_weight,
            "lambda": o.reg_lambda,
            "max_bin": o.max_bin,
            "nthread": o.nthread,
            "seed": int(rng.integers(2**31 - 1)),
        }

    def _matrix(
        self, table: EventTable, weight: np.ndarray, ref: xgb.QuantileDMatrix | None = None
    ) -> xgb.QuantileDMatrix:
        return xgb.QuantileDMatrix(
            self._inputs(table.features, table.mass),
            label=table.label,
            weight=weight,
            max_bin=self.options.max_bin,
            nthread=self.options.nthread,
            ref=ref,
        )

    def _fit(
        self,
        train: EventTable,
        weight: np.ndarray,
        *,
        rng: np.random.Generator,
        validation: EventTable | None,
    ) -> None:
        dtrain = self._matrix(train, weight)
        evals = [(dtrain, "train")]
        if validation is not None:
            val_weight = self.event_weights(validation, where="validation data")
            evals.append((self._matrix(validation, val_weight, ref=dtrain), "val"))
        record: dict[str, dict[str, list[float]]] = {}
        self._booster = xgb.train(
            self._params(rng),
            dtrain,
            num_boost_round=self.options.n_estimators,
            evals=evals,
            evals_result=record,
            early_stopping_rounds=self.options.early_stopping_rounds if len(evals) > 1 else None,
            verbose_eval=False,
        )
        stopped_early = self.options.early_stopping_rounds is not None and len(evals) > 1
        self._rounds = (
            self._booster.best_iteration + 1
            if stopped_early
            else self._booster.num_boosted_rounds()
        )
        self.history = _history(record)

    @property
    def rounds(self) -> int:
        """Boosting rounds used for prediction (the best round with early stopping)."""
        return self._rounds

    def _predict(self, features: np.ndarray, mass: np.ndarray) -> np.ndarray:
        return self._booster.inplace_predict(
            self._inputs(features, mass), iteration_range=(0, self._rounds)
        )

    def _save_payload(self, directory: Path) -> dict[str, Any]:
        self._booster.save_model(str(directory / _PAYLOAD))
        return {"payload": _PAYLOAD, "rounds": self._rounds}

    def _load_payload(self, directory: Path, extra: dict[str, Any]) -> None:
        booster = xgb.Booster(params={"nthread": self.options.nthread})
        booster.load_model(str(directory / extra.get("payload", _PAYLOAD)))
        self._booster = booster
        self._rounds = int(extra.get("rounds", booster.num_boosted_rounds()))


class ParametricBDT(BDTBaseline):
    r"""A BDT with the mass hypothesis as one more input feature.

    Background events must carry their assigned training mass in ``train.mass`` (assign it
    as for the pNNs with :func:`hep_pnn.training.baselines.assign_background_masses`).

    Example:
        >>> import numpy as np
        >>> from hep_pnn.data import EventTable
        >>> rng = np.random.default_rng(0)
        >>> mass = rng.choice([500.0, 1000.0], size=2000)
        >>> x = rng.normal(size=(2000, 1)); y = rng.integers(0, 2, 2000)
        >>> x[y == 1, 0] += mass[y == 1] / 250  # signal sits at x ≈ m / 250
        >>> table = EventTable.from_arrays(x, label=y, mass=mass)
        >>> pbdt = ParametricBDT(n_estimators=30).fit(table, seed=0)
        >>> at_500, at_1000 = (pbdt.predict(np.array([[2.0]]), m)[0] for m in (500.0, 1000.0))
        >>> bool(at_500 > at_1000)
        True

    References:
        Chen, Guestrin, "XGBoost: A Scalable Tree Boosting System", KDD 2016,
        arXiv:1603.02754.
        The mass as an input feature, as for the pNN of Baldi et al., arXiv:1601.07913.
    """

    name = "pbdt"
    uses_mass = True

    def _inputs(self, features: np.ndarray, mass: np.ndarray) -> np.ndarray:
        return np.column_stack([features, mass.astype(np.float32)])

    def event_weights(self, table: EventTable, *, where: str = "training data") -> np.ndarray:
        unassigned = ~np.isfinite(table.mass)
        if unassigned.any():
            raise DataError(
                f"{int(unassigned.sum())} events have no mass hypothesis "
                f"(first at row {int(np.argmax(unassigned)) + 1})",
                where=f"{where}, column mass",
                fix="assign background masses first "
                "(hep_pnn.training.baselines.assign_background_masses)",
            )
        return super().event_weights(table, where=where)


def _history(record: dict[str, dict[str, list[float]]]) -> pd.DataFrame:
    """One row per boosting round, with the column names of a network's history."""
    columns: dict[str, Any] = {"epoch": np.arange(1, len(record["train"]["logloss"]) + 1)}
    for split, prefix in (("train", "train"), ("val", "val")):
        if split in record:
            columns[f"{prefix}_loss"] = record[split]["logloss"]
            columns[f"{prefix}_accuracy"] = 1.0 - np.asarray(record[split]["error"])
    return pd.DataFrame(columns)
