"""The jet demo (``pnn demo --jets``) end to end on a small toy jet file (no Pythia)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hep_pnn.cli import main
from hep_pnn.data.jets.layout import write_jets_parquet
from hep_pnn.data.jets.toy import toy_jets
from hep_pnn.evaluation.jet_runs import score_jets
from hep_pnn.jet_demo import JET_DEMO_MODELS, run_jet_demo
from hep_pnn.training import load_run
from hep_pnn.training.jet_data import load_labelled_jets

TINY = {
    "cnn": ("jet_cnn", {"image_size": 16, "channels": [4, 4], "pool_after": [1, 2], "dense": [8]}),
    "particlenet_lite": (
        "particlenet_lite",
        {"n_particles": 16, "edge_convs": [{"k": 4, "channels": [8]}], "fc": [8]},
    ),
    "bdt": ("jet_bdt", {"n_estimators": 20, "nthread": 1}),
}


def test_jet_demo_trains_evaluates_reports_and_moves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert set(TINY) == set(JET_DEMO_MODELS)
    monkeypatch.setattr("hep_pnn.jet_demo.JET_DEMO_MODELS", TINY)
    write_jets_parquet(toy_jets(80, 80, seed=4), tmp_path / "toy.parquet")
    lines: list[str] = []
    result = run_jet_demo(
        tmp_path / "demo", jets=tmp_path / "toy.parquet", epochs=2, batch_size=16,
        learning_rate=3e-3, progress=False,
        echo=lines.append,
    )  # fmt: skip
    assert list(result.metrics.index) == ["cnn", "particlenet_lite", "bdt"]
    assert list(result.metrics["tagger"]) == ["jet_cnn", "particlenet_lite", "jet_bdt"]
    assert (result.metrics["n_signal"] == 20).all()  # the same 25 % test jets for each
    # toy tops are easy (chance is 0.5); that each tagger learns: tests/test_estimators.py
    assert (result.metrics.loc[["cnn", "bdt"], "auc"] > 0.8).all(), result.metrics
    assert result.metrics["auc"].between(0, 1).all()
    html = result.report.read_text()
    assert all(name in html for name in TINY) and html.count("data:image/png;base64,") >= 4
    assert any(line.startswith("[demo] training particlenet_lite") for line in lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", "toy.parquet"]
    # the runs name their jets relative to themselves: the folder can be moved
    (tmp_path / "demo").rename(tmp_path / "moved")
    run = load_run(tmp_path / "moved" / "runs" / "bdt")
    metrics, _ = score_jets(run.model, load_labelled_jets(run.config.data, test=True))
    assert metrics.loc["all jets", "auc"] == pytest.approx(result.metrics.loc["bdt", "auc"])


def test_jet_demo_cli_refuses_existing_output(tmp_path: Path, capsys) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep").write_text("x")
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--jets", "-o", str(tmp_path / "out")])
    assert exit_.value.code == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (tmp_path / "out" / "keep").is_file()
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--jets", "-o", str(tmp_path / "new"), "--jet-file", "/no/such.parquet"])
    assert exit_.value.code == 2
    assert "/no/such.parquet" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
