"""Metrics against hand computations and brute-force loops; per-mass evaluation; sculpting."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from hep_pnn.data import EventTable
from hep_pnn.errors import DataError
from hep_pnn.evaluation import (
    ExtrapolationWarning,
    MassMetrics,
    auc_vs_mass,
    background_rejection,
    binary_metrics,
    evaluate_masses,
    representation_2d,
    sculpting,
    significance_ratio,
    threshold_at_efficiency,
)

MASSES = (500.0, 1000.0)


def toy_table(seed: int = 0, *, n_signal: int = 400, n_background: int = 1500) -> EventTable:
    """Features (a, f26): signal f26 peaks at m/1000; background f26 is broad."""
    rng = np.random.default_rng(seed)
    parts = []
    for mass in MASSES:
        features = np.column_stack(
            [rng.normal(1.0, 1.0, n_signal), rng.normal(mass / 1000, 0.1, n_signal)]
        )
        parts.append((features, np.ones(n_signal), np.full(n_signal, mass)))
    background = np.column_stack(
        [rng.normal(0.0, 1.0, n_background), rng.normal(0.75, 0.35, n_background)]
    )
    parts.append((background, np.zeros(n_background), rng.choice(MASSES, n_background)))
    features, label, mass = (np.concatenate(column) for column in zip(*parts, strict=True))
    return EventTable.from_arrays(
        features,
        label=label,
        mass=mass,
        weight=rng.uniform(0.5, 2.0, len(label)),
        feature_names=["a", "f26"],
    )


class ToyScorer:
    """A mass-aware scorer: high when f26 is near m/1000 and a is large."""

    feature_names = ("a", "f26")

    def __init__(self, training_masses=MASSES) -> None:
        self.training_masses = tuple(training_masses)

    def predict(self, features: np.ndarray, mass: np.ndarray) -> np.ndarray:
        a, f26 = features.T
        return 1 / (1 + np.exp(-(a + 2 - 8 * np.abs(f26 - np.asarray(mass) / 1000))))

    def hidden_representation(self, features: np.ndarray, mass: np.ndarray) -> np.ndarray:
        a, f26 = features.T
        return np.column_stack([a, f26 - mass / 1000, a * f26, mass / 1000])


def brute_force_significance(score, label, weight):
    """The definition, one threshold at a time: max over cuts of s/sqrt(s+b)/sqrt(N_s)."""
    total_signal = weight[label == 1].sum()
    best = -np.inf
    for cut in np.unique(score):
        passing = score >= cut
        s = weight[passing & (label == 1)].sum()
        b = weight[passing & (label == 0)].sum()
        if s > 0 and s + b > 0:
            best = max(best, s / np.sqrt(s + b) / np.sqrt(total_signal))
    return best


def brute_force_auc(score, label, weight):
    """Weighted probability that a signal event outscores a background one (ties count half)."""
    signal, background = label == 1, label == 0
    diff = score[signal][:, None] - score[background][None, :]
    pair_weight = weight[signal][:, None] * weight[background][None, :]
    wins = (diff > 0) + 0.5 * (diff == 0)
    return (wins * pair_weight).sum() / pair_weight.sum()


def test_weighted_auc_by_hand() -> None:
    score = np.array([0.9, 0.3, 0.5, 0.1])
    label = np.array([1, 1, 0, 0])
    weight = np.array([1.0, 3.0, 2.0, 1.0])
    # Pairs: (0.9 > 0.5) w=2, (0.9 > 0.1) w=1, (0.3 < 0.5) w=0, (0.3 > 0.1) w=3 -> 6 / (4*3).
    assert binary_metrics(score, label, weight)["roc_auc_weighted"] == pytest.approx(6 / 12)
    # The headline roc_auc counts every event once (as published): 3 of 4 pairs ordered.
    assert binary_metrics(score, label, weight)["roc_auc"] == pytest.approx(3 / 4)
    rng = np.random.default_rng(3)
    score = np.round(rng.uniform(size=300), 1)  # many ties
    label = rng.integers(0, 2, 300)
    weight = rng.uniform(0.1, 3.0, 300)
    expected = brute_force_auc(score, label, weight)
    assert binary_metrics(score, label, weight)["roc_auc_weighted"] == pytest.approx(expected)
    unweighted = brute_force_auc(score, label, np.ones_like(weight))
    assert binary_metrics(score, label, weight)["roc_auc"] == pytest.approx(unweighted)
    # Negative weights (sklearn refuses them): same definition, computed from the cut scan.
    weight[::7] *= -0.3
    expected = brute_force_auc(score, label, weight)
    assert binary_metrics(score, label, weight)["roc_auc_weighted"] == pytest.approx(expected)


@pytest.mark.parametrize("seed", range(5))
def test_significance_matches_brute_force_with_ties_and_weights(seed: int) -> None:
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, 200)
    score = np.round(rng.normal(label * 0.8, 1.0), 1)  # rounding makes tie groups of both classes
    weight = rng.uniform(0.2, 5.0, 200)
    ratio, cut = significance_ratio(score, label, weight)
    assert ratio == pytest.approx(brute_force_significance(score, label, weight))
    passing = score >= cut
    s, b = weight[passing & (label == 1)].sum(), weight[passing & (label == 0)].sum()
    assert ratio == pytest.approx(s / np.sqrt(s + b) / np.sqrt(weight[label == 1].sum()))


def test_significance_does_not_split_ties_and_reaches_the_edges() -> None:
    # A cut between the two 0.5 scores would give s=2, b=0 (ratio 1.0); it does not exist.
    score = np.array([0.9, 0.5, 0.5, 0.1])
    label = np.array([1, 1, 0, 0])
    weight = np.array([1.0, 1.0, 3.0, 1.0])
    assert significance_ratio(score, label, weight) == pytest.approx((1 / np.sqrt(2), 0.9))
    # Best cut is the loosest one (keeps everything): sqrt(N_s / (N_s + N_b)).
    score = np.array([0.1, 0.2, 0.3])
    label = np.array([1, 1, 0])
    assert significance_ratio(score, label)[0] == pytest.approx(np.sqrt(2 / 3))


def test_background_rejection_by_hand() -> None:
    score = np.array([0.9, 0.8, 0.3, 0.2, 0.85, 0.5, 0.1, 0.05])
    label = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    assert threshold_at_efficiency(score[:4], None, 0.5) == 0.8
    assert background_rejection(score, label, efficiency=0.5) == pytest.approx(4.0)
    weight = np.array([1, 1, 1, 1, 2, 1, 1, 1.0])
    assert background_rejection(score, label, weight, efficiency=0.5) == pytest.approx(2.5)
    # Signal weights move the cut: the first event alone carries 70% of the signal weight.
    weight = np.array([7, 1, 1, 1, 1, 1, 1, 1.0])
    assert threshold_at_efficiency(score[:4], weight[:4], 0.7) == 0.9
    assert background_rejection(score, label, weight, efficiency=0.7) == np.inf


def test_evaluate_masses_scores_background_at_each_mass() -> None:
    table = toy_table()
    scorer = ToyScorer()
    metrics = evaluate_masses(scorer, table)
    assert metrics.frame["mass"].tolist() == list(MASSES)
    background = table.background()
    for mass, row in zip(MASSES, metrics.frame.itertuples(), strict=True):
        signal = table.signal(mass)
        score = np.concatenate(
            [
                scorer.predict(signal.features, signal.mass),
                scorer.predict(background.features, np.full(len(background), mass)),
            ]
        )
        label = np.r_[np.ones(len(signal)), np.zeros(len(background))]
        weight = np.r_[signal.weight, background.weight]
        assert row.roc_auc == pytest.approx(roc_auc_score(label, score))
        weighted = roc_auc_score(label, score, sample_weight=weight)
        assert row.roc_auc_weighted == pytest.approx(weighted)
        assert row.roc_auc != pytest.approx(weighted, abs=1e-4)  # the toy's weights matter
        assert row.n_signal == len(signal) and row.n_background == len(background)
    assert (metrics.frame["roc_auc"] > 0.8).all()


def test_precomputed_scores_match_the_scorer() -> None:
    table = toy_table()
    scorer = ToyScorer()
    by_mass = {m: scorer.predict(table.features, np.full(len(table), m)) for m in MASSES}
    expected = evaluate_masses(scorer, table).frame
    assert evaluate_masses(by_mass, table).frame.equals(expected)
    # A mass-blind array: each row keeps its own score at every hypothesis.
    own = scorer.predict(table.features, table.mass)
    blind = evaluate_masses(own, table).frame
    assert blind["n_signal"].tolist() == expected["n_signal"].tolist()
    assert not np.allclose(blind["roc_auc"], expected["roc_auc"])


def test_feature_columns_are_matched_by_name() -> None:
    table = toy_table()
    swapped = EventTable.from_arrays(
        table.features[:, ::-1],
        label=table.label,
        mass=table.mass,
        weight=table.weight,
        feature_names=["f26", "a"],
    )
    assert evaluate_masses(ToyScorer(), swapped).frame.equals(
        evaluate_masses(ToyScorer(), table).frame
    )
    missing = EventTable.from_arrays(
        table.features, label=table.label, mass=table.mass, feature_names=["a", "m_wwbb"]
    )
    with pytest.raises(DataError, match="f26"):
        evaluate_masses(ToyScorer(), missing)


def test_one_class_at_a_mass_is_a_clear_error() -> None:
    table = toy_table()
    with pytest.raises(DataError, match=r"no signal events.*750"):
        evaluate_masses(ToyScorer(), table, masses=[500, 750])
    with pytest.raises(DataError, match=r"no background events.*500"):
        evaluate_masses(ToyScorer(), table.select(table.is_signal))


def test_extrapolation_warning() -> None:
    table = toy_table()
    with pytest.warns(ExtrapolationWarning, match="extrapolation: mass 1000"):
        evaluate_masses(ToyScorer(training_masses=[500, 750]), table)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluate_masses(ToyScorer(), table)


def test_bootstrap_is_seeded() -> None:
    table = toy_table(n_signal=150, n_background=300)
    first = evaluate_masses(ToyScorer(), table, bootstrap=10, seed=7).frame
    again = evaluate_masses(ToyScorer(), table, bootstrap=10, seed=7).frame
    other = evaluate_masses(ToyScorer(), table, bootstrap=10, seed=8).frame
    assert first.equals(again)
    assert not np.allclose(first["roc_auc_err"], other["roc_auc_err"])
    assert ((first["roc_auc_err"] > 0.001) & (first["roc_auc_err"] < 0.1)).all()


def test_mass_metrics_round_trip_and_markdown() -> None:
    metrics = evaluate_masses(ToyScorer(), toy_table(), bootstrap=3)
    metrics.frame.loc[0, "rejection_30"] = np.inf
    restored = MassMetrics.from_dict(metrics.to_dict())
    assert restored.training_masses == MASSES
    assert np.array_equal(restored.frame.to_numpy(), metrics.frame.to_numpy())
    lines = metrics.to_markdown().splitlines()
    assert len(lines) == 2 + len(MASSES)
    assert "roc_auc" in lines[0] and "roc_auc_err" not in lines[0] and "±" in lines[2]


def test_auc_vs_mass_marks_training_and_extrapolation() -> None:
    table = toy_table()

    def signal_at(mass: float) -> EventTable:
        rng = np.random.default_rng(int(mass))
        features = np.column_stack([rng.normal(1, 1, 300), rng.normal(mass / 1000, 0.1, 300)])
        return EventTable.from_arrays(features, label=np.ones(300), feature_names=["a", "f26"])

    with pytest.warns(ExtrapolationWarning, match="1250"):
        grid = auc_vs_mass(
            ToyScorer(), masses=[500, 750, 1000, 1250], signal_factory=signal_at, background=table
        )
    assert grid["training"].tolist() == [True, False, True, False]
    assert grid["extrapolation"].tolist() == [False, False, False, True]
    assert grid["n_signal"].tolist() == [300] * 4
    assert (grid["roc_auc"] > 0.8).all()


def test_sculpting_jsd() -> None:
    rng = np.random.default_rng(5)
    n = 20_000
    features = rng.normal(size=(n, 2))
    table = EventTable.from_arrays(
        features,
        label=np.r_[np.ones(n // 4), np.zeros(n - n // 4)],
        mass=np.full(n, 1000.0),
        feature_names=["a", "f26"],
    )
    independent = sculpting(lambda x, m: x[:, 0], table, mass=1000)
    itself = sculpting(lambda x, m: x[:, 1], table, mass=1000)
    assert independent.js_divergence < 0.005
    assert itself.js_divergence > 0.2
    for result in (independent, itself):
        assert result.signal_efficiency == pytest.approx(0.5, abs=0.01)
        assert result.before.sum() == pytest.approx(1.0) and result.after.sum() == pytest.approx(1)
    with pytest.raises(DataError, match="m_wwbb"):
        sculpting(lambda x, m: x[:, 0], table, mass=1000, feature="m_wwbb")


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_representation(method: str) -> None:
    table = toy_table(n_signal=40, n_background=60)
    # One thread: t-SNE's OpenMP threads crawl on a busy two-core machine.
    with threadpool_limits(1):
        result = representation_2d(ToyScorer(), table, method=method, max_events=80, seed=2)
        again = representation_2d(ToyScorer(), table, method=method, max_events=80, seed=2)
    assert result.coordinates.shape == (80, 2) and np.isfinite(result.coordinates).all()
    assert set(np.unique(result.mass)) <= set(MASSES)
    assert np.allclose(result.coordinates, again.coordinates)
