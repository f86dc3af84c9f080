"""Every registered model family through ``train_experiment`` and ``load_run`` (on events or
on jets, by its ``data_kind``), plus one family defined here, trained without any change to
``hep_pnn/training/runs.py``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from hep_pnn.data import EventTable
from hep_pnn.data.jets.layout import write_jets_parquet
from hep_pnn.data.jets.toy import toy_jets
from hep_pnn.errors import ConfigError
from hep_pnn.evaluation.jet_runs import score_jets
from hep_pnn.scorer import Scorer
from hep_pnn.training import ExperimentConfig, estimators, load_run, train_experiment
from hep_pnn.training.estimators import family_names, family_of, register_family
from hep_pnn.training.jet_data import load_labelled_jets

#: Small options per family so each trains in about a second; a family not listed gets none.
OPTIONS: dict[str, dict[str, Any]] = {
    "knn": {"n_neighbors": 20},
    "bdt": {"n_estimators": 20, "nthread": 1},
    "pbdt": {"n_estimators": 20, "nthread": 1},
    **{name: {"hidden": [16]} for name in ("pnn", "affine", "individual", "blind", "mlp")},
    "jet_bdt": {"n_estimators": 20, "nthread": 1},
    "jet_mlp": {"hidden": [16], "features": ["jet_mass", "tau32", "tau21", "n_constituents"]},
    "jet_cnn": {"image_size": 16, "channels": [4, 4], "pool_after": [1, 2], "dense": [8]},
    **{
        name: {"n_particles": 16, "edge_convs": [{"k": 4, "channels": [8]}], "fc": [8]}
        for name in ("particlenet_lite", "particlenet", "parametric_particlenet")
    },
}


def _config(preset: str | None, options: dict[str, Any]) -> ExperimentConfig:
    return ExperimentConfig.model_validate(
        {
            "data": {"masses": [500, 1000], "n_signal_per_mass": 300, "n_background": 600},
            "model": {"preset": preset, "options": options},
            "training": {"epochs": 3, "batch_size": 64, "threads": 1, "seed": 3},
        }
    )


def _auc_at_1000(model: Scorer, test: EventTable) -> float:
    """ROC AUC of signal at 1000 GeV against all background, everything scored at 1000."""
    keep = (test.mass == 1000.0) | ~test.is_signal
    features = test.features[keep]
    scores = model.predict(features, np.full(len(features), 1000.0))
    return float(roc_auc_score(test.label[keep], scores))


EVENT_FAMILIES = [
    n for n in family_names() if getattr(family_of(n), "data_kind", "events") == "events"
]
JET_FAMILIES = [n for n in family_names() if n not in EVENT_FAMILIES]


@pytest.fixture(scope="module")
def jet_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Toy top and QCD jets, the tops at one resonance mass (for the parametric tagger)."""
    path = tmp_path_factory.mktemp("jets") / "jets.parquet"
    write_jets_parquet(toy_jets(160, 160, seed=5), path)
    frame = pd.read_parquet(path)
    frame["resonance_mass"] = np.where(frame["is_signal_new"] == 1, 1000.0, np.nan)
    frame.to_parquet(path)
    return path


# resume, the CLI and the parametric interpolation: tests/test_jet_training.py
@pytest.mark.parametrize("name", JET_FAMILIES)
def test_every_jet_family_trains_evaluates_and_loads(
    name: str, jet_file: Path, tmp_path: Path
) -> None:
    config = ExperimentConfig.model_validate(
        {
            "data": {"source": "jets", "paths": [str(jet_file)], "parameter": "resonance_mass"},
            "model": {"preset": name, "options": OPTIONS[name]},
            "training": {"epochs": 4, "batch_size": 32, "learning_rate": 3e-3, "threads": 1},
        }
    )
    run = train_experiment(config, tmp_path / "run", progress=False)
    assert {"config.yaml", "model", "history.csv", "train.log"} <= {
        p.name for p in run.run_dir.iterdir()
    }
    test = load_labelled_jets(config.data, test=True)
    metrics, _ = score_jets(run.model, test)  # what pnn evaluate writes (tests/test_jet_*.py)
    assert (metrics["auc"] > 0.75).all(), metrics  # chance is 0.5
    loaded = load_run(run.run_dir)
    assert type(loaded.model) is type(run.model)
    again, _ = score_jets(loaded.model, test)
    pd.testing.assert_frame_equal(again, metrics)


def test_jet_baselines_score_constituents_like_their_features(jet_file: Path) -> None:
    """Jets without stored features get them from their constituents (the same code)."""
    run = load_run(_trained(jet_file, "jet_bdt"))
    jets = load_labelled_jets(run.config.data, test=True).jets
    from_features = run.model.predict_jets(jets)  # type: ignore[attr-defined]
    from_constituents = run.model.predict(jets.constituents, None)
    assert from_features.shape == (len(jets),)
    # toy features use the generated prong axes, not kT axes: same mass, close τ ratios
    assert np.corrcoef(from_features, from_constituents)[0, 1] > 0.8


def _trained(jet_file: Path, name: str) -> Path:
    config = ExperimentConfig.model_validate(
        {
            "data": {"source": "jets", "paths": [str(jet_file)]},
            "model": {"preset": name, "options": OPTIONS[name]},
        }
    )
    run_dir = jet_file.parent / name
    if not run_dir.is_dir():
        train_experiment(config, run_dir, progress=False)
    return run_dir


