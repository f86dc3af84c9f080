from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hep_pnn.errors import ConfigError
from hep_pnn.evaluation.masses import MassMetrics
from hep_pnn.evaluation.runs import RunEvaluation
from hep_pnn.studies import (
    auc_table,
    format_table,
    list_studies,
    load_study,
    plan_runs,
    prepare_data,
    run_study,
)
from hep_pnn.studies.config import SIZES, StudyData
from hep_pnn.training.config import ExperimentConfig

PUBLISHED_STUDIES = ["background-mass", "conditioning", "hepmass", "imbalanced", "interpolation"]


def test_every_published_study_ships() -> None:
    assert set(PUBLISHED_STUDIES) <= set(list_studies())


@pytest.mark.parametrize("name", PUBLISHED_STUDIES)
def test_every_run_of_every_study_is_a_valid_experiment(name: str, tmp_path: Path) -> None:
    study = load_study(name)
    specs = plan_runs(
        study,
        tmp_path,
        size="small",
        seeds=2,
        data=lambda seed: ([f"train{seed}.parquet"], [f"test{seed}.parquet"]),
        threads=1,
    )
    assert len(specs) == 2 * len(study.runs)
    for spec in specs:
        config = ExperimentConfig.model_validate(spec.config)
        config.model.resolve()  # model options valid for the preset (e.g. the 4x3 grid)
        assert config.training.seed == spec.seed
        assert config.data.train_paths == [f"train{spec.seed}.parquet"]
    if name == "conditioning":
        mechanisms = {
            (
                ExperimentConfig.model_validate(s.config).model.resolve().conditioning,
                ExperimentConfig.model_validate(s.config).model.resolve().placement,
            )
            for s in specs
        }
        assert len(mechanisms) == 12


def test_bad_study_file_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\nruns: {a: {}}\nsize_of_things: 3\n")
    with pytest.raises(ConfigError, match=r"broken.yaml, key size_of_things"):
        load_study(path)
    with pytest.raises(ConfigError, match="unknown study 'nope'"):
        load_study("nope")


