"""ONNX export: parity with PyTorch through onnxruntime, metadata, and refusals.

``torch.onnx.export`` rebuilds its operator registry on every call (about 2 s of CPU), so
the conditioning grid is exported once: as a :class:`PerMassEnsemble` whose members are
the 12 mechanism × placement networks (plus one without mass input), each at its own
mass. Scoring every member at its mass runs that member's sub-graph, so each
combination is compared with its own PyTorch network, and the routing by nearest mass
is checked on the way.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from hep_pnn import __version__
from hep_pnn.errors import DataError, ModelError, OutputExistsError
from hep_pnn.models import CONDITIONINGS, PerMassEnsemble, build_model, preset
from hep_pnn.models.onnx import ONNX_OPSET, OnnxScorer, export_onnx, read_onnx_metadata

N_EVENTS = 10_000
N_FEATURES = 27
FEATURES = [f"f{i}" for i in range(N_FEATURES)]
TOLERANCE = 1e-5


def _events(n: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw-scale features (offsets and spreads far from 0/1) and masses in GeV."""
    rng = np.random.default_rng(seed)
    centre = rng.uniform(-50, 200, N_FEATURES)
    spread = rng.uniform(0.5, 40, N_FEATURES)
    features = (centre + spread * rng.normal(size=(n, N_FEATURES))).astype(np.float32)
    return features, rng.uniform(400, 1600, n).astype(np.float32)


def _trained_like(config, *, seed: int, masses=(500.0, 750.0, 1000.0, 1250.0, 1500.0)):
    """A network with fitted preprocessing, so standardisation matters in the graph."""
    net = build_model(config, feature_names=FEATURES, seed=seed)
    features, mass = _events(2_000, seed=seed + 100)
    net.fit_preprocessing(features, mass)
    net.training_masses = tuple(masses)
    return net


@pytest.mark.parametrize("name", ["pnn", "affine"])
def test_reference_preset_matches_pytorch(tmp_path: Path, name: str) -> None:
    net = _trained_like(preset(name), seed=1)
    net.train()  # the export must still run the eval-mode graph (AffinePNN has dropout)
    path = export_onnx(net, tmp_path / f"{name}.onnx")
    assert net.training, "export must restore the training mode"

    features, mass = _events(N_EVENTS, seed=2)
    scorer = OnnxScorer(path)
    onnx_scores = scorer.predict(features, mass)
    torch_scores = net.predict(features, mass)
    assert onnx_scores.shape == (N_EVENTS,)
    assert np.abs(onnx_scores - torch_scores).max() <= TOLERANCE
    # The scores must depend on the inputs, or parity would prove nothing.
    assert len(np.unique(torch_scores)) > N_EVENTS // 2
    # Dynamic batch: a single event and an odd-sized batch go through the same file.
    assert np.abs(scorer.predict(features[:1], mass[:1]) - torch_scores[:1]).max() <= TOLERANCE
    odd = scorer.predict(features[:37], mass[:37], batch_size=10)
    assert np.abs(odd - torch_scores[:37]).max() <= TOLERANCE


