"""Autoencoders as anomaly detectors: dense and convolutional, metrics, `pnn anomaly`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from hep_pnn.cli import main
from hep_pnn.evaluation.anomaly import anomaly_metrics, anomaly_samples
from hep_pnn.evaluation.metrics import roc_auc
from hep_pnn.models.autoencoder import (
    AUTOENCODERS,
    ConvAutoencoder,
    DenseAutoencoder,
    build_autoencoder,
    load_autoencoder,
    save_autoencoder,
)
from hep_pnn.training.autoencoder import AutoencoderTrainingConfig, train_autoencoder
from hep_pnn.training.decorrelation import distance_correlation


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """These networks are tiny: one thread avoids thread wake-ups on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _planar(n: int, rng: np.random.Generator) -> np.ndarray:
    """Background: 8 features that live on a 2-dimensional plane (plus a little noise)."""
    basis = np.random.default_rng(0).normal(size=(2, 8))
    return (rng.normal(size=(n, 2)) @ basis + 0.05 * rng.normal(size=(n, 8))).astype(np.float32)


def test_dense_autoencoder_trained_on_background_scores_off_plane_signal_higher() -> None:
    rng = np.random.default_rng(1)
    background = _planar(1200, rng)
    ae = DenseAutoencoder((8,), hidden=(16,), latent=2, seed=0)
    config = AutoencoderTrainingConfig(epochs=8, batch_size=64, learning_rate=3e-3, seed=2)
    run = train_autoencoder(ae, background, config=config, log=lambda _: None)
    assert run.history[-1]["val_loss"] < run.history[0]["val_loss"]
    test_background = _planar(500, rng)
    signal = (rng.normal(size=(500, 8)) * background.std(axis=0)).astype(np.float32)
    score = ae.score(np.concatenate([test_background, signal]))
    assert roc_auc(score, np.repeat([0, 1], 500)) > 0.9


def _blobs(n: int, prongs: int, rng: np.random.Generator, size: int = 16) -> np.ndarray:
    """Jet-like images: one central blob (QCD-like) or two separated blobs (two-prong)."""
    grid = np.arange(size) - size / 2 + 0.5
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    images = np.zeros((n, size, size), np.float32)
    for i in range(n):
        centres = [(0.0, 0.0)] if prongs == 1 else [(0.0, -3.5), (0.0, 3.5)]
        for cy, cx in centres:
            cy, cx = cy + rng.normal(scale=0.7), cx + rng.normal(scale=0.7)
            images[i] += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 2.0)
    return images / images.sum(axis=(1, 2), keepdims=True)


def test_conv_autoencoder_flags_two_prong_images() -> None:
    rng = np.random.default_rng(3)
    ae = ConvAutoencoder((16, 16), channels=(4, 4), latent=4, seed=1)
    config = AutoencoderTrainingConfig(epochs=10, batch_size=64, learning_rate=3e-3, seed=4)
    train_autoencoder(ae, _blobs(600, 1, rng), config=config, log=lambda _: None)
    score = ae.score(np.concatenate([_blobs(200, 1, rng), _blobs(200, 2, rng)]))
    assert roc_auc(score, np.repeat([0, 1], 200)) > 0.9


@pytest.mark.parametrize(
    ("kind", "shape"),
    [("dense", (27,)), ("dense", (200, 4)), ("conv", (40, 40))],
    ids=["features", "constituents", "image"],
)
def test_every_autoencoder_round_trips_and_has_gradients(
    kind: str, shape: tuple[int, ...], tmp_path: Path
) -> None:
    assert kind in AUTOENCODERS
    ae = build_autoencoder(kind, shape, seed=5)
    x = np.random.default_rng(0).random((6, *shape)).astype(np.float32)
    ae.fit_preprocessing(x)
    error = ae.reconstruction_error(torch.from_numpy(x))
    assert error.shape == (6,)
    error.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in ae.parameters())
    loaded = load_autoencoder(save_autoencoder(ae, tmp_path / "ae"))
    assert np.array_equal(loaded.score(x), ae.score(x))
    with pytest.raises(Exception, match="exists"):
        save_autoencoder(ae, tmp_path / "ae")


def test_anomaly_samples_pair_each_group_with_all_normal_events() -> None:
    score = np.array([0.1, 0.2, 0.3, 0.9, 0.05, 0.8])
    is_normal = np.array([True, True, True, False, False, False])
    group = np.array([0, 0, 0, 500.0, 500.0, 750.0])
    samples = anomaly_samples(score, is_normal, group)
    assert samples[500.0].label.tolist() == [0, 0, 0, 1, 1]
    metrics = anomaly_metrics(samples)
    assert metrics[500.0]["roc_auc"] == pytest.approx(0.5)  # 0.9 beats all, 0.05 none
    assert metrics[750.0]["roc_auc"] == 1.0


def test_cli_anomaly_writes_both_directions_and_refuses_bad_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    small = [
        "--set",
        "data.masses=[750, 1250]",
        "--set",
        "data.n_background=1500",
        "--set",
        "data.n_signal_per_mass=500",
        "--set",
        "training.epochs=2",
    ]
    with pytest.raises(SystemExit) as exit_info:
        main(["anomaly", *small, "-o", str(out)])
    assert exit_info.value.code in (0, None)
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"background", "signal"}
    assert set(metrics["background"]["per_mass"]) == {"750", "1250"}
    for direction in ("background", "signal"):
        folder = out / f"trained_on_{direction}"
        assert (folder / "roc.png").stat().st_size > 0
        assert (folder / "score_vs_mass.png").stat().st_size > 0
        assert load_autoencoder(folder / "model").kind == "dense"
    capsys.readouterr()
    cases = [
        (["--set", "protected=mjet", "--overwrite"], "mjet"),
        (["--set", "training.epochs=-1"], "training.epochs"),
        ([], "--overwrite"),  # the folder exists
    ]
    for bad, named in cases:
        with pytest.raises(SystemExit) as exit_info:
            main(["anomaly", *small, *bad, "-o", str(out)])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and named in err and "Traceback" not in err


def test_disco_term_decorrelates_the_reconstruction_error_from_the_mass() -> None:
    rng = np.random.default_rng(0)
    mass = rng.exponential(size=1500)
    features = np.column_stack(
        [mass, mass * rng.normal(size=1500), rng.normal(size=(1500, 2))]
    ).astype(np.float32)

    def dependence(strength: float) -> float:
        ae = DenseAutoencoder((4,), hidden=(8,), latent=2, seed=0)
        config = AutoencoderTrainingConfig(
            epochs=8, batch_size=128, learning_rate=3e-3, disco_strength=strength
        )
        train_autoencoder(ae, features, config=config, protected=mass, log=lambda _: None)
        log_score = torch.from_numpy(np.log(ae.score(features))).double()
        return float(distance_correlation(log_score, torch.from_numpy(mass)))

    plain, decorrelated = dependence(0.0), dependence(5.0)
    assert plain > 0.1
    assert decorrelated < plain / 4
