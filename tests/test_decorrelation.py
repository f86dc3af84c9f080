"""Decorrelation of a classifier from a protected variable: DisCo and the adversary."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml

from hep_pnn.cli import main
from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError
from hep_pnn.evaluation.decorrelation import tradeoff_point
from hep_pnn.models import build_model, preset
from hep_pnn.training.config import TrainingConfig, load_experiment
from hep_pnn.training.decorrelation import distance_correlation
from hep_pnn.training.loop import Trainer


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """These networks are tiny: one thread avoids thread wake-ups on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_distance_correlation_separates_independent_from_dependent() -> None:
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(800, generator=g), torch.randn(800, generator=g)
    assert float(distance_correlation(x, y)) < 0.02
    # no linear correlation at all, yet dependent: the Pearson coefficient would miss it
    assert float(distance_correlation(x, x.abs())) > 0.2
    assert float(distance_correlation(x, 2 * x + 1)) == pytest.approx(1.0, abs=1e-5)


def test_weighted_distance_correlation_equals_dropping_zero_weight_events() -> None:
    g = torch.Generator().manual_seed(2)
    x = torch.randn(300, generator=g)
    y = x + torch.randn(300, generator=g)
    weight = torch.ones(300)
    weight[200:] = 0.0
    kept = distance_correlation(x[:200], y[:200])
    assert float(distance_correlation(x, y, weight)) == pytest.approx(float(kept), rel=1e-4)
    assert float(distance_correlation(x, y)) != pytest.approx(float(kept), rel=1e-3)


def _toy(n: int, seed: int) -> EventTable:
    """Signal sits at higher x and higher mass; the background's mass is independent of x."""
    rng = np.random.default_rng(seed)
    label = np.repeat([1, 0], n // 2)
    x = rng.normal(size=n) + 1.5 * label
    mass = rng.normal(size=n) + 1.5 * label
    return EventTable.from_arrays(
        np.column_stack([x, mass]).astype(np.float32),
        label=label,
        mass=np.ones(n),
        feature_names=["x", "f26"],
    )


def _train(
    decorrelation: dict[str, Any] | None, *, epochs: int = 5, n: int = 3000, **options: Any
) -> Trainer:
    table = _toy(n, seed=0)
    model = preset("blind", hidden=(16, 16), **options)
    net = build_model(model, feature_names=table.feature_names, seed=1)
    config = TrainingConfig.model_validate(
        {"epochs": epochs, "batch_size": 256, "seed": 2, "decorrelation": decorrelation}
    )
    trainer = Trainer(net, table, config, generators={"dropout": net.generator}, log=print)
    trainer.fit()
    return trainer


def _jsd(trainer: Trainer) -> float:
    test = _toy(6000, seed=5)
    with torch.no_grad():
        score = trainer.model(torch.from_numpy(test.features), torch.from_numpy(test.mass))
    return tradeoff_point(score.numpy(), test.label, test.column("f26")).js_divergence


@cache
def _plain_jsd() -> float:
    # no dropout: the plain network must learn the mass from x well enough to sculpt it
    return _jsd(_train(None, dropout=0.0))


@pytest.mark.parametrize(
    ("method", "strength", "factor"),
    [("disco", 20.0, 10.0), ("adversary", 5.0, 2.0)],
    ids=["disco", "adversary"],
)
def test_strong_decorrelation_lowers_the_jsd(method: str, strength: float, factor: float) -> None:
    plain = _plain_jsd()
    decorrelated = _jsd(_train({"method": method, "strength": strength}, dropout=0.0))
    assert plain > 0.2
    assert decorrelated < plain / factor


def test_zero_strength_is_the_plain_training_bit_for_bit() -> None:
    plain = _train(None, epochs=2, n=1000).model.state_dict()
    zero = _train({"method": "adversary", "strength": 0.0}, epochs=2, n=1000).model.state_dict()
    assert all(torch.equal(plain[k], zero[k]) for k in plain)


def test_adversary_state_resumes_bit_for_bit() -> None:
    straight = _train({"method": "adversary", "strength": 1.0}, epochs=2, n=1000)
    first = _train({"method": "adversary", "strength": 1.0}, epochs=1, n=1000)
    tensors, state = first.state()
    assert any(k.startswith("decorrelation.adversary.") for k in tensors)
    table = _toy(1000, seed=0)
    net = build_model(preset("blind", hidden=(16, 16)), feature_names=table.feature_names, seed=9)
    config = straight.config
    resumed = Trainer(net, table, config, generators={"dropout": net.generator}, log=print)
    resumed.load_state(tensors, state)
    resumed.fit()
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_negative_strength_and_missing_variable_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"training\.decorrelation\.strength"):
        load_experiment(None, ["training.decorrelation={method: disco, strength: -1}"])
    jets = load_experiment(  # the jet trainer applies it (tests/test_jet_decorrelation.py)
        None,
        [
            "model.preset=particlenet",
            "data={source: jets, paths: [jets.parquet]}",
            "training.decorrelation={method: disco, strength: 1, variable: jet_mass}",
        ],
    )
    assert jets.training.decorrelation is not None
    with pytest.raises(ConfigError, match="mjet"):
        _train({"method": "disco", "strength": 1.0, "variable": "mjet"}, epochs=1, n=100)


def test_cli_reports_a_missing_protected_variable_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "experiment.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data": {"masses": [500.0], "n_signal_per_mass": 100, "n_background": 200},
                "model": {"preset": "blind", "options": {"hidden": [4]}},
                "training": {
                    "epochs": 1,
                    "decorrelation": {"method": "disco", "strength": 1, "variable": "mjet"},
                },
            }
        )
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["train", str(config), "-o", str(tmp_path / "run")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mjet" in err and "Traceback" not in err
