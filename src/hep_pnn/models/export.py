"""Export a trained network as a ``torch.export`` program (the basis of ONNX export)."""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from hep_pnn.errors import ModelError
from hep_pnn.models.network import ParametricNet

__all__ = ["export_program"]


class _Frozen(nn.Module):
    """Inference-only wrapper: ``(features, mass) -> probability or logit``."""

    def __init__(self, net: ParametricNet, *, probabilities: bool) -> None:
        super().__init__()
        self.net = net
        self.probabilities = probabilities

    def forward(self, features: Tensor, mass: Tensor) -> Tensor:
        logits = self.net(features, mass)
        return torch.sigmoid(logits) if self.probabilities else logits


def export_program(
    model: ParametricNet, *, probabilities: bool = True
) -> torch.export.ExportedProgram:
    """Export a frozen eval-mode copy of ``model`` with inputs ``features (n, f)``, ``mass (n,)``.

    The batch size ``n`` is dynamic. Models without mass input still take (and ignore)
    ``mass``, so every exported model has the same signature.

    Example:
        >>> from hep_pnn.models import build_model, preset
        >>> program = export_program(build_model(preset("pnn", hidden=(4,)), feature_names=["a"]))
        >>> program.module()(torch.zeros(3, 1), torch.full((3,), 500.0)).shape
        torch.Size([3])
    """
    if not isinstance(model, ParametricNet):
        raise ModelError(
            f"cannot export a {type(model).__name__}",
            where="export_program(model)",
            fix="export a ParametricNet (export the members of an ensemble one by one)",
        )
    frozen = _Frozen(copy.deepcopy(model).eval().requires_grad_(False), probabilities=probabilities)
    n_features = len(model.feature_names)
    example = (torch.zeros(4, n_features), torch.full((4,), 1000.0))
    batch = torch.export.Dim("batch")
    with torch.no_grad():
        return torch.export.export(
            frozen, example, dynamic_shapes={"features": {0: batch}, "mass": {0: batch}}
        )
