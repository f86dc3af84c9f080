"""Resumable checkpoints: one safetensors file (tensors) with JSON metadata, written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from hep_pnn._io import atomic_path
from hep_pnn.errors import ModelError
from hep_pnn.run_files import CHECKPOINT_FILE

__all__ = [
    "CHECKPOINT_FILE",
    "load_checkpoint",
    "optimizer_from_flat",
    "optimizer_to_flat",
    "save_checkpoint",
]


def save_checkpoint(
    directory: str | os.PathLike[str], *, tensors: dict[str, torch.Tensor], state: dict[str, Any]
) -> Path:
    """Write ``tensors`` and the JSON-able ``state`` to ``directory/checkpoint.safetensors``.

    The file is written next to its final name and renamed into place, so a process killed at
    any moment leaves either the previous or the new checkpoint, never a broken one.

    Example:
        >>> import tempfile, torch
        >>> folder = tempfile.mkdtemp()
        >>> _ = save_checkpoint(folder, tensors={"w": torch.ones(2)}, state={"epoch": 3})
        >>> tensors, state = load_checkpoint(folder)
        >>> tensors["w"].tolist(), state["epoch"]
        ([1.0, 1.0], 3)
    """
    path = Path(directory) / CHECKPOINT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    # copies: the trainer's parameters are views of shared flat buffers (safetensors
    # refuses tensors that share memory)
    contiguous = {key: value.detach().clone() for key, value in tensors.items()}
    with atomic_path(path, overwrite=True, option="checkpoint") as tmp:
        save_file(contiguous, str(tmp), metadata={"state": json.dumps(state)})
    return path


def load_checkpoint(directory: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], dict]:
    """Read a checkpoint written by :func:`save_checkpoint`: (tensors, state)."""
    path = Path(directory) / CHECKPOINT_FILE
    try:
        tensors = load_file(str(path))
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            state = json.loads((handle.metadata() or {})["state"])
    except FileNotFoundError:
        raise ModelError(
            "no checkpoint to resume from",
            where=str(path),
            fix="start the run again without --resume (and with --overwrite)",
        ) from None
    except (SafetensorError, KeyError, json.JSONDecodeError, OSError) as err:
        raise ModelError(f"unreadable checkpoint ({err})", where=str(path)) from None
    return tensors, state


def optimizer_to_flat(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimizer's state into tensors (``optim.<param>.<key>``) and JSON."""
    full = optimizer.state_dict()
    tensors = {
        f"optim.{param}.{key}": value
        for param, entries in full["state"].items()
        for key, value in entries.items()
        if isinstance(value, torch.Tensor)
    }
    scalars = {
        str(param): {k: v for k, v in entries.items() if not isinstance(v, torch.Tensor)}
        for param, entries in full["state"].items()
    }
    return tensors, {"param_groups": full["param_groups"], "scalars": scalars}


def optimizer_from_flat(
    optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], flat: dict
) -> None:
    """Inverse of :func:`optimizer_to_flat`."""
    state: dict[int, dict[str, Any]] = {int(p): dict(v) for p, v in flat["scalars"].items()}
    for name, value in tensors.items():
        if name.startswith("optim."):
            _, param, key = name.split(".", 2)
            state.setdefault(int(param), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": flat["param_groups"]})
