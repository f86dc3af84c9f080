"""``apply_scores``: scores for every mass hypothesis, streamed into Parquet, CSV or ROOT."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import uproot

from hep_pnn.apply import apply_scores, parse_feature_map, parse_masses, score_column
from hep_pnn.errors import ConfigError, DataError, ModelError, OutputExistsError
from hep_pnn.evaluation.scoring import ExtrapolationWarning
from hep_pnn.models import build_model, preset, save_model

FEATURES = ["a", "b", "c"]
MASSES = [500.0, 750.0, 812.5]


@pytest.fixture(scope="module")
def net():
    """A small AffinePNN with fitted preprocessing, trained masses 500–1000 GeV."""
    model = build_model(preset("affine", hidden=(16, 8)), feature_names=FEATURES, seed=7)
    rng = np.random.default_rng(7)
    model.fit_preprocessing(rng.normal(5, 3, (500, 3)), rng.uniform(500, 1000, 500))
    model.training_masses = (500.0, 750.0, 1000.0)
    return model


@pytest.fixture(scope="module")
def saved_model(net, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("model") / "model"
    save_model(net, directory)
    return directory


def _frame(n: int, *, seed: int, names=FEATURES) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(5, 3, (n, len(names))).astype(np.float32), columns=names)
    frame["other"] = np.arange(n, dtype=np.int64)  # a column the model does not use
    return frame


def _expected(net, features: np.ndarray) -> dict[str, np.ndarray]:
    return {
        score_column(m): net.predict(features, np.full(len(features), m, np.float32))
        for m in MASSES
    }


def _assert_scores(table: pd.DataFrame, expected: dict[str, np.ndarray]) -> None:
    assert list(table.columns) == list(expected)
    for name, values in expected.items():
        np.testing.assert_allclose(table[name].to_numpy(), values, atol=1e-6, rtol=0)


def test_parquet_in_chunks_matches_direct_scoring(net, saved_model: Path, tmp_path: Path) -> None:
    frame = _frame(1_000, seed=1)
    frame.to_parquet(tmp_path / "in.parquet", row_group_size=300)
    summary = apply_scores(
        saved_model,
        tmp_path / "in.parquet",
        masses=MASSES,
        output=tmp_path / "s.parquet",
        chunk_size=128,
    )
    assert summary.events == 1_000
    assert summary.columns == ("score_m500", "score_m750", "score_m812p5")
    scores = pd.read_parquet(tmp_path / "s.parquet")
    _assert_scores(scores, _expected(net, frame[FEATURES].to_numpy()))
    # Different masses give different scores (the mass really reaches the model).
    assert not np.allclose(scores["score_m500"], scores["score_m812p5"])


def test_root_output_is_a_friend_of_chained_root_inputs(net, tmp_path: Path) -> None:
    frames = [_frame(700, seed=2), _frame(450, seed=3)]
    paths = []
    for index, frame in enumerate(frames):
        path = tmp_path / f"in{index}.root"
        with uproot.recreate(path) as file:
            # mktree: a plain dict assignment would write an RNTuple, not a TTree.
            file.mktree("events", dict(frame.dtypes)).extend(
                {name: frame[name].to_numpy() for name in frame.columns}
            )
            file.mktree("other_tree", {"x": np.float64}).extend({"x": np.zeros(3)})
        paths.append(path)

    apply_scores(
        net, paths, masses=MASSES, output=tmp_path / "scores.root", tree="events", chunk_size=200
    )

    with uproot.open(tmp_path / "scores.root") as file:
        friend = file["pnn_scores"].arrays(library="pd")
    inputs = pd.concat(
        [uproot.open(path)["events"].arrays(library="pd") for path in paths], ignore_index=True
    )
    assert len(friend) == len(inputs) == 1_150
    # Join on the entry number, as a friend tree does, and check every entry's scores.
    joined = inputs.join(friend, how="inner")
    assert len(joined) == 1_150
    assert joined["other"].tolist() == list(range(700)) + list(range(450))
    _assert_scores(joined[list(friend.columns)], _expected(net, joined[FEATURES].to_numpy()))


def test_csv_input_with_feature_map_to_csv_output(net, tmp_path: Path) -> None:
    frame = _frame(300, seed=4, names=["lep_pt", "met", "mjj"])
    frame.to_csv(tmp_path / "in.csv", index=False)
    mapping = tmp_path / "map.yaml"
    mapping.write_text("a: lep_pt\nb: met\nc: mjj\n")
    for spec, name in (("a=lep_pt, b=met,c=mjj", "text.csv"), (mapping, "yaml.csv")):
        apply_scores(
            net,
            [tmp_path / "in.csv"],
            masses="500,750,812.5",
            output=tmp_path / name,
            feature_map=spec,
            chunk_size=64,
        )
        scores = pd.read_csv(tmp_path / name)
        _assert_scores(scores, _expected(net, frame[["lep_pt", "met", "mjj"]].to_numpy()))


def test_missing_columns_are_listed_with_the_closest_names(net, tmp_path: Path) -> None:
    frame = _frame(10, seed=5, names=["a", "bb", "C"])
    frame.to_parquet(tmp_path / "in.parquet")
    with pytest.raises(DataError) as info:
        apply_scores(net, tmp_path / "in.parquet", masses=MASSES, output=tmp_path / "s.csv")
    message = str(info.value)
    assert "in.parquet" in message
    assert "missing feature column(s) b (closest: bb); c (closest: C)" in message
    assert "--map" in message
    assert not (tmp_path / "s.csv").exists()

    with pytest.raises(ConfigError, match=r"bb \(closest: b\) is not a feature of the model"):
        apply_scores(
            net,
            tmp_path / "in.parquet",
            masses=MASSES,
            output=tmp_path / "s.csv",
            feature_map="bb=a",
        )


def test_non_finite_features_error_by_default_naming_file_column_and_row(
    net, tmp_path: Path
) -> None:
    frame = _frame(400, seed=6)
    frame.loc[300, "b"] = np.nan
    frame.loc[350, "c"] = np.inf
    frame.to_parquet(tmp_path / "in.parquet")
    with pytest.raises(DataError) as info:
        apply_scores(
            net, tmp_path / "in.parquet", masses=MASSES, output=tmp_path / "s.root", chunk_size=128
        )
    assert "in.parquet, column b, row 301" in str(info.value)
    assert "--nan-policy" in str(info.value)
    # Failing in the third chunk leaves neither the output nor a temporary file behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]


def test_nan_policy_skip_keeps_rows_aligned_and_fill_replaces(net, tmp_path: Path) -> None:
    frame = _frame(400, seed=6)
    frame.loc[300, "b"] = np.nan
    frame.loc[350, "c"] = -np.inf
    frame.to_parquet(tmp_path / "in.parquet")
    features = frame[FEATURES].to_numpy()

    summary = apply_scores(
        net,
        tmp_path / "in.parquet",
        masses=MASSES,
        output=tmp_path / "skip.root",
        nan_policy="skip",
        chunk_size=128,
    )
    assert summary.non_finite_rows == 2
    with uproot.open(tmp_path / "skip.root") as file:
        skipped = file["pnn_scores"].arrays(library="pd")
    assert len(skipped) == 400
    bad = np.zeros(400, dtype=bool)
    bad[[300, 350]] = True
    assert skipped[bad].isna().all().all()
    expected = _expected(net, features)
    _assert_scores(skipped[~bad], {k: v[~bad] for k, v in expected.items()})

    apply_scores(
        net,
        tmp_path / "in.parquet",
        masses=MASSES,
        output=tmp_path / "fill.parquet",
        nan_policy="fill",
        fill_value=2.5,
    )
    filled = features.copy()
    filled[~np.isfinite(filled)] = 2.5
    _assert_scores(pd.read_parquet(tmp_path / "fill.parquet"), _expected(net, filled))


def test_mass_outside_trained_range_warns_extrapolation(net, tmp_path: Path) -> None:
    _frame(20, seed=8).to_parquet(tmp_path / "in.parquet")
    with pytest.warns(ExtrapolationWarning, match="1500"):
        apply_scores(net, tmp_path / "in.parquet", masses="750,1500", output=tmp_path / "s.csv")
    assert list(pd.read_csv(tmp_path / "s.csv").columns) == ["score_m750", "score_m1500"]


def test_existing_output_is_refused_unless_overwrite(net, tmp_path: Path) -> None:
    frame = _frame(50, seed=9)
    frame.to_parquet(tmp_path / "in.parquet")
    (tmp_path / "s.parquet").write_text("previous result")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        apply_scores(net, tmp_path / "in.parquet", masses=MASSES, output=tmp_path / "s.parquet")
    assert (tmp_path / "s.parquet").read_text() == "previous result"
    apply_scores(
        net, tmp_path / "in.parquet", masses=MASSES, output=tmp_path / "s.parquet", overwrite=True
    )
    _assert_scores(
        pd.read_parquet(tmp_path / "s.parquet"), _expected(net, frame[FEATURES].to_numpy())
    )


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"output": "s.txt"}, ConfigError, "name the output .parquet, .csv or .root"),
        ({"output": "in.parquet"}, ConfigError, "is also an input"),
        ({"masses": "500,abc"}, ConfigError, "mass 'abc' is not a number"),
        ({"masses": "500,500.0"}, ConfigError, "more than once"),
        ({"masses": "-5"}, ConfigError, "not a positive number"),
        ({"nan_policy": "drop"}, ConfigError, "choose one of error, skip, fill"),
        ({"chunk_size": 0}, ConfigError, "chunk size 0"),
        ({"model": "nowhere"}, ModelError, "not found"),
        ({"model": "."}, ModelError, "not a model"),
        ({"inputs": ["missing.parquet"]}, DataError, "file not found"),
    ],
)
def test_bad_options_raise_one_clear_error(
    net, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: dict, error, match: str
) -> None:
    monkeypatch.chdir(tmp_path)
    _frame(5, seed=10).to_parquet("in.parquet")
    arguments = {"model": net, "inputs": ["in.parquet"], "masses": MASSES, "output": "s.csv"}
    arguments.update(options)
    with pytest.raises(error, match=match):
        apply_scores(arguments.pop("model"), arguments.pop("inputs"), **arguments)


def test_option_parsers() -> None:
    assert parse_masses([1000, 812.5]) == (1000.0, 812.5)
    assert [score_column(m) for m in (500, 1000.0, 812.5, 0.25)] == [
        "score_m500",
        "score_m1000",
        "score_m812p5",
        "score_m0p25",
    ]
    with pytest.raises(ConfigError, match="MODEL_FEATURE=INPUT_COLUMN"):
        parse_feature_map("a:lep_pt")
    with pytest.raises(ConfigError, match="feature map file not found"):
        parse_feature_map("no_such_map.yaml")


def test_text_column_mapped_as_feature_is_refused(net, tmp_path: Path) -> None:
    frame = _frame(5, seed=11)
    frame["process"] = "ttbar"
    frame.to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(DataError, match="column process is not numeric"):
        apply_scores(
            net,
            tmp_path / "in.csv",
            masses=MASSES,
            output=tmp_path / "s.csv",
            feature_map="c=process",
        )
    assert not (tmp_path / "s.csv").exists()


def test_run_directory_is_scored_with_its_best_model(tmp_path: Path) -> None:
    import yaml

    from hep_pnn.data import EventTable, write_parquet
    from hep_pnn.training import load_experiment, load_run, train_experiment

    rng = np.random.default_rng(12)
    mass = rng.choice([500.0, 1000.0], 200)
    label = rng.integers(0, 2, 200)
    table = EventTable.from_arrays(
        rng.normal(size=(200, 3)) + label[:, None] * mass[:, None] / 1000, label=label, mass=mass
    )
    write_parquet(table, tmp_path / "events.parquet")
    config = {
        "data": {"source": "files", "paths": ["events.parquet"], "test_fraction": 0.25},
        "model": {"preset": "pnn", "options": {"hidden": [4]}},
        "training": {"epochs": 1, "batch_size": 64, "threads": 1},
    }
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(config))
    train_experiment(
        load_experiment(tmp_path / "experiment.yaml"), tmp_path / "run", progress=False
    )

    model = load_run(tmp_path / "run").model
    frame = pd.DataFrame(table.features, columns=list(model.feature_names))
    frame.to_parquet(tmp_path / "in.parquet")
    apply_scores(tmp_path / "run", tmp_path / "in.parquet", masses=MASSES, output=tmp_path / "s.pq")
    _assert_scores(pd.read_parquet(tmp_path / "s.pq"), _expected(model, table.features))
