"""Options of the baseline models, validated once with errors that name the key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hep_pnn.errors import ConfigError

__all__ = [
    "BASELINE_NAMES",
    "BDTOptions",
    "BaselineOptions",
    "KNNOptions",
    "baseline_options",
]


class BaselineOptions(BaseModel):
    """Options shared by every baseline.

    Attributes:
        negative_weights: what to do with negative event weights, which neither xgboost nor
            a neighbour vote can use: ``"error"`` (refuse), ``"zero"`` (drop those events) or
            ``"abs"`` (use their absolute value).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    negative_weights: Literal["error", "zero", "abs"] = "error"


class KNNOptions(BaselineOptions):
    """k-nearest-neighbours options.

    kNN keeps its whole training set and every prediction searches it, so time and memory
    grow with the training size (and, in many dimensions, the search is close to brute
    force). Training sets larger than ``max_train_events`` are therefore subsampled at
    random (seeded) — see docs/baselines.md for measured scoring speeds.

    Attributes:
        n_neighbors: neighbours that vote.
        distance_weighting: weight each vote by 1 / distance as well as by the event weight.
        max_train_events: cap on the stored training events.
        algorithm: scikit-learn neighbour search (``auto``, ``kd_tree``, ``ball_tree``,
            ``brute``).
        n_jobs: threads of the neighbour search.

    Example:
        >>> KNNOptions(n_neighbors=15).max_train_events
        50000
    """

    n_neighbors: int = Field(50, gt=0)
    distance_weighting: bool = False
    max_train_events: int = Field(50_000, gt=0)
    algorithm: Literal["auto", "kd_tree", "ball_tree", "brute"] = "auto"
    n_jobs: int = Field(2, gt=0)


class BDTOptions(BaselineOptions):
    """Gradient-boosted decision trees (xgboost, ``hist`` method) options.

    Attributes:
        n_estimators: boosting rounds.
        max_depth: depth of each tree.
        learning_rate: shrinkage of each tree.
        subsample: fraction of events drawn (seeded) for each tree.
        colsample_bytree: fraction of features drawn for each tree.
        min_child_weight: minimum summed hessian (≈ event weight) in a leaf.
        reg_lambda: L2 regularisation of the leaf values.
        max_bin: histogram bins per feature.
        early_stopping_rounds: with a validation sample, stop when the validation loss has not
            improved for this many rounds and keep the best round; ``None`` runs every round.
        nthread: threads of xgboost.

    Example:
        >>> BDTOptions().n_estimators, BDTOptions().nthread
        (200, 2)
    """

    n_estimators: int = Field(200, gt=0)
    max_depth: int = Field(6, gt=0)
    learning_rate: float = Field(0.1, gt=0, le=1)
    subsample: float = Field(1.0, gt=0, le=1)
    colsample_bytree: float = Field(1.0, gt=0, le=1)
    min_child_weight: float = Field(1.0, ge=0)
    reg_lambda: float = Field(1.0, ge=0)
    max_bin: int = Field(256, ge=2)
    early_stopping_rounds: int | None = Field(20, gt=0)
    nthread: int = Field(2, gt=0)


_OPTIONS: dict[str, type[BaselineOptions]] = {
    "knn": KNNOptions,
    "bdt": BDTOptions,
    "pbdt": BDTOptions,
}

#: Names of the baseline models (``--model`` values handled here).
BASELINE_NAMES: tuple[str, ...] = tuple(_OPTIONS)


def baseline_options(
    name: str, options: Mapping[str, Any] | None = None, *, where: str = "model.options"
) -> BaselineOptions:
    """Validate the ``options`` of baseline ``name``; a bad or foreign key raises ConfigError.

    Args:
        name: ``knn``, ``bdt`` or ``pbdt``.
        options: option values (missing ones take their defaults).
        where: where the options come from, for error messages (e.g. the config file).

    Example:
        >>> baseline_options("knn", {"n_neighbors": 5}).n_neighbors
        5
        >>> try:
        ...     baseline_options("bdt", {"n_neighbors": 5})
        ... except ConfigError as err:
        ...     print(err.where, "-", err.what)
        model.options.n_neighbors - 'n_neighbors' is not an option of model 'bdt'
    """
    if name not in _OPTIONS:
        raise ConfigError(
            f"unknown baseline model {name!r}",
            where="model",
            fix=f"choose one of {', '.join(BASELINE_NAMES)}",
        )
    schema = _OPTIONS[name]
    options = dict(options or {})
    known = list(schema.model_fields)
    for key in options:
        if key not in schema.model_fields:
            raise ConfigError(
                f"{key!r} is not an option of model {name!r}",
                where=f"{where}.{key}",
                fix=f"its options are: {', '.join(known)}",
            )
    try:
        return schema.model_validate(options)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f"{first['msg']} (got {first.get('input')!r})",
            where=f"{where}.{key}",
            fix="see docs/baselines.md for the options of each model",
        ) from None
