r"""ONNX export of trained networks, and a scorer that runs the exported file.

The exported graph takes the *raw* inputs an analysis has at hand and returns the
probability, so no preprocessing has to be re-implemented next to it:

* input ``features``: ``(n, f)`` float32, the features in the training order;
* input ``mass``: ``(n,)`` float32, the mass hypothesis in GeV;
* output ``score``: ``(n,)`` float32, the signal probability (sigmoid of the logit).

Feature standardisation and mass scaling are buffers of the network, so they are part
of the graph. The batch size is dynamic and the opset is pinned (:data:`ONNX_OPSET`).
The model's ``metadata_props`` carry what a user needs to feed it correctly (keys in
:data:`METADATA_KEYS`): the feature names in order (JSON list), the training masses and
their range (JSON), the hep-pnn version and the model kind.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hep_pnn._io import atomic_path, check_writable
from hep_pnn.errors import DataError, ModelError
from hep_pnn.models.ensemble import PerMassEnsemble
from hep_pnn.models.export import export_program
from hep_pnn.models.network import ParametricNet

if TYPE_CHECKING:
    import torch

__all__ = ["METADATA_KEYS", "ONNX_OPSET", "OnnxScorer", "export_onnx", "read_onnx_metadata"]

#: The ONNX opset every export uses unless told otherwise.
ONNX_OPSET = 18

#: ``metadata_props`` keys written by :func:`export_onnx`.
METADATA_KEYS = (
    "hep_pnn.feature_names",
    "hep_pnn.training_masses",
    "hep_pnn.mass_range",
    "hep_pnn.version",
    "hep_pnn.model_kind",
    "hep_pnn.output",
)


def _model_kind(model: Any) -> str:
    kind = getattr(model, "kind", None)
    if kind:
        return str(kind)
    config = model.config
    hidden = "-".join(str(width) for width in config.hidden)
    return (
        f"parametric_net(conditioning={config.conditioning}, placement={config.placement}, "
        f"hidden={hidden})"
    )


def _metadata(model: ParametricNet | PerMassEnsemble) -> dict[str, str]:
    from hep_pnn import __version__

    masses = sorted(float(m) for m in model.training_masses)
    return {
        "hep_pnn.feature_names": json.dumps(list(model.feature_names)),
        "hep_pnn.training_masses": json.dumps(masses),
        "hep_pnn.mass_range": json.dumps([masses[0], masses[-1]] if masses else []),
        "hep_pnn.version": __version__,
        "hep_pnn.model_kind": _model_kind(model),
        "hep_pnn.output": "probability",
    }


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence the exporter's chatter (missing torchvision ops, deprecations) during export."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _nearest_mass_graph(ensemble: PerMassEnsemble) -> torch.nn.Module:
    """One module routing each event to the member of the nearest training mass.

    Every member scores every event and the graph picks one column, so the ONNX file
    costs ``len(members)`` networks per event; the choice matches
    :meth:`PerMassEnsemble.nearest_mass_index` (exactly half-way goes to the lower mass).
    """
    import torch

    class NearestMassGraph(torch.nn.Module):
        midpoints: torch.Tensor  # a buffer

        def __init__(self) -> None:
            super().__init__()
            self.members = torch.nn.ModuleList(
                copy.deepcopy(net).eval().requires_grad_(False) for net in ensemble.members.values()
            )
            masses = torch.tensor(ensemble.training_masses, dtype=torch.float64)
            self.register_buffer("midpoints", ((masses[1:] + masses[:-1]) / 2).float())

        def forward(self, features: torch.Tensor, mass: torch.Tensor) -> torch.Tensor:
            scores = torch.stack([torch.sigmoid(net(features, mass)) for net in self.members], 1)
            # The number of midpoints below the mass is the nearest member's index.
            index = (mass.unsqueeze(1) > self.midpoints).sum(dim=1, keepdim=True)
            return scores.gather(1, index).squeeze(1)

    return NearestMassGraph()


def _program(model: ParametricNet | PerMassEnsemble) -> torch.export.ExportedProgram:
    """The eval-mode ``torch.export`` program returning probabilities, dynamic batch."""
    import torch

    if isinstance(model, ParametricNet):
        return export_program(model, probabilities=True)
    if len(model.members) == 1:
        return export_program(next(iter(model.members.values())), probabilities=True)
    example = (torch.zeros(4, len(model.feature_names)), torch.full((4,), 1000.0))
    batch = torch.export.Dim("batch")
    with torch.no_grad():
        return torch.export.export(
            _nearest_mass_graph(model),
            example,
            dynamic_shapes={"features": {0: batch}, "mass": {0: batch}},
        )


def export_onnx(
    model: Any,
    path: str | os.PathLike[str],
    *,
    opset: int = ONNX_OPSET,
    overwrite: bool = False,
) -> Path:
    r"""Write a trained network as an ONNX file that returns the signal probability.

    The model is exported in eval mode (no dropout) through ``torch.export`` and
    ``torch.onnx.export(..., dynamo=True)`` with a dynamic batch dimension. A
    :class:`~hep_pnn.models.PerMassEnsemble` becomes one graph that routes each event to
    the member of the nearest training mass, as its ``predict`` does (every member runs on
    every event, so it is ``len(members)`` times slower than one network). Other models
    (BDT, kNN) raise :class:`~hep_pnn.errors.ModelError`.

    Args:
        model: a :class:`~hep_pnn.models.ParametricNet` or a per-mass ensemble.
        path: the ``.onnx`` file to write (atomically).
        opset: the ONNX opset to pin.
        overwrite: replace an existing file.

    Returns:
        The path written.

    Example:
        >>> import tempfile, pathlib
        >>> from hep_pnn.models import build_model, preset
        >>> net = build_model(preset("affine", hidden=(8, 4)), feature_names=["a", "b"])
        >>> out = export_onnx(net, pathlib.Path(tempfile.mkdtemp()) / "net.onnx")
        >>> scorer = OnnxScorer(out)
        >>> x, m = np.ones((3, 2), dtype=np.float32), np.array([500.0, 750.0, 1000.0])
        >>> difference = np.abs(scorer.predict(x, m) - net.predict(x, m)).max()
        >>> scorer.feature_names, bool(difference < 1e-6)
        (('a', 'b'), True)
    """
    import onnx
    import torch

    if not isinstance(model, ParametricNet | PerMassEnsemble):
        raise ModelError(
            f"cannot export a {type(model).__name__} to ONNX: only hep-pnn networks and "
            "per-mass ensembles of networks can be exported",
            where="model",
            fix="export a network model (e.g. preset 'affine' or 'pnn')",
        )
    # Fail before the (slow) export if the result could not be written.
    check_writable(path, overwrite=overwrite)
    with _quiet_exporter():
        program = torch.onnx.export(
            _program(model),
            input_names=["features", "mass"],
            output_names=["score"],
            opset_version=opset,
            dynamo=True,
            verbose=False,
        )
    assert program is not None  # None only from the legacy exporter (dynamo=False)
    proto = program.model_proto
    for key, value in _metadata(model).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.doc_string = "hep-pnn classifier: inputs features (n, f) and mass (n,) in GeV"
    with atomic_path(path, overwrite=overwrite) as tmp:
        onnx.save_model(proto, tmp)
    return Path(path)


def read_onnx_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``metadata_props`` of an ONNX file as a dict (hep-pnn keys and any others)."""
    import onnx

    try:
        proto = onnx.load_model(os.fspath(path), load_external_data=False)
    except FileNotFoundError:
        raise ModelError("file not found", where=f"model {path}", fix="check the path") from None
    except Exception as err:  # onnx raises protobuf DecodeError and others for a bad file
        raise ModelError(
            f"not a readable ONNX file ({type(err).__name__})",
            where=f"model {path}",
            fix="pass an .onnx file written by `pnn export`",
        ) from None
    return {entry.key: entry.value for entry in proto.metadata_props}


