"""Save and load models as ``model.json`` (readable description) + ``model.safetensors``.

No pickle is involved: the JSON holds the architecture config, feature names, training
masses and preprocessing, and safetensors holds the tensors.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from pydantic import ValidationError
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from hep_pnn._io import atomic_dir
from hep_pnn.errors import ModelError
from hep_pnn.models._inference import check_feature_names
from hep_pnn.models.conditioning import Bias, Scale
from hep_pnn.models.config import ModelConfig
from hep_pnn.models.ensemble import PerMassEnsemble
from hep_pnn.models.network import ParametricNet, build_model
from hep_pnn.run_files import MODEL_CONFIG, MODEL_DIR, MODEL_WEIGHTS

__all__ = ["CONFIG_FILE", "WEIGHTS_FILE", "load_model", "save_model"]

CONFIG_FILE = MODEL_CONFIG
WEIGHTS_FILE = MODEL_WEIGHTS
FORMAT = "hep-pnn-model"
#: Version 2: bias and scale conditioning have an intercept. Version-1 files (without it)
#: load with a zero intercept, the function they were saved with.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
KINDS = ("parametric_net", PerMassEnsemble.kind)


def _describe(net: ParametricNet) -> dict[str, Any]:
    prep = net.preprocessing
    return {
        "config": net.config.model_dump(mode="json"),
        "feature_names": list(net.feature_names),
        "training_masses": [float(m) for m in net.training_masses],
        "preprocessing": {
            "fitted": bool(prep.fitted),
            "feature_mean": prep.feature_mean.tolist(),
            "feature_std": prep.feature_std.tolist(),
            "mass_scaling": prep.mass_scaling,
            "mass_offset": float(prep.mass_offset),
            "mass_divisor": float(prep.mass_divisor),
        },
    }


def save_model(
    model: ParametricNet | PerMassEnsemble,
    directory: str | os.PathLike[str],
    *,
    overwrite: bool = False,
) -> Path:
    """Write ``directory/model.json`` and ``directory/model.safetensors`` atomically.

    Example:
        >>> import tempfile
        >>> from hep_pnn.models import build_model, preset
        >>> net = build_model(preset("pnn", hidden=(4,)), feature_names=["a", "b"])
        >>> folder = save_model(net, tempfile.mkdtemp() + "/model")
        >>> sorted(p.name for p in folder.iterdir())
        ['model.json', 'model.safetensors']
    """
    from hep_pnn import __version__

    if isinstance(model, PerMassEnsemble):
        nets = list(model.members.values())
        document: dict[str, Any] = {
            "kind": PerMassEnsemble.kind,
            "members": [{"mass": mass, **_describe(net)} for mass, net in model.members.items()],
        }
    else:
        nets = [model]
        document = {"kind": "parametric_net", **_describe(model)}
    document = {"format": FORMAT, "format_version": FORMAT_VERSION, **document}
    document["package_version"] = __version__
    tensors = {
        f"{index}.{name}": tensor.detach().clone()  # a copy: parameters may share a buffer
        for index, net in enumerate(nets)
        for name, tensor in net.state_dict().items()
    }
    directory = Path(directory)
    with atomic_dir(directory, overwrite=overwrite, option="model directory") as tmp:
        (tmp / CONFIG_FILE).write_text(json.dumps(document, indent=2) + "\n")
        save_file(tensors, str(tmp / WEIGHTS_FILE), metadata={"format": FORMAT})
    return directory


def _read_document(directory: Path) -> dict[str, Any]:
    if not directory.is_dir():
        raise ModelError(
            "no such model folder",
            where=str(directory),
            fix="pass the folder written by save_model or the model/ folder of a run",
        )
    path = directory / CONFIG_FILE
    if not path.is_file():
        hint = (
            f"did you mean {directory / 'model'}?"
            if (directory / MODEL_DIR / CONFIG_FILE).is_file()
            else "pass the folder written by save_model (it holds model.json)"
        )
        raise ModelError(f"{CONFIG_FILE} is missing", where=str(directory), fix=hint)
    try:
        document = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelError(
            f"not valid JSON ({err})", where=str(path), fix="re-save the model"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelError(
            f"not a hep-pnn model description (format is not {FORMAT!r})",
            where=str(path),
            fix="pass a folder written by hep_pnn.models.save_model",
        )
    version = document.get("format_version")
    if version not in READABLE_VERSIONS or document.get("kind") not in KINDS:
        raise ModelError(
            f"unsupported model format version {version!r} or kind {document.get('kind')!r}",
            where=str(path),
            fix=f"this hep-pnn reads format versions {', '.join(map(str, READABLE_VERSIONS))}, "
            f"kinds {', '.join(KINDS)}",
        )
    return document


def _build(description: dict[str, Any], where: str) -> ParametricNet:
    try:
        config = ModelConfig(**description["config"])
        net = build_model(config, feature_names=description["feature_names"])
        net.training_masses = tuple(float(m) for m in description.get("training_masses", []))
    except (KeyError, TypeError, ValidationError) as err:
        raise ModelError(
            f"bad model description: {err}".splitlines()[0],
            where=where,
            fix="re-save the model with hep_pnn.models.save_model",
        ) from None
    net.preprocessing.mass_scaling = description.get("preprocessing", {}).get(
        "mass_scaling", config.mass_scaling
    )
    return net.eval()


def _load_weights(nets: list[ParametricNet], path: Path, *, version: int) -> None:
    if not path.is_file():
        raise ModelError(
            f"{WEIGHTS_FILE} is missing", where=str(path.parent), fix="re-save the model"
        )
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as err:
        raise ModelError(
            f"cannot read the weights ({err})", where=str(path), fix="re-save the model"
        ) from None
    for index, net in enumerate(nets):
        prefix = f"{index}."
        state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        expected = net.state_dict()
        if version == 1:
            state.update(_zero_intercepts(net, missing=set(expected) - set(state)))
        missing = sorted(set(expected) - set(state))
        extra = sorted(set(state) - set(expected))
        wrong = [k for k in expected if k in state and state[k].shape != expected[k].shape]
        if missing or extra or wrong:
            raise ModelError(
                f"weights do not match {CONFIG_FILE} (member {index}): missing {missing[:3]}, "
                f"unexpected {extra[:3]}, wrong shape {wrong[:3]}",
                where=str(path),
                fix="keep model.json and model.safetensors from the same save",
            )
        with torch.no_grad():
            net.load_state_dict(state)


def _zero_intercepts(net: ParametricNet, *, missing: set[str]) -> dict[str, torch.Tensor]:
    """Zero intercepts for bias / scale conditioning in a format-version-1 file, saved
    before they had one (the same function: ``W m + 0``)."""
    zeros = {}
    for key in missing:
        owner, _, name = key.rpartition(".")
        if name == "bias" and isinstance(net.get_submodule(owner.rpartition(".")[0]), Bias | Scale):
            zeros[key] = torch.zeros_like(net.get_parameter(key))
    return zeros


def load_model(
    directory: str | os.PathLike[str], *, expected_features: Sequence[str] | None = None
) -> ParametricNet | PerMassEnsemble:
    """Load a model saved by :func:`save_model` (in eval mode); executes no pickle.

    Args:
        directory: the model folder.
        expected_features: if given, the feature columns the caller will pass; a mismatch
            raises :class:`~hep_pnn.errors.ModelError` naming the difference.

    Example:
        >>> import tempfile
        >>> from hep_pnn.models import build_model, preset
        >>> folder = save_model(build_model(preset("blind", hidden=(4,)), feature_names=["a"]),
        ...                     tempfile.mkdtemp() + "/m")
        >>> load_model(folder, expected_features=["a"]).config.conditioning
        'none'
    """
    from hep_pnn.models.baselines import is_baseline_model, load_baseline

    directory = Path(directory)
    if is_baseline_model(directory):
        baseline = load_baseline(directory)
        if expected_features is not None:
            check_feature_names(baseline.feature_names, expected_features)
        return baseline  # type: ignore[return-value]
    document = _read_document(directory)
    where = str(directory / CONFIG_FILE)
    if document["kind"] == PerMassEnsemble.kind:
        members = document.get("members") or []
        nets = [_build(member, f"{where}, member {i}") for i, member in enumerate(members)]
        _load_weights(nets, directory / WEIGHTS_FILE, version=document["format_version"])
        model: ParametricNet | PerMassEnsemble = PerMassEnsemble(
            {float(member["mass"]): net for member, net in zip(members, nets, strict=True)}
        )
    else:
        model = _build(document, where)
        _load_weights([model], directory / WEIGHTS_FILE, version=document["format_version"])
    if expected_features is not None:
        model.check_features(expected_features)
    return model
