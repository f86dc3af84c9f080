"""Baseline models: learning, event weights, mass use, save/load without pickle, bad input."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier

from hep_pnn.data import EventTable
from hep_pnn.errors import ConfigError, DataError, ModelError, OutputExistsError
from hep_pnn.models.baselines import (
    BDTBaseline,
    KNNBaseline,
    ParametricBDT,
    is_baseline_model,
    load_baseline,
    make_baseline,
)

FAST = {
    "knn": {"n_neighbors": 15},
    "bdt": {"n_estimators": 30, "max_depth": 3, "nthread": 1},
    "pbdt": {"n_estimators": 30, "max_depth": 3, "nthread": 1},
}


def toy(n: int, seed: int, *, masses: tuple[float, ...] = (500.0, 1000.0)) -> EventTable:
    """Signal centred at +1.5, background at -1.5 in two of three features."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 3))
    x[:, :2] += np.where(label == 1, 1.5, -1.5)[:, None]
    return EventTable.from_arrays(x, label=label, mass=rng.choice(masses, n))


def noise_table(n: int, seed: int) -> EventTable:
    """Labels independent of the features: every model should say ≈ 0.5 everywhere."""
    rng = np.random.default_rng(seed)
    return EventTable.from_arrays(
        rng.uniform(-1, 1, size=(n, 2)), label=rng.integers(0, 2, n), mass=np.full(n, 500.0)
    )


@pytest.fixture(scope="module")
def train() -> EventTable:
    return toy(2000, 0)


@pytest.fixture(scope="module")
def test() -> EventTable:
    return toy(1000, 1)


@pytest.mark.parametrize("name", list(FAST))
def test_learns_separable_problem(name: str, train: EventTable, test: EventTable) -> None:
    model = make_baseline(name, **FAST[name]).fit(train, seed=0)
    scores = model.predict(test.features, test.mass)
    assert scores.shape == (len(test),)
    assert scores.min() >= 0 and scores.max() <= 1
    assert roc_auc_score(test.label, scores) > 0.9
    assert model.feature_names == ("f0", "f1", "f2")
    assert model.training_masses == (500.0, 1000.0)


@pytest.mark.parametrize("name", list(FAST))
def test_zero_weights_remove_signal_from_a_region(name: str) -> None:
    table = noise_table(3000, 2)
    right = table.features[:, 0] > 0
    weight = np.where(right & (table.label == 1), 0.0, 1.0)
    probe = np.random.default_rng(3).uniform(-1, 1, size=(400, 2))
    probe_right = probe[:, 0] > 0.2
    plain = make_baseline(name, **FAST[name]).fit(table, seed=0).predict(probe, 500.0)
    weighted = make_baseline(name, **FAST[name]).fit(table.with_weight(weight), seed=0)
    scores = weighted.predict(probe, 500.0)
    assert plain[probe_right].mean() > 0.35
    assert scores[probe_right].mean() < 0.1  # only background keeps weight there
    assert abs(scores[~probe_right & (probe[:, 0] < -0.2)].mean() - 0.5) < 0.15


def test_knn_vote_matches_scikit_learn_with_unit_weights(train: EventTable) -> None:
    knn = KNNBaseline(n_neighbors=7).fit(train, seed=0)
    scaled = (train.features - train.features.mean(0)) / train.features.std(0)
    reference = KNeighborsClassifier(n_neighbors=7).fit(scaled, train.label)
    probe = toy(300, 5).features
    expected = reference.predict_proba((probe - train.features.mean(0)) / train.features.std(0))
    np.testing.assert_allclose(knn.predict(probe, 0.0), expected[:, 1], atol=1e-6)


def test_knn_subsamples_to_the_cap_with_the_seed(train: EventTable) -> None:
    first = KNNBaseline(max_train_events=500).fit(train, seed=1)
    again = KNNBaseline(max_train_events=500).fit(train, seed=1)
    other = KNNBaseline(max_train_events=500).fit(train, seed=2)
    assert first.n_stored == 500
    probe = toy(200, 6).features
    np.testing.assert_array_equal(first.predict(probe, 0.0), again.predict(probe, 0.0))
    assert not np.array_equal(first.predict(probe, 0.0), other.predict(probe, 0.0))


@pytest.mark.parametrize("name", list(FAST))
def test_scores_do_not_depend_on_the_scored_batch(name: str, train: EventTable) -> None:
    # preprocessing is fitted on training data only: scoring one event or many agrees
    model = make_baseline(name, **FAST[name]).fit(train, seed=0)
    probe = toy(40, 7)
    together = model.predict(probe.features, probe.mass)
    in_pieces = model.predict(probe.features, probe.mass, batch_size=7)
    np.testing.assert_allclose(together, in_pieces, rtol=1e-6)


