"""Speed of the evaluation metrics, as ratios against baselines measured in the same run.

(a) ``significance_ratio`` (every cut at once: one sort + cumulative sums) against the
    textbook loop over thresholds (one masked sum per cut); both give the same maximum.
(b) the full per-mass metric set of ``evaluate_masses`` (ROC-AUC, PR-AUC, three background
    rejections, significance) on precomputed scores against sklearn's ``roc_auc_score`` alone
    on the same events: the price of the extra metrics.
Times are the best of ``--repeats`` runs.

Usage: .venv/bin/python benchmarks/bench_evaluation.py [--events 200000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from sklearn.metrics import roc_auc_score

from hep_pnn.data import EventTable
from hep_pnn.evaluation import evaluate_masses, significance_ratio

MASSES = (500.0, 750.0, 1000.0, 1250.0, 1500.0)


def best_time(function: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def loop_significance(score: np.ndarray, label: np.ndarray, weight: np.ndarray) -> float:
    total_signal = weight[label == 1].sum()
    best = -np.inf
    for cut in np.unique(score):
        passing = score >= cut
        s = weight[passing & (label == 1)].sum()
        b = weight[passing & (label == 0)].sum()
        if s > 0:
            best = max(best, s / np.sqrt(s + b) / np.sqrt(total_signal))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--loop-events", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    n = args.loop_events
    label = rng.integers(0, 2, n)
    score = np.round(rng.normal(label, 1.0), 3)  # about 6000 distinct cuts, with ties
    weight = rng.uniform(0.5, 2.0, n)
    assert np.isclose(
        significance_ratio(score, label, weight)[0], loop_significance(score, label, weight)
    )
    fast = best_time(lambda: significance_ratio(score, label, weight), args.repeats)
    slow = best_time(lambda: loop_significance(score, label, weight), 1)
    print(
        f"(a) significance, {n} events, {np.unique(score).size} cuts: "
        f"vectorised {fast * 1e3:.1f} ms, loop {slow * 1e3:.0f} ms -> {slow / fast:.0f}x faster"
    )

    n = args.events
    n_signal = n // (2 * len(MASSES))
    label = np.r_[np.ones(n_signal * len(MASSES)), np.zeros(n // 2)].astype(np.int8)
    mass = np.r_[np.repeat(MASSES, n_signal), rng.choice(MASSES, n // 2)]
    table = EventTable.from_arrays(
        np.zeros((label.size, 1)), label=label, mass=mass, weight=rng.uniform(0.5, 2, label.size)
    )
    scores = {m: rng.normal(label, 1.0) for m in MASSES}
    full = best_time(lambda: evaluate_masses(scores, table), args.repeats)

    def auc_only() -> None:
        for m in MASSES:
            keep = (label == 0) | (mass == m)
            roc_auc_score(label[keep], scores[m][keep], sample_weight=table.weight[keep])

    baseline = best_time(auc_only, args.repeats)
    print(
        f"(b) {label.size} events, {len(MASSES)} masses: all metrics {full:.2f} s, "
        f"sklearn ROC-AUC alone {baseline:.2f} s -> {full / baseline:.1f}x the AUC-only time"
    )


if __name__ == "__main__":
    main()