def test_jet_baselines_refuse_unknown_features() -> None:
    config = ExperimentConfig.model_validate(
        {
            "data": {"source": "jets", "paths": ["x.parquet"]},
            "model": {"preset": "jet_bdt", "options": {"features": ["jet_mass", "m_jj"]}},
        }
    )
    with pytest.raises(ConfigError, match="'m_jj' is not a jet-level feature") as err:
        family_of("jet_bdt").check(config, where="config.yaml")
    assert "model.options.features" in err.value.where
    bad_option = config.model.model_copy(update={"options": {"n_neighbors": 3}})
    with pytest.raises(ConfigError, match="n_neighbors"):
        family_of("jet_bdt").check(config.model_copy(update={"model": bad_option}), where="c")


# the event families
@pytest.mark.parametrize("name", EVENT_FAMILIES)
def test_every_family_trains_scores_and_loads(name: str, tmp_path: Path) -> None:
    run = train_experiment(_config(name, OPTIONS.get(name, {})), tmp_path / "run", progress=False)
    assert isinstance(run.model, Scorer)
    assert run.training_masses == (500.0, 1000.0)
    assert {"config.yaml", "model", "history.csv", "history.json", "train.log"} <= {
        p.name for p in run.run_dir.iterdir()
    }
    test = run.load_test_data()
    auc = _auc_at_1000(run.model, test)
    assert auc > 0.6  # chance is 0.5
    loaded = load_run(tmp_path / "run")
    assert type(loaded.model) is type(run.model)
    assert loaded.config == run.config
    pd.testing.assert_frame_equal(loaded.history, run.history)
    mass = np.full(len(test), 750.0)
    np.testing.assert_allclose(
        loaded.model.predict(test.features, mass), run.model.predict(test.features, mass)
    )


def test_unknown_family_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="unknown model preset 'nope'") as err:
        family_of("nope")
    assert "knn" in err.value.fix and "affine" in err.value.fix
    with pytest.raises(ValueError, match="already registered"):
        register_family("affine", family_of("affine"))


class CentroidScorer:
    """Scores by the projection on the line from the background mean to the signal mean."""

    def __init__(
        self,
        direction: np.ndarray,
        middle: float,
        *,
        feature_names: tuple[str, ...],
        training_masses: tuple[float, ...],
    ) -> None:
        self.direction, self.middle = direction, middle
        self.feature_names, self.training_masses = feature_names, training_masses

    def predict(self, features: np.ndarray, mass: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(features @ self.direction - self.middle)))


class CentroidFamily:
    """A mass-independent family written outside the package, registered by the test."""

    resumable: ClassVar[bool] = False
    fitted = 0

    def check(self, config: ExperimentConfig, *, where: str) -> None:
        if config.model.options:
            raise ConfigError("the centroid model has no options", where=where)

    def fit(
        self,
        config: ExperimentConfig,
        table: EventTable,
        run_dir: Path,
        log: Callable[[str], None],
        *,
        resume: bool,
        progress: bool,
    ) -> Scorer:
        type(self).fitted += 1
        signal = table.features[table.is_signal].mean(axis=0)
        background = table.features[~table.is_signal].mean(axis=0)
        direction = signal - background
        middle = float((signal + background) @ direction / 2)
        (run_dir / "model").mkdir()
        (run_dir / "model" / "centroid.json").write_text(
            json.dumps(
                {
                    "direction": direction.tolist(),
                    "middle": middle,
                    "feature_names": list(table.feature_names),
                    "training_masses": [float(m) for m in table.signal_masses],
                }
            )
        )
        rows = [{"epoch": 1, "val_auc_mean": 0.5}]
        pd.DataFrame(rows).to_csv(run_dir / "history.csv", index=False)
        (run_dir / "history.json").write_text(json.dumps(rows))
        log("centroid fitted")
        return self.load(run_dir / "model")

    def load(self, directory: Path) -> Scorer:
        saved = json.loads((directory / "centroid.json").read_text())
        return CentroidScorer(
            np.array(saved["direction"]),
            saved["middle"],
            feature_names=tuple(saved["feature_names"]),
            training_masses=tuple(saved["training_masses"]),
        )


@pytest.fixture
def centroid(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr(estimators, "_FAMILIES", dict(estimators._FAMILIES))
    register_family("centroid", CentroidFamily())
    yield "centroid"


def test_a_family_defined_outside_the_package(centroid: str, tmp_path: Path) -> None:
    run = train_experiment(_config(centroid, {}), tmp_path / "run", progress=False)
    assert isinstance(run.model, CentroidScorer) and CentroidFamily.fitted == 1
    assert run.training_masses == (500.0, 1000.0)
    assert "centroid fitted" in (tmp_path / "run" / "train.log").read_text()
    assert _auc_at_1000(run.model, run.load_test_data()) > 0.6
    loaded = load_run(tmp_path / "run")
    assert isinstance(loaded.model, CentroidScorer)
    np.testing.assert_array_equal(loaded.model.direction, run.model.direction)
    with pytest.raises(ConfigError, match="centroid run cannot be resumed"):
        train_experiment(None, tmp_path / "run", resume=True, progress=False)
    with pytest.raises(ConfigError, match="has no options"):
        train_experiment(_config(centroid, {"k": 1}), tmp_path / "other", progress=False)
    assert not (tmp_path / "other").exists()
