"""Preprocessing, save/load errors, the per-mass ensemble, configs and predict inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hep_pnn.errors import ConfigError, DataError, ModelError, OutputExistsError
from hep_pnn.models import (
    ModelConfig,
    PerMassEnsemble,
    build_model,
    export_program,
    load_model,
    preset,
    save_model,
)

FEATURES = ("a", "b", "c")


def _net(name: str = "pnn", seed: int = 0, **overrides):
    return build_model(preset(name, hidden=(5,), **overrides), feature_names=FEATURES, seed=seed)


def _data(n: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    features = rng.normal([1.0, -2.0, 10.0], [0.5, 3.0, 2.0], size=(n, 3)).astype(np.float32)
    mass = rng.choice([500.0, 1000.0, 1500.0], size=n).astype(np.float32)
    return features, mass


def test_standardisation_is_fitted_on_training_data_and_saved(tmp_path):
    train, train_mass = _data(seed=1)
    test, test_mass = _data(seed=2)
    net = _net().fit_preprocessing(train, train_mass)
    np.testing.assert_allclose(net.preprocessing.feature_mean.numpy(), train.mean(0), rtol=1e-5)
    np.testing.assert_allclose(net.preprocessing.feature_std.numpy(), train.std(0), rtol=1e-5)
    before = net.preprocessing.feature_mean.clone()
    net.predict(test, test_mass)
    assert torch.equal(net.preprocessing.feature_mean, before)
    # Raw inputs through the fitted model = standardised inputs through an unfitted twin.
    twin = _net()
    standardised = (test - train.mean(0)) / train.std(0)
    np.testing.assert_allclose(
        net.predict(test, test_mass), twin.predict(standardised, test_mass), atol=1e-6
    )
    save_model(net, tmp_path / "m")
    document = json.loads((tmp_path / "m" / "model.json").read_text())
    assert document["preprocessing"]["fitted"] is True
    np.testing.assert_allclose(document["preprocessing"]["feature_mean"], train.mean(0), rtol=1e-5)
    loaded = load_model(tmp_path / "m")
    assert torch.equal(loaded.preprocessing.feature_std, net.preprocessing.feature_std)


def test_mass_scaling_divide_and_standardise():
    features, mass = _data()
    divide = _net().fit_preprocessing(features, mass)
    assert divide.preprocessing.mass(torch.tensor([750.0])).item() == pytest.approx(0.75)
    standard = _net(mass_scaling="standardise").fit_preprocessing(features, mass)
    scaled = standard.preprocessing.mass(torch.from_numpy(mass))
    assert scaled.mean().item() == pytest.approx(0.0, abs=1e-5)
    assert scaled.std(unbiased=False).item() == pytest.approx(1.0, abs=1e-5)


def test_weighted_fit_uses_weights():
    features = np.array([[0.0, 0.0, 0.0], [4.0, 4.0, 4.0]], dtype=np.float32)
    net = _net().fit_preprocessing(features, None, weight=np.array([3.0, -1.0]))
    np.testing.assert_allclose(net.preprocessing.feature_mean.numpy(), [1.0, 1.0, 1.0])


@pytest.mark.parametrize(
    ("features", "weight", "message"),
    [
        (np.zeros((4, 2)), None, "expected (n >= 1, 3)"),
        (np.array([[0.0, 1.0, np.nan]]), None, "row 0"),
        (np.zeros((4, 3)), np.ones(3), "weight has shape"),
    ],
)
def test_fit_rejects_bad_training_data(features, weight, message):
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _net().fit_preprocessing(features, np.full(len(features), 500.0), weight=weight)


def test_predict_input_errors_and_scalar_mass():
    net = _net()
    features, mass = _data()
    with pytest.raises(DataError, match=r"expects \(n, 3\)"):
        net.predict(features[:, :2], mass)
    with pytest.raises(DataError, match="one mass per event"):
        net.predict(features, mass[:3])
    with pytest.raises(DataError, match="needs the mass"):
        net.predict(features)
    np.testing.assert_array_equal(
        net.predict(features, 1000.0), net.predict(features, np.full(40, 1000.0))
    )
    assert _net("blind").predict(features).shape == (40,)
    assert net.predict(features[:0], mass[:0]).shape == (0,)


def test_save_refuses_to_overwrite(tmp_path):
    save_model(_net(), tmp_path / "m")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        save_model(_net(seed=1), tmp_path / "m")
    save_model(_net(seed=1), tmp_path / "m", overwrite=True)
    features, mass = _data()
    np.testing.assert_array_equal(
        load_model(tmp_path / "m").predict(features, mass), _net(seed=1).predict(features, mass)
    )


@pytest.mark.parametrize(
    ("expected", "message"),
    [
        (["a", "b"], "expects 3 features, the data has 2; missing: c"),
        (["a", "b", "c", "x"], "not used by the model: x"),
        (["b", "a", "c"], "position 0 is 'b', the model expects 'a'"),
    ],
)
def test_load_checks_feature_names(tmp_path, expected, message):
    save_model(_net(), tmp_path / "m")
    with pytest.raises(ModelError, match=message):
        load_model(tmp_path / "m", expected_features=expected)


def _corrupt(folder, name, text):
    (folder / name).write_text(text)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / "model.json").unlink(), "model.json is missing"),
        (lambda f: (f / "model.safetensors").unlink(), "model.safetensors is missing"),
        (lambda f: _corrupt(f, "model.json", "{not json"), "not valid JSON"),
        (lambda f: _corrupt(f, "model.json", '{"format": "x"}'), "not a hep-pnn model"),
        (lambda f: _corrupt(f, "model.safetensors", "garbage"), "cannot read the weights"),
    ],
)
def test_load_reports_damaged_folders(tmp_path, damage, message):
    save_model(_net(), tmp_path / "m")
    damage(tmp_path / "m")
    with pytest.raises(ModelError, match=message):
        load_model(tmp_path / "m")


def test_load_reports_missing_folder_and_mismatched_weights(tmp_path):
    with pytest.raises(ModelError, match="no such model folder"):
        load_model(tmp_path / "nowhere")
    save_model(_net(), tmp_path / "run" / "model")
    with pytest.raises(ModelError, match="did you mean"):
        load_model(tmp_path / "run")
    save_model(_net("affine"), tmp_path / "other")
    (tmp_path / "run" / "model" / "model.safetensors").write_bytes(
        (tmp_path / "other" / "model.safetensors").read_bytes()
    )
    with pytest.raises(ModelError, match="weights do not match"):
        load_model(tmp_path / "run" / "model")


@pytest.mark.parametrize(("mechanism", "layer"), [("bias", "shift"), ("scale", "scale")])
def test_bias_and_scale_saved_without_intercepts_load_with_zero_intercepts(
    tmp_path, mechanism, layer
):
    from safetensors.torch import load_file, save_file

    features, mass = _data()
    net = _net("affine", conditioning=mechanism, placement="every").fit_preprocessing(
        features, mass
    )
    intercept = f"hidden.0.conditioning.{layer}.bias"
    with torch.no_grad():
        net.get_parameter(intercept).fill_(0.5)  # an intercept format version 1 did not hold
    save_model(net, tmp_path / "model")
    description = tmp_path / "model" / "model.json"
    weights = tmp_path / "model" / "model.safetensors"
    tensors = load_file(str(weights))
    assert f"0.{intercept}" in tensors
    assert json.loads(description.read_text())["format_version"] == 2
    without = {k: v for k, v in tensors.items() if k != f"0.{intercept}"}
    save_file(without, str(weights))
    # a version-2 file must hold its intercepts: a missing one is damage, not history
    with pytest.raises(ModelError, match="weights do not match"):
        load_model(tmp_path / "model")
    # a version-1 file (written before intercepts existed) loads with zero intercepts
    _edit_description(tmp_path / "model", lambda document: document.update(format_version=1))
    loaded = load_model(tmp_path / "model")
    assert loaded.get_parameter(intercept).abs().sum() == 0
    with torch.no_grad():
        net.get_parameter(intercept).zero_()
    np.testing.assert_array_equal(loaded.predict(features, mass), net.predict(features, mass))
    # any other missing bias is still an error, in version 1 too
    save_file({k: v for k, v in without.items() if k != "0.output.bias"}, str(weights))
    with pytest.raises(ModelError, match="weights do not match"):
        load_model(tmp_path / "model")


def _edit_description(folder, edit) -> None:
    """Rewrite ``folder/model.json`` through ``edit(document)``."""
    path = folder / "model.json"
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


def test_newer_format_versions_are_refused(tmp_path):
    save_model(_net(), tmp_path / "model")
    _edit_description(tmp_path / "model", lambda document: document.update(format_version=3))
    with pytest.raises(ModelError, match="reads format versions 1, 2"):
        load_model(tmp_path / "model")


def test_load_reports_bad_config_key(tmp_path):
    save_model(_net(), tmp_path / "m")
    _edit_description(tmp_path / "m", lambda document: document["config"].update(depth=3))
    with pytest.raises(ModelError, match="bad model description"):
        load_model(tmp_path / "m")


def _ensemble():
    return PerMassEnsemble({m: _net("individual", seed=i) for i, m in enumerate([1000.0, 500.0])})


def test_ensemble_routes_to_the_nearest_mass(tmp_path):
    ensemble = _ensemble()
    assert ensemble.training_masses == (500.0, 1000.0)
    features, _ = _data()
    mass = np.array([400.0, 600.0, 750.0, 800.0, 2000.0] * 8, dtype=np.float32)
    scores = ensemble.predict(features, mass)
    low = ensemble.members[500.0].predict(features)
    high = ensemble.members[1000.0].predict(features)
    # Different row counts may round differently in the matmul kernels.
    np.testing.assert_allclose(scores, np.where(mass <= 750.0, low, high), atol=1e-6)
    assert np.abs(low - high).min() > 1e-4
    save_model(ensemble, tmp_path / "e")
    loaded = load_model(tmp_path / "e", expected_features=FEATURES)
    assert isinstance(loaded, PerMassEnsemble) and "500, 1000" in repr(loaded)
    np.testing.assert_array_equal(loaded.predict(features, mass), scores)


def test_ensemble_rejects_bad_members():
    with pytest.raises(ModelError, match="at least one network"):
        PerMassEnsemble({})
    other = build_model(preset("individual", hidden=(5,)), feature_names=["x", "y", "z"])
    with pytest.raises(ModelError, match="mass 1000"):
        PerMassEnsemble({500.0: _net("individual"), 1000.0: other})
    with pytest.raises(ModelError, match="cannot export"):
        export_program(_ensemble())


def test_config_errors():
    with pytest.raises(ConfigError, match="choose one of pnn, affine"):
        preset("baldi")
    with pytest.raises(ConfigError, match="model option dropout"):
        preset("affine", dropout=1.5)
    with pytest.raises(ConfigError, match="unknown conditioning 'film'"):
        preset("affine", conditioning="film")
    with pytest.raises(ValueError, match="Extra inputs"):
        ModelConfig(depth=3)
    with pytest.raises(DataError, match="repeated"):
        build_model(preset("pnn"), feature_names=["a", "a"])


def test_model_info_command(tmp_path, capsys):
    from hep_pnn.cli import main

    net = _net("affine")
    net.training_masses = (500.0, 1000.0)
    save_model(net, tmp_path / "m")
    with pytest.raises(SystemExit) as exit_info:
        main(["model-info", str(tmp_path / "m")])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "conditioning affine after every layer" in out
    assert f"parameters: {sum(p.numel() for p in net.parameters()):,}" in out
    assert "training masses: 500, 1000" in out
    with pytest.raises(SystemExit) as exit_info:
        main(["model-info", str(tmp_path / "missing")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("pnn: error:") and "no such model folder" in err and "\n" not in err
