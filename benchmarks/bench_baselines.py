"""Speed of the baseline models on HEPMASS-like events (the built-in generator).

(a) BDT: ``BDTBaseline.fit`` on ``--events`` events (default 1M, 2 threads; goal ≤ 60 s),
    as a ratio to plain ``xgboost.train`` with the same parameters in the same run (the
    cost of our wrapper: weights, history, validation checks).
(b) kNN: scoring ``--score`` events (default 100k) against training sets of increasing
    size up to the documented cap, as a ratio to scikit-learn's own ``predict_proba``
    on the same points; shows how kNN time grows with the training size.

Usage: .venv/bin/python benchmarks/bench_baselines.py [--events 1000000] [--score 100000]
       [--knn-sizes 12500,25000,50000] [--rounds 200]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import xgboost as xgb
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier

from hep_pnn.data import EventTable
from hep_pnn.data.generator import generate
from hep_pnn.models.baselines import BDTBaseline, KNNBaseline
from hep_pnn.training.weights import training_weights


def hepmass_like(n_events: int, *, seed: int) -> EventTable:
    """Half signal spread over the five HEPMASS masses, half background; the generator's
    cross-section weights normalised per class, as ``training.weights.normalise: classes``."""
    per_mass = n_events // 10
    table = generate(n_signal_per_mass=per_mass, n_background=n_events - 5 * per_mass, seed=seed)
    return table.with_weight(training_weights(table, np.arange(len(table)), normalise="classes"))


def timed(function: object, *args: object, **kwargs: object) -> tuple[object, float, float]:
    """Result, wall seconds and CPU seconds of this process (less sensitive to other jobs)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)  # type: ignore[operator]
    return result, time.perf_counter() - start, time.process_time() - cpu


def bench_bdt(train: EventTable, test: EventTable, *, rounds: int) -> None:
    model = BDTBaseline(n_estimators=rounds, nthread=2)
    _, ours, ours_cpu = timed(model.fit, train, seed=0)
    auc = roc_auc_score(test.label, model.predict(test.features, test.mass))
    params = model._params(np.random.default_rng(0))  # the same parameters, seed included

    def plain() -> xgb.Booster:
        matrix = xgb.QuantileDMatrix(
            train.features, label=train.label, weight=train.weight, max_bin=256, nthread=2
        )
        evals = [(matrix, "train")]
        return xgb.train(params, matrix, num_boost_round=rounds, evals=evals, verbose_eval=False)

    _, reference, reference_cpu = timed(plain)
    print(
        f"BDT fit, {len(train):,} events x {train.n_features} features, {rounds} rounds, "
        f"depth 6, 2 threads: {ours:.1f} s wall, {ours_cpu:.1f} s CPU (goal <= 60 s); "
        f"plain xgboost.train {reference:.1f} s wall, {reference_cpu:.1f} s CPU; "
        f"wall ratio {ours / reference:.2f}; test AUC (all masses) {auc:.3f}"
    )


def bench_knn(train: EventTable, test: EventTable, *, sizes: list[int], n_score: int) -> None:
    probe = test.select(np.sort(np.random.default_rng(3).permutation(len(test))[:n_score]))
    for size in sizes:
        model = KNNBaseline(max_train_events=size, n_jobs=2)
        _, fit_seconds, _ = timed(model.fit, train, seed=0)
        scores, ours, ours_cpu = timed(model.predict, probe.features, probe.mass)
        points = model._arrays
        scaled = (probe.features - points["mean"]) / points["scale"]
        reference_model = KNeighborsClassifier(n_neighbors=50, n_jobs=2)
        reference_model.fit(points["points"], points["label"])
        _, reference, _ = timed(reference_model.predict_proba, scaled)
        auc = roc_auc_score(probe.label, scores)
        print(
            f"kNN (k=50) trained on {size:,} events (fit {fit_seconds:.1f} s): scoring "
            f"{len(probe):,} events {ours:.1f} s ({ours_cpu:.1f} s CPU) = "
            f"{len(probe) / ours:,.0f} events/s; "
            f"sklearn predict_proba {reference:.1f} s; ratio {ours / reference:.2f}; AUC {auc:.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--score", type=int, default=100_000)
    parser.add_argument("--knn-sizes", default="12500,25000,50000")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    train, seconds, _ = timed(hepmass_like, args.events, seed=1)
    test = hepmass_like(max(args.score, 100_000), seed=2)
    print(f"generated {len(train):,} training events in {seconds:.1f} s")
    bench_bdt(train, test, rounds=args.rounds)
    sizes = [int(size) for size in args.knn_sizes.split(",")]
    bench_knn(train, test, sizes=sizes, n_score=args.score)


if __name__ == "__main__":
    main()