def test_parametric_bdt_uses_the_mass() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    mass = rng.choice([500.0, 1000.0], size=n)
    label = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 1))
    x[label == 1, 0] = mass[label == 1] / 250 + 0.3 * x[label == 1, 0]  # signal at m / 250
    table = EventTable.from_arrays(x, label=label, mass=mass)
    pbdt = ParametricBDT(n_estimators=40, nthread=1).fit(table, seed=0)
    at_2 = pbdt.predict(np.array([[2.0], [4.0]]), np.array([500.0, 500.0]))
    at_4 = pbdt.predict(np.array([[2.0], [4.0]]), np.array([1000.0, 1000.0]))
    assert at_2[0] > at_4[0] + 0.3  # x = 2 is signal-like only for m = 500
    assert at_4[1] > 0.9  # x = 4 is signal-like for m = 1000
    blind = BDTBaseline(n_estimators=40, nthread=1).fit(table, seed=0)
    np.testing.assert_array_equal(
        blind.predict(np.array([[2.0]]), 500.0), blind.predict(np.array([[2.0]]), 1000.0)
    )


def test_parametric_bdt_needs_assigned_background_masses() -> None:
    table = toy(200, 0)
    table = table.with_mass(np.where(table.label == 1, table.mass, np.nan))
    with pytest.raises(DataError, match="no mass hypothesis"):
        ParametricBDT(n_estimators=2, nthread=1).fit(table, seed=0)


def test_bdt_history_per_round_and_early_stopping(train: EventTable, test: EventTable) -> None:
    bdt = BDTBaseline(n_estimators=200, early_stopping_rounds=5, learning_rate=0.5, nthread=1)
    bdt.fit(train, seed=0, validation=test)
    history = bdt.history
    assert history is not None
    assert {"epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy"} <= set(history)
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    assert len(history) < 200  # stopped early
    assert history["val_accuracy"].iloc[-1] > 0.9
    without_validation = BDTBaseline(n_estimators=30, early_stopping_rounds=2, nthread=1)
    assert without_validation.fit(train, seed=0).rounds == 30  # nothing to stop on


# saving ----------------------------------------------------------------------------------------


@pytest.fixture
def no_pickle(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pickle must not be used")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(np, "load", refuse)


@pytest.mark.parametrize("name", list(FAST))
def test_save_load_round_trip_without_pickle(
    name: str, train: EventTable, test: EventTable, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    model = make_baseline(name, **FAST[name]).fit(train, seed=0)
    folder = model.save(tmp_path / "model")
    for path in folder.iterdir():
        assert not path.read_bytes().startswith(b"\x80"), f"{path.name} looks like a pickle"
    meta = json.loads((folder / "model.json").read_text())
    assert meta["kind"] == name and meta["feature_names"] == ["f0", "f1", "f2"]
    request.getfixturevalue("no_pickle")
    assert is_baseline_model(folder)
    loaded = load_baseline(folder)
    assert type(loaded) is type(model)
    assert loaded.training_masses == model.training_masses
    np.testing.assert_array_equal(
        loaded.predict(test.features, test.mass), model.predict(test.features, test.mass)
    )
    with pytest.raises(OutputExistsError):
        model.save(folder)
    model.save(folder, overwrite=True)


def test_load_rejects_other_folders(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no saved baseline"):
        load_baseline(tmp_path)
    (tmp_path / "model.json").write_text('{"format": "hep-pnn-baseline", "kind": "svm"}')
    with pytest.raises(ModelError, match="unknown baseline kind"):
        load_baseline(tmp_path)


def test_damaged_payload_is_a_model_error(train: EventTable, tmp_path: Path) -> None:
    folder = BDTBaseline(n_estimators=3, nthread=1).fit(train, seed=0).save(tmp_path / "m")
    (folder / "booster.json").write_text("{not json")
    with pytest.raises(ModelError, match="cannot read"):
        load_baseline(folder)


# bad input --------------------------------------------------------------------------------------


def test_option_of_another_model_is_named() -> None:
    with pytest.raises(ConfigError, match=r"model\.options\.n_neighbors.*'bdt'"):
        make_baseline("bdt", n_neighbors=5)
    with pytest.raises(ConfigError, match=r"max_depth"):
        make_baseline("pbdt", max_depth=0)
    with pytest.raises(ConfigError, match="unknown baseline model 'svm'"):
        make_baseline("svm")


@pytest.mark.parametrize("name", list(FAST))
def test_single_class_training_set(name: str) -> None:
    table = toy(100, 0)
    with pytest.raises(DataError, match="only background events"):
        make_baseline(name).fit(table.background(), seed=0)


def test_negative_weights_policy() -> None:
    table = toy(400, 0)
    weight = np.where(np.arange(400) == 7, -1.0, 1.0)
    with pytest.raises(DataError, match="row 8"):
        KNNBaseline().fit(table.with_weight(weight), seed=0)
    for policy in ("zero", "abs"):
        model = BDTBaseline(n_estimators=5, negative_weights=policy, nthread=1)
        assert model.fit(table.with_weight(weight), seed=0).fitted


def test_wrong_number_of_features(train: EventTable) -> None:
    model = KNNBaseline().fit(train, seed=0)
    with pytest.raises(ModelError, match="3 features"):
        model.predict(np.zeros((2, 4)), np.zeros(2))
    with pytest.raises(ModelError, match="not trained"):
        BDTBaseline().predict(np.zeros((2, 3)), np.zeros(2))


def test_damaged_knn_arrays_are_a_model_error(train: EventTable, tmp_path: Path) -> None:
    folder = KNNBaseline().fit(train, seed=0).save(tmp_path / "m")
    (folder / "model.safetensors").write_bytes(b"\x00" * 16)
    with pytest.raises(ModelError, match="cannot read"):
        load_baseline(folder)
