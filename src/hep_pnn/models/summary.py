"""A short, human-readable description of a model."""

from __future__ import annotations

from hep_pnn.models.ensemble import PerMassEnsemble
from hep_pnn.models.network import ParametricNet

__all__ = ["describe_model"]


def _masses(masses: tuple[float, ...]) -> str:
    return ", ".join(f"{m:g}" for m in masses) or "not recorded"


def describe_model(model: ParametricNet | PerMassEnsemble) -> str:
    """A few lines: kind, architecture, parameters, features and training masses.

    Example:
        >>> from hep_pnn.models import build_model, preset
        >>> print(describe_model(build_model(preset("pnn", hidden=(4,)), feature_names=["a"])))
        parametric network: conditioning concat at the input, hidden (4,), relu, dropout 0.25
        parameters: 17
        features (1): a
        preprocessing: not fitted, mass divide
        training masses: not recorded
    """
    if isinstance(model, PerMassEnsemble):
        first = next(iter(model.members.values()))
        count = sum(p.numel() for net in model.members.values() for p in net.parameters())
        return "\n".join(
            [
                f"per-mass ensemble of {len(model.members)} networks "
                f"(nearest trained mass, no interpolation), hidden {first.config.hidden}",
                f"parameters: {count:,}",
                f"features ({len(model.feature_names)}): {', '.join(model.feature_names)}",
                f"training masses: {_masses(model.training_masses)}",
            ]
        )
    config = model.config
    where = {"input": "at the input", "every": "after every layer", "output": "before the output"}
    conditioning = (
        f"conditioning {config.conditioning} {where[config.placement]}"
        if config.uses_mass
        else "no mass input"
    )
    fitted = "fitted" if bool(model.preprocessing.fitted) else "not fitted"
    return "\n".join(
        [
            f"parametric network: {conditioning}, hidden {config.hidden}, "
            f"{config.activation}, dropout {config.dropout}",
            f"parameters: {sum(p.numel() for p in model.parameters()):,}",
            f"features ({len(model.feature_names)}): {', '.join(model.feature_names)}",
            f"preprocessing: {fitted}, mass {config.mass_scaling}",
            f"training masses: {_masses(model.training_masses)}",
        ]
    )
