"""Calibrate the built-in generator: per-mass classifier AUCs vs the published HEPMASS ones.

For each HEPMASS mass, a gradient-boosted classifier (sklearn HistGradientBoosting, a fast
and strong proxy for the per-mass networks) is trained on generated signal at that mass vs
generated background, and its test AUC is printed beside the published individual-network
AUC. A mass-blind classifier (all masses, no mass input) is a sanity check (published ≈ .69
at 500 GeV).

Usage: .venv/bin/python benchmarks/calibrate_generator.py [--events 60000] [--seed 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from hep_pnn.data import HEPMASS_MASSES
from hep_pnn.data.generator import generate

PUBLISHED = dict(zip(HEPMASS_MASSES, (0.775, 0.926, 0.974, 0.989, 0.994), strict=True))


def _fit_auc(x_train, y_train, x_test, y_test, seed: int) -> float:
    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=seed)
    model.fit(x_train, y_train)
    return float(roc_auc_score(y_test, model.predict_proba(x_test)[:, 1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=60_000, help="signal events per mass")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n = args.events
    start = time.perf_counter()
    table = generate(
        masses=HEPMASS_MASSES,
        n_signal_per_mass=n,
        n_background=n * len(HEPMASS_MASSES),
        seed=args.seed,
    )
    print(f"generated {len(table)} events in {time.perf_counter() - start:.1f} s")
    rng = np.random.default_rng(args.seed)
    is_train = rng.random(len(table)) < 0.5
    background = table.label == 0
    # Each mass gets its own disjoint share of the background, like the published test.
    background_slot = rng.integers(len(HEPMASS_MASSES), size=len(table))
    print("| mass (GeV) | measured AUC | published | difference | mass-blind AUC |")
    print("|---|---|---|---|---|")
    blind = HistGradientBoostingClassifier(max_iter=200, random_state=args.seed)
    blind.fit(table.features[is_train], table.label[is_train])
    for slot, mass in enumerate(HEPMASS_MASSES):
        rows = (table.label == 1) & (table.mass == mass) | background & (background_slot == slot)
        x, y = table.features[rows], table.label[rows]
        train = is_train[rows]
        auc = _fit_auc(x[train], y[train], x[~train], y[~train], args.seed)
        blind_auc = roc_auc_score(y[~train], blind.predict_proba(x[~train])[:, 1])
        print(
            f"| {mass:g} | {auc:.3f} | {PUBLISHED[mass]:.3f} | {auc - PUBLISHED[mass]:+.3f} "
            f"| {blind_auc:.3f} |"
        )
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
