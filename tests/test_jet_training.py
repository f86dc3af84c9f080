"""Jet taggers through the run machinery: pnn train / resume / pnn evaluate on jet files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from hep_pnn.cli import main
from hep_pnn.data.jets.layout import write_jets_parquet
from hep_pnn.data.jets.sample import JetSample
from hep_pnn.data.jets.toy import toy_jets
from hep_pnn.evaluation.jet_runs import evaluate_jet_run, score_jets
from hep_pnn.run_files import LAST_DIR
from hep_pnn.training import load_experiment, train_experiment
from hep_pnn.training.jet_data import load_labelled_jets
from hep_pnn.training.jet_loop import train_tagger

CNN = {"image_size": 16, "channels": [6, 6], "pool_after": [1, 2], "dense": [16]}
POINTS = {"n_particles": 24, "edge_convs": [{"k": 4, "channels": [8]}], "fc": [8]}


def _write_config(folder, *, preset, options, data=None, **training):
    config = {
        "data": {"source": "jets", "paths": ["jets.parquet"], **(data or {})},
        "model": {"preset": preset, "options": options},
        "training": {"epochs": 3, "batch_size": 32, "learning_rate": 3e-3, **training},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    return folder / "config.yaml"


@pytest.fixture(scope="module")
def jet_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("jets")
    write_jets_parquet(toy_jets(120, 120, seed=21), folder / "jets.parquet")
    return folder


def _concat(samples: list[JetSample]) -> JetSample:
    return JetSample(
        np.concatenate([s.constituents for s in samples]),
        np.concatenate([s.labels for s in samples]),
        pd.concat([s.features for s in samples], ignore_index=True),
    )


def test_cnn_learns_toy_tops_and_is_evaluated(jet_file):
    path = _write_config(jet_file, preset="jet_cnn", options=CNN, epochs=3)
    run = train_experiment(load_experiment(path), jet_file / "run-cnn", progress=False)
    assert list(run.history["epoch"]) == [1, 2, 3]
    assert run.history["val_auc_mean"].max() > 0.8
    metrics, output = evaluate_jet_run(jet_file / "run-cnn")
    row = metrics.loc["all jets"]
    assert row["auc"] > 0.8 and row["rejection_30"] > 3
    assert row["n_signal"] == 30 and row["n_background"] == 30  # test_fraction 0.25 of 120
    assert {"rejection.png", "jet_images.png", "pixel_correlation.png"} <= {
        p.name for p in output.iterdir()
    }
    assert json.loads((output / "metrics.json").read_text())["tagger"] == "jet_cnn"


def test_resume_continues_where_the_run_stopped(jet_file, tmp_path):
    path = _write_config(jet_file, preset="particlenet", options=POINTS, epochs=2)
    config = load_experiment(path)
    data = load_labelled_jets(config.data, test=False).select(np.arange(0, 180, 2))
    straight = train_tagger(config, data, tmp_path / "a", log=lambda _: None)
    half = config.model_copy(update={"training": config.training.model_copy(update={"epochs": 1})})
    train_tagger(half, data, tmp_path / "b", log=lambda _: None)
    resumed = train_tagger(config, data, tmp_path / "b", log=lambda _: None, resume=True)
    history_a = pd.read_csv(tmp_path / "a" / "history.csv")
    history_b = pd.read_csv(tmp_path / "b" / "history.csv")
    assert np.allclose(history_a["train_loss"], history_b["train_loss"])
    for (name, a), b in zip(
        straight.state_dict().items(), resumed.state_dict().values(), strict=True
    ):
        assert torch.allclose(a.float(), b.float()), name
    assert (tmp_path / "b" / LAST_DIR / "model.json").is_file()


def test_parametric_tagger_interpolates_to_a_held_out_parameter(tmp_path):
    masses = (1000.0, 1400.0, 1800.0)
    samples = []
    for index, mass in enumerate(masses):
        signal = toy_jets(40, 0, seed=index, pt_range=(0.4 * mass, 0.5 * mass))
        samples.append(signal)
    background = toy_jets(0, 120, seed=9, pt_range=(350.0, 950.0))
    jets = _concat([*samples, background])
    write_jets_parquet(jets, tmp_path / "jets.parquet")
    # a column beyond the layout's features, read by data.parameter
    frame = pd.read_parquet(tmp_path / "jets.parquet")
    frame["resonance_mass"] = np.r_[np.repeat(masses, 40), np.full(120, np.nan)]
    frame.to_parquet(tmp_path / "jets.parquet")
    data = {"parameter": "resonance_mass", "signal_parameters": [1000, 1800]}
    path = _write_config(
        tmp_path, preset="parametric_particlenet", options=POINTS, data=data, epochs=2
    )
    config = load_experiment(path)
    train = load_labelled_jets(config.data, test=False)
    signal_values = set(train.parameter[train.jets.labels == 1].tolist())
    assert signal_values == {1000.0, 1800.0}  # 1400 held out of training
    assert set(train.parameter[train.jets.labels == 0].tolist()) <= signal_values
    run = train_experiment(config, tmp_path / "run", progress=False)
    metrics, _ = score_jets(run.model, load_labelled_jets(config.data, test=True))
    assert list(metrics.index) == ["parameter 1000", "parameter 1400", "parameter 1800"]
    # each parameter: its own test signal against every test background jet
    assert metrics["n_signal"].sum() == 30 and (metrics["n_background"] == 30).all()
    assert metrics["auc"].between(0, 1).all()


def _cli(*args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    return exit_info.value.code, capsys.readouterr()


def test_cli_trains_evaluates_and_refuses_bad_input(jet_file, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(jet_file)
    path = _write_config(jet_file, preset="particlenet_lite", options=POINTS, epochs=1)
    assert _cli("train", path, "-o", tmp_path / "run", capsys=capsys)[0] == 0
    code, captured = _cli("evaluate", tmp_path / "run", capsys=capsys)
    out = captured.out
    assert code == 0
    assert "| all jets |" in out and "rejection_30" in out
    code, captured = _cli("report", tmp_path / "run", "-o", tmp_path / "r.html", capsys=capsys)
    assert code == 0 and "<h2>run</h2>" in (tmp_path / "r.html").read_text()
    # a tabular model on jets, a file that is not jets, NaN momenta: one line, exit 2
    code, captured = _cli("train", path, "--model", "affine", "-o", tmp_path / "x", capsys=capsys)
    assert code == 2 and "does not train on jets" in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    pd.DataFrame({"a": [1.0]}).to_parquet(tmp_path / "events.parquet")
    code, captured = _cli(
        "train", path, "--set", f"data.paths=[{tmp_path / 'events.parquet'}]", "-o",
        tmp_path / "y", capsys=capsys,
    )  # fmt: skip
    assert code == 2 and "is_signal_new" in captured.err and "Traceback" not in captured.err
    write_jets_parquet(toy_jets(2, 2, seed=0), tmp_path / "nan.parquet")
    broken = pd.read_parquet(tmp_path / "nan.parquet")
    broken.loc[1, "PX_0"] = np.nan
    broken.to_parquet(tmp_path / "nan.parquet")
    code, captured = _cli(
        "train", path, "--set", f"data.paths=[{tmp_path / 'nan.parquet'}]", "-o",
        tmp_path / "z", capsys=capsys,
    )  # fmt: skip
    assert code == 2 and "row 1" in captured.err


def test_validation_scores_in_batches_the_tagger_bounds(jet_file, monkeypatch):
    # validation_batch_size (65,536 by default) is sized for tabular events; a ParticleNet
    # pass over that many jets needs tens of GB, so the tagger's own bound must win
    from hep_pnn.models.jets.particlenet import ParticleNet

    monkeypatch.setattr(ParticleNet, "score_batch_size", property(lambda self: 16))
    seen: list[int] = []
    forward = ParticleNet.forward

    def recording(self, inputs):
        if not self.training:
            seen.append(len(inputs["mask"]))
        return forward(self, inputs)

    monkeypatch.setattr(ParticleNet, "forward", recording)
    path = _write_config(jet_file, preset="particlenet_lite", options=POINTS, epochs=1)
    train_experiment(load_experiment(path), jet_file / "run-bounded", progress=False)
    # ≈ 45 validation jets (25 % of the 180 training jets): three passes of at most 16
    assert max(seen) == 16 and len(seen) >= 3


def test_particlenet_scoring_batch_keeps_the_widest_tensor_bounded():
    from hep_pnn.models.jets.particlenet import SCORE_ELEMENTS, ParticleNet, ParticleNetConfig
    from hep_pnn.models.jets.registry import build_tagger

    lite = ParticleNet(ParticleNetConfig())
    full = build_tagger("particlenet", {})
    for net in (lite, full):
        widest = max(spec.k * max(spec.channels) for spec in net.config.edge_convs)
        assert net.score_batch_size * net.config.n_particles * widest <= SCORE_ELEMENTS
    assert lite.score_batch_size > 1000 and 100 < full.score_batch_size < 200
