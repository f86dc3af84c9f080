"""Training baselines from an experiment config into run directories."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from hep_pnn.data import EventTable, write_parquet
from hep_pnn.errors import ConfigError, OutputExistsError
from hep_pnn.models.baselines import BDTBaseline, KNNBaseline, ParametricBDT, load_baseline
from hep_pnn.training import BackgroundMassConfig, ExperimentConfig
from hep_pnn.training.baselines import (
    MODEL_NAMES,
    assign_background_masses,
    is_baseline,
    train_baseline,
    with_model,
)


@pytest.fixture(scope="module")
def events_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,600 toy events: signal near +m/1000 in two features, background near -0.5."""
    rng = np.random.default_rng(0)
    n = 1600
    label = rng.integers(0, 2, n)
    mass = np.where(label == 1, rng.choice([500.0, 1000.0], n), np.nan)
    x = rng.normal(size=(n, 3))
    x[:, :2] += np.where(label == 1, np.nan_to_num(mass) / 1000, -0.5)[:, None]
    table = EventTable.from_arrays(x, label=label, mass=mass, weight=rng.uniform(0.5, 1.5, n))
    return write_parquet(table, tmp_path_factory.mktemp("data") / "events.parquet")


@pytest.fixture
def config(events_file: Path) -> Callable[..., ExperimentConfig]:
    def make(model: str, **options: object) -> ExperimentConfig:
        data = {"source": "files", "paths": [str(events_file)], "test_fraction": 0.3}
        return ExperimentConfig.model_validate(
            {"data": data, "model": {"preset": model, "options": options}}
        )

    return make


@pytest.mark.parametrize(
    ("name", "options", "kind"),
    [
        ("knn", {"n_neighbors": 20}, KNNBaseline),
        ("bdt", {"n_estimators": 20, "nthread": 1}, BDTBaseline),
        ("pbdt", {"n_estimators": 20, "nthread": 1}, ParametricBDT),
    ],
)
def test_run_directory_like_a_network(
    name: str, options: dict, kind: type, tmp_path: Path, config: Callable
) -> None:
    run = train_baseline(config(name, **options), tmp_path / "run", progress=False)
    files = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"config.yaml", "model", "history.csv", "history.json", "train.log"} <= files
    assert isinstance(run.model, kind)
    assert run.training_masses == (500.0, 1000.0)
    best = run.history["val_auc_mean"].dropna()
    assert len(best) == 1 and 0.5 < best.iloc[0] <= 1.0
    assert {"val_auc_m500", "val_auc_m1000"} <= set(run.history)
    if name != "knn":
        assert len(run.history) == 20  # one row per boosting round
        assert run.history["train_loss"].is_monotonic_decreasing
    test = run.load_test_data()
    loaded = load_baseline(tmp_path / "run" / "model")
    scores = loaded.predict(test.features, test.mass)
    np.testing.assert_array_equal(scores, run.model.predict(test.features, test.mass))
    assert roc_auc_score(test.label, scores) > 0.8


def test_same_config_same_model(tmp_path: Path, config: Callable) -> None:
    first = train_baseline(config("knn", max_train_events=300), tmp_path / "a", progress=False)
    again = train_baseline(config("knn", max_train_events=300), tmp_path / "b", progress=False)
    test = first.load_test_data()
    np.testing.assert_array_equal(
        first.model.predict(test.features, test.mass), again.model.predict(test.features, test.mass)
    )


def test_existing_run_needs_overwrite(tmp_path: Path, config: Callable) -> None:
    run_dir = tmp_path / "run"
    train_baseline(config("knn"), run_dir, progress=False)
    with pytest.raises(OutputExistsError, match="already exists"):
        train_baseline(config("knn"), run_dir, progress=False)
    train_baseline(config("knn", n_neighbors=5), run_dir, overwrite=True, progress=False)
    assert "n_neighbors: 5" in (run_dir / "config.yaml").read_text()
    other = tmp_path / "precious"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(OutputExistsError, match="not a run directory"):
        train_baseline(config("knn"), other, overwrite=True, progress=False)
    assert (other / "notes.txt").read_text() == "keep me"


def table_with_unassigned_background() -> EventTable:
    return EventTable.from_arrays(
        np.zeros((7, 1)),
        label=[1, 1, 1, 0, 0, 0, 0],
        mass=[500, 500, 1000, np.nan, np.nan, np.nan, np.nan],
        weight=[1, 1, 1, 2, 2, 2, 2],
    )


def test_background_masses_identical_and_uniform() -> None:
    table = table_with_unassigned_background()
    identical = assign_background_masses(table, BackgroundMassConfig(), seed=0)
    assert len(identical) == 7
    assert set(identical.background().mass.tolist()) <= {500.0, 1000.0}
    again = assign_background_masses(table, BackgroundMassConfig(), seed=0)
    np.testing.assert_array_equal(identical.mass, again.mass)
    uniform = assign_background_masses(
        table, BackgroundMassConfig(strategy="uniform", range=(400, 1600)), seed=1
    )
    masses = uniform.background().mass
    assert ((masses >= 400) & (masses <= 1600)).all() and len(set(masses.tolist())) == 4


def test_background_masses_copy() -> None:
    copied = assign_background_masses(
        table_with_unassigned_background(), BackgroundMassConfig(strategy="copy"), seed=0
    )
    background = copied.background()
    assert len(background) == 8
    assert sorted(background.mass.tolist()) == [500.0] * 4 + [1000.0] * 4
    assert background.weight.sum() == pytest.approx(8.0)  # total weight kept


def test_model_names_and_override(config: Callable) -> None:
    assert {"knn", "bdt", "pbdt", "mlp", "pnn", "affine", "individual"} <= set(MODEL_NAMES)
    assert is_baseline("pbdt") and not is_baseline("affine") and not is_baseline(None)
    assert with_model(config("affine"), "bdt").model.preset == "bdt"
    with pytest.raises(ConfigError, match=r"unknown model 'svm'.*knn"):
        with_model(config("affine"), "svm")
    with pytest.raises(ConfigError, match=r"model\.options\.n_neighbors.*'bdt'"):
        with_model(config("knn", n_neighbors=3), "bdt")
    with pytest.raises(ConfigError, match="not a baseline"):
        train_baseline(config("mlp"), "/tmp/unused-run", progress=False)
