"""Save and load jet taggers as ``model.json`` + ``model.safetensors`` (no pickle)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from hep_pnn._io import atomic_dir
from hep_pnn.errors import ModelError
from hep_pnn.models.jets.base import JetTagger
from hep_pnn.models.jets.registry import JET_TAGGERS
from hep_pnn.run_files import MODEL_CONFIG, MODEL_WEIGHTS

__all__ = ["load_tagger", "save_tagger"]

FORMAT = "hep-pnn-jet-tagger"
FORMAT_VERSION = 1


def save_tagger(
    tagger: JetTagger, directory: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write ``directory/model.json`` and ``directory/model.safetensors`` atomically.

    Example:
        >>> import tempfile
        >>> from hep_pnn.models.jets import build_tagger
        >>> folder = save_tagger(build_tagger("jet_cnn"), tempfile.mkdtemp() + "/m")
        >>> load_tagger(folder).kind
        'jet_cnn'
    """
    registered = [name for name, spec in JET_TAGGERS.items() if spec.tagger is type(tagger)]
    document = {"format": FORMAT, "version": FORMAT_VERSION, **tagger.describe()}
    document["preset"] = registered[0] if registered else tagger.kind
    state = {key: value.detach().contiguous() for key, value in tagger.state_dict().items()}
    with atomic_dir(directory, overwrite=overwrite, option="model directory") as tmp:
        (tmp / MODEL_CONFIG).write_text(json.dumps(document, indent=2) + "\n")
        save_file(state, str(tmp / MODEL_WEIGHTS))
    return Path(directory)


def _document(path: Path) -> dict[str, Any]:
    try:
        document: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelError("no saved jet tagger here", where=str(path), fix="train one") from None
    except json.JSONDecodeError as err:
        raise ModelError(f"unreadable model description ({err})", where=str(path)) from None
    if document.get("format") != FORMAT or document.get("preset") not in JET_TAGGERS:
        raise ModelError(
            "not a jet tagger saved by hep-pnn (or an unknown tagger)",
            where=str(path),
            fix="point to the model/ folder of a jet run",
        )
    return document


def load_tagger(directory: str | os.PathLike[str], *, device: str = "cpu") -> JetTagger:
    """Read a tagger written by :func:`save_tagger`, in eval mode, on ``device``."""
    directory = Path(directory)
    document = _document(directory / MODEL_CONFIG)
    spec = JET_TAGGERS[document["preset"]]
    try:
        config = spec.config.model_validate(document["config"])
    except ValidationError as err:
        raise ModelError(f"invalid tagger config ({err})", where=str(directory)) from None
    tagger = spec.tagger(config, seed=int(document.get("seed", 0)))
    try:
        tagger.load_state_dict(load_file(str(directory / MODEL_WEIGHTS)))
    except (SafetensorError, FileNotFoundError, RuntimeError) as err:
        raise ModelError(f"unreadable weights ({err})", where=str(directory)) from None
    return tagger.to(device).eval()
