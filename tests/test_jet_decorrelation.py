"""Mass-decorrelated jet taggers: DisCo and the adversary in the jet training loop."""

from __future__ import annotations

import numpy as np
import pytest

from hep_pnn.data.jets.toy import toy_jets
from hep_pnn.errors import ConfigError
from hep_pnn.evaluation.decorrelation import tradeoff_point
from hep_pnn.training.config import ExperimentConfig
from hep_pnn.training.jet_data import LabelledJets
from hep_pnn.training.jet_loop import _logits, prepared_inputs, train_tagger

CNN = {"image_size": 16, "channels": [6, 6], "pool_after": [1, 2], "dense": [16]}


def _config(epochs: int = 4, **decorrelation: object) -> ExperimentConfig:
    training: dict[str, object] = {
        "epochs": epochs,
        "batch_size": 64,
        "learning_rate": 3e-3,
        "seed": 0,
    }
    if decorrelation:
        training["decorrelation"] = decorrelation
    return ExperimentConfig.model_validate(
        {
            "data": {"source": "jets", "paths": ["jets.parquet"]},
            "model": {"preset": "jet_cnn", "options": CNN},
            "training": training,
        }
    )


@pytest.fixture(scope="module")
def jets():
    return LabelledJets(toy_jets(200, 200, seed=3)), LabelledJets(toy_jets(500, 500, seed=4))


def _jsd(config, jets, folder):
    train, test = jets
    tagger = train_tagger(config, train, folder, log=lambda _: None)
    score = _logits(tagger, prepared_inputs(tagger, test), batch_size=512, device="cpu")
    mass = test.jets.features["jet_mass"].to_numpy()
    return tradeoff_point(score.numpy(), test.jets.labels, mass, bins=20)


def test_disco_flattens_the_qcd_jet_mass_after_the_cut(jets, tmp_path):
    plain = _jsd(_config(), jets, tmp_path / "plain")
    disco = _jsd(_config(method="disco", strength=5), jets, tmp_path / "disco")
    # the plain CNN learns the toy top mass: its cut sculpts the QCD mass strongly
    assert plain.js_divergence > 0.3
    assert disco.js_divergence < 0.5 * plain.js_divergence
    # the price of flatness: toy tops differ from toy QCD jets mostly by their mass
    assert plain.rejection > 3 * disco.rejection


def test_adversary_trains_and_resumes_bit_for_bit(jets, tmp_path):
    train = jets[0].select(np.arange(0, 400, 2))
    config = _config(epochs=2, method="adversary", strength=1, variable="jet_mass")
    straight = train_tagger(config, train, tmp_path / "a", log=lambda _: None)
    half = config.model_copy(update={"training": config.training.model_copy(update={"epochs": 1})})
    train_tagger(half, train, tmp_path / "b", log=lambda _: None)
    resumed = train_tagger(config, train, tmp_path / "b", log=lambda _: None, resume=True)
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert np.array_equal(a.numpy(), b.numpy())


def test_jet_mass_is_computed_when_the_file_has_no_column(jets, tmp_path):
    train = jets[0].select(np.arange(0, 400, 4))
    stripped = LabelledJets(
        type(train.jets)(train.jets.constituents, train.jets.labels, train.jets.features[[]])
    )
    config = _config(epochs=1, method="disco", strength=1)
    train_tagger(config, stripped, tmp_path / "run", log=lambda _: None)
    bad = _config(epochs=1, method="disco", strength=1, variable="tau99")
    with pytest.raises(ConfigError, match="tau99"):
        train_tagger(bad, train, tmp_path / "bad", log=lambda _: None)