class OnnxScorer:
    """Score events with an ONNX file written by :func:`export_onnx` (onnxruntime, CPU).

    Offers the scorer interface of every trained model: ``predict``, ``feature_names``
    and ``training_masses``.

    Args:
        path: the ``.onnx`` file.
        threads: onnxruntime intra-op threads.

    Example:
        See :func:`export_onnx`.
    """

    def __init__(self, path: str | os.PathLike[str], *, threads: int = 2) -> None:
        import onnxruntime

        self.path = Path(path)
        self.metadata = read_onnx_metadata(self.path)
        missing = [key for key in ("hep_pnn.feature_names",) if key not in self.metadata]
        if missing:
            raise ModelError(
                "the ONNX file has no hep-pnn metadata (feature names)",
                where=f"model {self.path}",
                fix="export the model with `pnn export` or hep_pnn.models.onnx.export_onnx",
            )
        self.feature_names: tuple[str, ...] = tuple(
            json.loads(self.metadata["hep_pnn.feature_names"])
        )
        self.training_masses: tuple[float, ...] = tuple(
            json.loads(self.metadata.get("hep_pnn.training_masses", "[]"))
        )
        self.model_kind = self.metadata.get("hep_pnn.model_kind", "unknown")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        # denormals are slow on x86 and meaningless for scores (hep_pnn._denormals)
        options.add_session_config_entry("session.set_denormal_as_zero", "1")
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            os.fspath(self.path), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def __repr__(self) -> str:
        return (
            f"OnnxScorer({os.fspath(self.path)!r}, kind={self.model_kind!r}, "
            f"features={len(self.feature_names)})"
        )

    def predict(
        self, features: np.ndarray, mass: np.ndarray, *, batch_size: int = 16_384
    ) -> np.ndarray:
        """Signal probabilities, shape ``(n,)`` float32, for raw features and masses in GeV.

        ``batch_size`` rows go through the graph at a time: its activations (about
        ``batch_size × 300 × 4`` bytes per layer tensor) dominate the memory, while
        larger batches are hardly faster.
        """
        features = np.ascontiguousarray(features, dtype=np.float32)
        mass = np.ascontiguousarray(mass, dtype=np.float32).reshape(-1)
        if features.ndim != 2 or features.shape[1] != len(self.feature_names):
            raise DataError(
                f"features have shape {features.shape}, the model needs (n, "
                f"{len(self.feature_names)})",
                where=f"model {self.path}",
                fix=f"pass the columns {', '.join(self.feature_names)} in this order",
            )
        if mass.shape[0] != features.shape[0]:
            raise DataError(
                f"{mass.shape[0]} masses for {features.shape[0]} events",
                where=f"model {self.path}",
                fix="pass one mass per event",
            )
        scores = np.empty(features.shape[0], dtype=np.float32)
        for start in range(0, features.shape[0], batch_size):
            stop = start + batch_size
            (scores[start:stop],) = self._session.run(
                ["score"], {"features": features[start:stop], "mass": mass[start:stop]}
            )
        return scores