@pytest.fixture(scope="module")
def small_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small exported AffinePNN shared by the tests that do not check parity."""
    net = _trained_like(preset("affine", hidden=(8, 4)), seed=3, masses=(750.0, 500.0, 1250.0))
    return export_onnx(net, tmp_path_factory.mktemp("onnx") / "small.onnx")


def test_metadata_and_graph_signature(small_onnx: Path) -> None:
    path = small_onnx
    meta = read_onnx_metadata(path)
    assert json.loads(meta["hep_pnn.feature_names"]) == FEATURES
    assert json.loads(meta["hep_pnn.training_masses"]) == [500.0, 750.0, 1250.0]
    assert json.loads(meta["hep_pnn.mass_range"]) == [500.0, 1250.0]
    assert meta["hep_pnn.version"] == __version__
    assert "conditioning=affine" in meta["hep_pnn.model_kind"]
    proto = onnx.load(path)
    assert [entry.version for entry in proto.opset_import if entry.domain == ""] == [ONNX_OPSET]
    assert [i.name for i in proto.graph.input] == ["features", "mass"]
    assert [o.name for o in proto.graph.output] == ["score"]
    batch_dims = [i.type.tensor_type.shape.dim[0] for i in proto.graph.input]
    assert all(dim.dim_param and not dim.dim_value for dim in batch_dims)
    scorer = OnnxScorer(path)
    assert scorer.feature_names == tuple(FEATURES)
    assert scorer.training_masses == (500.0, 750.0, 1250.0)


def test_every_conditioning_and_placement_matches_pytorch(tmp_path: Path) -> None:
    configs = [
        preset("affine", conditioning=mechanism, placement=placement, hidden=(32, 16))
        for mechanism in CONDITIONINGS
        for placement in ("input", "every", "output")
    ]
    configs.append(preset("blind", hidden=(32, 16)))
    assert len(configs) == 4 * 3 + 1
    masses = [500.0 + 100.0 * i for i in range(len(configs))]
    members = {
        m: _trained_like(c, seed=10 + i)
        for i, (m, c) in enumerate(zip(masses, configs, strict=True))
    }
    ensemble = PerMassEnsemble(members)
    scorer = OnnxScorer(export_onnx(ensemble, tmp_path / "grid.onnx"))
    assert scorer.model_kind == "per_mass_ensemble"

    features, _ = _events(N_EVENTS, seed=4)
    for mass, config in zip(masses, configs, strict=True):
        # Masses near (but not at) the member's own mass, so the mass input varies.
        mass_column = np.full(N_EVENTS, mass, dtype=np.float32) + np.linspace(-40, 40, N_EVENTS)
        expected = members[mass].predict(features, mass_column)
        got = scorer.predict(features, mass_column.astype(np.float32))
        label = f"{config.conditioning}/{config.placement}"
        assert np.abs(got - expected).max() <= TOLERANCE, label
        # Scores that vary from event to event, or parity would prove little.
        assert len(np.unique(expected)) > N_EVENTS // 2, label

    # Routing: anywhere in and beyond the range, including exact half-way points.
    features, mass = _events(2_000, seed=5)
    mass[:12] = [550.0 + 100.0 * i for i in range(12)]
    assert np.abs(scorer.predict(features, mass) - ensemble.predict(features, mass)).max() <= (
        TOLERANCE
    )


def test_export_refuses_models_that_are_not_networks(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot export a dict"):
        export_onnx({"weights": 1}, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_export_refuses_existing_output_before_exporting(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_text("keep me")
    net = build_model(preset("pnn", hidden=(4,)), feature_names=["a"])
    with pytest.raises(OutputExistsError, match="--overwrite"):
        export_onnx(net, path)
    assert path.read_text() == "keep me"


def test_scorer_refuses_bad_files_and_bad_inputs(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x00not an onnx model at all" * 10)
    with pytest.raises(ModelError, match="not a readable ONNX file"):
        OnnxScorer(garbage)
    with pytest.raises(ModelError, match="file not found"):
        OnnxScorer(tmp_path / "missing.onnx")

    # A valid ONNX file that was not written by hep-pnn has no feature names.
    node = onnx.helper.make_node("Identity", ["x"], ["y"])
    graph = onnx.helper.make_graph(
        [node],
        "g",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [None])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [None])],
    )
    foreign = tmp_path / "foreign.onnx"
    onnx.save(onnx.helper.make_model(graph), foreign)
    with pytest.raises(ModelError, match="no hep-pnn metadata"):
        OnnxScorer(foreign)


def test_scorer_checks_input_shapes(small_onnx: Path) -> None:
    scorer = OnnxScorer(small_onnx)
    with pytest.raises(DataError, match=r"the model needs \(n, 27\)"):
        scorer.predict(np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(DataError, match="2 masses for 3 events"):
        scorer.predict(np.zeros((3, 27)), np.zeros(2))
    assert scorer.predict(np.zeros((0, 27)), np.zeros(0)).shape == (0,)


def test_scorer_sessions_treat_denormals_as_zero(small_onnx: Path) -> None:
    options = OnnxScorer(small_onnx)._session.get_session_options()
    assert options.get_session_config_entry("session.set_denormal_as_zero") == "1"
