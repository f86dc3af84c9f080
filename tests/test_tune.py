"""``pnn tune``: the search space, the local Optuna scan, its resume, results and report."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hep_pnn.cli import main
from hep_pnn.errors import ConfigError
from hep_pnn.training import load_experiment
from hep_pnn.tuning import parse_space, run_tune
from hep_pnn.tuning.trial import train_trial

optuna = pytest.importorskip("optuna")

CONFIG = {
    "data": {"masses": [500, 1000], "n_signal_per_mass": 150, "n_background": 300},
    "model": {"preset": "affine", "options": {"hidden": [4]}},
    "training": {"epochs": 2, "batch_size": 64, "threads": 1},
}
SPACE = {
    "training.learning_rate": {"float": [1.0e-3, 3.0e-2], "log": True},
    "model.options.hidden": {"choice": [[4], [6, 6]]},
}


def _files(folder: Path, space: dict = SPACE) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    (folder / "space.yaml").write_text(yaml.safe_dump(space))
    return folder / "config.yaml", folder / "space.yaml"


def run_cli(capsys, *args: object) -> tuple[int, str, str]:
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def scan(tmp_path_factory) -> Path:
    """A finished three-trial scan."""
    config, space = _files(tmp_path_factory.mktemp("tune"))
    result = run_tune(config, space=space, trials=3, output=config.parent / "out", echo=print)
    return result.folder


def test_space_addresses_resolved_model_options() -> None:
    config = load_experiment(None)
    parse_space({"model.options.dropout": {"float": [0.0, 0.5]}}).check(config)
    with pytest.raises(ConfigError, match="not in the experiment config"):
        parse_space({"model.options.no_such_option": {"float": [0, 1]}}).check(config)
    with pytest.raises(ConfigError, match="less than 1"):  # a range end the config refuses
        parse_space({"model.options.dropout": {"float": [0.0, 1.5]}}).check(config)
    for bad in ({"float": [1, 0]}, {"int": [0.5, 2]}, {"choice": []}, {"uniform": [0, 1]}):
        with pytest.raises(ConfigError):
            parse_space({"training.learning_rate": bad})


def test_trial_reports_every_epoch_and_stops_when_pruned(tmp_path) -> None:
    config = load_experiment(None, [f"{k}={v}" for k, v in _flat(CONFIG).items()])
    config = config.model_copy(
        update={"training": config.training.model_copy(update={"epochs": 3})}
    )
    reports: list[tuple[int, float]] = []

    class Pruned(Exception):
        pass

    def report(epoch: int, best_auc: float) -> None:
        reports.append((epoch, best_auc))
        if epoch == 2:
            raise Pruned

    with pytest.raises(Pruned):
        train_trial(config, tmp_path / "run", report=report)
    assert [epoch for epoch, _ in reports] == [1, 2]
    assert reports[1][1] >= reports[0][1]  # the best AUC so far never drops
    history = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert len(history) == 1 + 2  # training stopped after the pruned epoch


def _flat(raw: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in raw.items():
        if isinstance(value, dict) and value:
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = yaml.safe_dump(value, default_flow_style=True).strip()
    return out


def test_scan_writes_runs_table_and_best_config(scan: Path) -> None:
    study = optuna.load_study(study_name="pnn-tune", storage=f"sqlite:///{scan / 'optuna.db'}")
    trials = study.get_trials()
    assert len(trials) == 3
    for trial in trials:
        run = yaml.safe_load((Path(trial.user_attrs["run_dir"]) / "config.yaml").read_text())
        assert run["training"]["learning_rate"] == pytest.approx(
            trial.params["training.learning_rate"]
        )
        assert run["model"]["options"]["hidden"] == yaml.safe_load(
            trial.params["model.options.hidden"]
        )
        if trial.state == optuna.trial.TrialState.COMPLETE:
            assert sorted(trial.intermediate_values) == [1, 2]  # pruning saw every epoch
            history = (Path(trial.user_attrs["run_dir"]) / "history.csv").read_text()
            best_auc = max(float(r.split(",")[3]) for r in history.splitlines()[1:])
            assert trial.value == pytest.approx(best_auc)
    best = yaml.safe_load((scan / "best.yaml").read_text())
    assert best["training"]["learning_rate"] == pytest.approx(
        study.best_trial.params["training.learning_rate"]
    )
    table = (scan / "results.md").read_text().splitlines()
    assert len(table) == 2 + 3 and f"| {study.best_trial.number} |" in table[2]
    assert (scan / "plots" / "history.png").is_file()


def test_killed_scan_resumes_with_the_interrupted_trial(scan: Path, capsys) -> None:
    storage = f"sqlite:///{scan / 'optuna.db'}"
    study = optuna.load_study(study_name="pnn-tune", storage=storage)
    interrupted = study.ask()  # what a killed scan leaves: a trial that never finished
    params = {
        "training.learning_rate": interrupted.suggest_float(
            "training.learning_rate", 1.0e-3, 3.0e-2, log=True
        ),
        "model.options.hidden": interrupted.suggest_categorical(
            "model.options.hidden", ["[4]", "[6, 6]"]
        ),
    }
    config, space = scan.parent / "config.yaml", scan.parent / "space.yaml"
    code, out, err = run_cli(capsys, "tune", config, "--space", space, "--trials", 4, "-o", scan)
    assert code == 0, err
    assert "1 interrupted trial(s) queued again" in out
    trials = optuna.load_study(study_name="pnn-tune", storage=storage).get_trials()
    states = [t.state.name for t in trials]
    assert len(trials) == 5 and states[3] == "FAIL" and states[4] in ("COMPLETE", "PRUNED")
    assert trials[4].params["training.learning_rate"] == pytest.approx(
        params["training.learning_rate"]
    )
    # the same command again has nothing left to do
    code, out, _ = run_cli(capsys, "tune", config, "--space", space, "--trials", 4, "-o", scan)
    assert code == 0 and "0 to run" in out
    # another space is another scan: refused rather than mixed in
    other = scan.parent / "other.yaml"
    other.write_text(yaml.safe_dump({"training.learning_rate": {"float": [0.1, 0.2]}}))
    code, _, err = run_cli(capsys, "tune", config, "--space", other, "-o", scan)
    assert code == 2 and "another config, space or storage" in err


def test_report_shows_the_scan(scan: Path, tmp_path, capsys) -> None:
    code, _, err = run_cli(capsys, "report", scan, "-o", tmp_path / "report.html")
    assert code == 0, err
    page = (tmp_path / "report.html").read_text()
    assert "Hyper-parameter scan" in page and "data:image/png;base64" in page
    assert "training.learning_rate" in page


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--executor", "dask"), "unknown executor 'dask'"),
        (("--address", "10.0.0.1:6379"), "--address needs --executor ray"),
        (("--storage", "nosuchdb://x"), "cannot open the Optuna storage"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path, capsys, args, needle) -> None:
    config, space = _files(tmp_path)
    code, _, err = run_cli(capsys, "tune", config, "--space", space, "-o", tmp_path / "o", *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and needle in lines[0], err
    assert not (tmp_path / "o").exists()


def test_space_key_not_in_config_exits_2(tmp_path, capsys) -> None:
    config, space = _files(tmp_path, {"training.no_such_key": {"int": [1, 2]}})
    code, _, err = run_cli(capsys, "tune", config, "--space", space, "-o", tmp_path / "o")
    assert code == 2 and "training.no_such_key" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["tune", "study"])
def test_unreachable_ray_address_exits_2_before_any_work(tmp_path, capsys, command) -> None:
    pytest.importorskip("ray")
    config, space = _files(tmp_path)
    (tmp_path / "mini.yaml").write_text("name: mini\nruns:\n  a: {model: {preset: affine}}\n")
    args = {
        "tune": ("tune", config, "--space", space),
        "study": ("study", tmp_path / "mini.yaml", "--size", "tiny"),
    }[command]
    code, _, err = run_cli(
        capsys, *args, "-o", tmp_path / "o", "--executor", "ray", "--address", "127.0.0.1:1"
    )
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "cannot connect to the Ray cluster" in lines[0], err
    assert not (tmp_path / "o").exists()