def test_bad_run_override_is_refused_before_any_training(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text("name: s\nruns:\n  good: {model: {preset: affine}}\n  bad: {weights: {a: 1}}\n")
    with pytest.raises(ConfigError, match=r"study s, run 'bad', key weights"):
        run_study(path, output=tmp_path / "out", size="tiny")
    assert not (tmp_path / "out" / "data").exists()


def _evaluation(auc: float) -> RunEvaluation:
    frame = pd.DataFrame({"mass": [500.0, 1000.0], "roc_auc": [auc, auc + 0.1]})
    return RunEvaluation("x", MassMetrics(frame))


def test_table_has_mean_spread_and_published_row() -> None:
    study = load_study("hepmass")
    table = auc_table({"pnn": [_evaluation(0.7), _evaluation(0.8)]})
    assert table.loc[("pnn", "mean"), 500.0] == pytest.approx(0.75)
    assert table.loc[("pnn", "std"), 1000.0] == pytest.approx(0.0707, abs=1e-4)
    text = format_table(study, table)
    assert "| pnn | 0.750 ± 0.071 | 0.850 ± 0.071 | 0.800 |" in text
    assert "| *published* | 0.773 | 0.975 |" in text


def test_tiny_study_end_to_end_and_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a relative output folder, as users type it
    study = tmp_path / "mini.yaml"
    study.write_text(
        "name: mini\n"
        "data: {preset: hepmass, training_masses: [500, 1500]}\n"
        "grid: '500:1500:500'\n"
        "runs:\n"
        "  small-pnn: {model: {preset: pnn, options: {hidden: [8]}}}\n"
        "  other: {model: {preset: affine, options: {hidden: [4]}}}\n"
        "published:\n"
        "  small-pnn: {500: 0.766, 1000: 0.94, 1500: 0.99}\n"
    )
    lines: list[str] = []
    folder = run_study(study, output="out", size="tiny", runs=["small-pnn"], echo=lines.append)
    results = (folder / "results.md").read_text()
    assert "| small-pnn |" in results and "| *published* | 0.766 |" in results
    assert "| other |" not in results and not (folder / "runs/other").exists()
    assert (folder / "report.html").stat().st_size > 10_000
    assert (folder / "auc_vs_mass.png").read_bytes()[:4] == b"\x89PNG"
    # evaluated at every mass, including the one left out of training
    metrics = pd.read_json(folder / "runs/small-pnn/seed0/evaluation/metrics.json", typ="series")
    assert sorted(row["mass"] for row in metrics["masses"]) == [500, 750, 1000, 1250, 1500]
    assert [float(m) for m in metrics["training_masses"]] == [500.0, 1500.0]
    # a second call for every run trains only the one not yet finished
    lines.clear()
    run_study(study, output="out", size="tiny", echo=lines.append)
    assert any("2 runs, 1 already finished" in line for line in lines)
    assert sum(line.startswith("[study] start") for line in lines) == 1
    results = (folder / "results.md").read_text()
    assert "| small-pnn |" in results and "| other |" in results
    # a subset whose other runs are finished summarises them all
    lines.clear()
    run_study(study, output="out", size="tiny", runs=["other"], echo=lines.append)
    assert "| small-pnn |" in (folder / "results.md").read_text()
    with pytest.raises(ConfigError, match="study 'mini' has no run 'nope'"):
        run_study(study, output="out", size="tiny", runs=["nope"])


def test_cli_unknown_study_is_one_line_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hep_pnn", "study", "no-such-study"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "unknown study" in result.stderr


def test_background_fraction_thins_only_the_training_background(tmp_path: Path) -> None:
    full = load_study("conditioning").model_copy(update={"data": StudyData(preset="hepmass-imb")})
    thinned = load_study("conditioning")
    assert thinned.data.background_fraction == 0.4  # the published conditioning runs
    counts = {}
    for name, study in {"full": full, "thinned": thinned}.items():
        train, test = prepare_data(study, tmp_path / name, size="tiny", seed=0)
        counts[name] = [
            pd.read_parquet(path, columns=["label"])["label"].value_counts().sort_index().tolist()
            for path in (train[0], test[0])
        ]
    (full_train, full_test), (thin_train, thin_test) = counts["full"], counts["thinned"]
    assert thin_train[1] == full_train[1]  # the same signal
    assert thin_train[0] == round(full_train[0] * 0.4)
    assert thin_test == full_test  # evaluation is unchanged
    with pytest.raises(ValueError, match="background_fraction"):
        StudyData(background_fraction=0.0)


def test_hepmass_imb_studies_train_on_all_of_its_signal(tmp_path: Path) -> None:
    # The published HEPMASS-IMB runs trained on all of its signal beside HEPMASS's training
    # background, and were tested on the HEPMASS test set.
    study = load_study("imbalanced")
    train, test = prepare_data(study, tmp_path, size="tiny", seed=0)
    events = pd.read_parquet(train[0], columns=["label", "mass"])
    signal = events[events["label"] == 1]["mass"].value_counts().sort_index()
    fraction = SIZES["tiny"]["fraction"]
    published = [350_000, 140_000, 35_000, 7_000, 1_400]
    assert signal.tolist() == [round(n * fraction) for n in published]
    assert (events["label"] == 0).sum() == round(3_500_000 * fraction)
    test_events = pd.read_parquet(test[0], columns=["label", "mass"])
    tested = test_events[test_events["label"] == 1]["mass"].value_counts()
    assert set(tested.tolist()) == {round(350_000 * fraction)}
    assert (test_events["label"] == 0).sum() == round(1_750_000 * fraction)


def test_cached_events_of_another_generator_version_are_refused(tmp_path: Path) -> None:
    from hep_pnn.data.generator import GENERATOR_VERSION
    from hep_pnn.studies.runner import GENERATOR_RECORD

    study = load_study("imbalanced")
    prepare_data(study, tmp_path, size="tiny", seed=0)
    record = tmp_path / GENERATOR_RECORD
    assert json.loads(record.read_text()) == {"generator_version": GENERATOR_VERSION}
    prepare_data(study, tmp_path, size="tiny", seed=0)  # the same version reuses them
    record.write_text(json.dumps({"generator_version": GENERATOR_VERSION - 1}))
    with pytest.raises(ConfigError, match=f"generator version {GENERATOR_VERSION - 1}"):
        prepare_data(study, tmp_path, size="tiny", seed=0)
    record.unlink()  # events from before the record existed
    with pytest.raises(ConfigError, match="unrecorded generator version") as error:
        prepare_data(study, tmp_path, size="tiny", seed=0)
    assert "choose a new output folder" in str(error.value)


def test_cached_data_of_other_sizes_is_refused(tmp_path: Path) -> None:
    # an output folder made before the study kept 0.4 of the background
    full = load_study("conditioning").model_copy(update={"data": StudyData(preset="hepmass-imb")})
    prepare_data(full, tmp_path, size="tiny", seed=0)
    with pytest.raises(ConfigError, match="choose a new output folder") as error:
        prepare_data(load_study("conditioning"), tmp_path, size="tiny", seed=0)
    assert "train.parquet holds" in str(error.value)
    prepare_data(full, tmp_path, size="tiny", seed=0)  # the same sizes reuse it
