"""Architecture of a network as data: :class:`ModelConfig` and the named presets."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hep_pnn.errors import ConfigError
from hep_pnn.models.conditioning import CONDITIONINGS

__all__ = ["PRESETS", "ModelConfig", "preset"]


class ModelConfig(BaseModel):
    """Everything needed to build a network (weights and preprocessing live elsewhere).

    Attributes:
        hidden: units of each hidden layer.
        activation: hidden-layer activation.
        dropout: drop probability after each hidden layer (quantised, see
            :func:`hep_pnn.models.fast.dropout_mask`).
        conditioning: ``"none"`` (no mass input) or a key of
            :data:`~hep_pnn.models.conditioning.CONDITIONINGS`.
        placement: where the conditioning acts: on the input features (``"input"``), after
            every hidden activation (``"every"``) or only after the last one (``"output"``).
        mass_scaling: ``"divide"`` (m / 1000, as published) or ``"standardise"``
            (z-score fitted on the training masses).
        init: ``"keras"`` (Glorot-uniform kernels, zero biases) or ``"torch"`` defaults.
        l2_kernel: L2 coefficient of kernels in :meth:`ParametricNet.l2_penalty`.
        l2_bias: L2 coefficient of biases.
        standardise_features: z-score the features with training-set mean and std.

    Example:
        >>> ModelConfig(conditioning="bias", placement="every").hidden
        (300, 150, 100, 50)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    hidden: tuple[int, ...] = (300, 150, 100, 50)
    activation: Literal["relu", "elu", "silu", "tanh"] = "relu"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    conditioning: str = "affine"
    placement: Literal["input", "every", "output"] = "every"
    mass_scaling: Literal["divide", "standardise"] = "divide"
    init: Literal["keras", "torch"] = "keras"
    l2_kernel: float = Field(1e-5, ge=0.0)
    l2_bias: float = Field(1e-6, ge=0.0)
    standardise_features: bool = True

    @field_validator("hidden")
    @classmethod
    def _positive_widths(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(width < 1 for width in value):
            raise ValueError("needs at least one hidden layer, each with at least 1 unit")
        return value

    @field_validator("conditioning")
    @classmethod
    def _known_conditioning(cls, value: str) -> str:
        if value != "none" and value not in CONDITIONINGS:
            known = ", ".join(["none", *CONDITIONINGS])
            raise ValueError(f"unknown conditioning {value!r}; choose one of {known}")
        return value

    @property
    def uses_mass(self) -> bool:
        """Whether the network takes the mass as an input."""
        return self.conditioning != "none"


#: The named architectures: ``pnn`` is Baldi et al. (arXiv:1601.07913), ``affine`` the
#: AffinePNN of Anzalone, Diotalevi, Bonacorsi (arXiv:2202.00424). Every network the
#: published code saved (pNN, AffinePNN, per-mass and mass-blind nets) has a dropout layer
#: after each hidden layer, except the one trained without regularisation on purpose
#: (``benchmarks/reference_checkpoints.py`` reads their checkpoints); the rate is not
#: stored, and the presets use the AffinePNN's published 0.25 for all of them.
PRESETS: dict[str, dict[str, Any]] = {
    "pnn": {"conditioning": "concat", "placement": "input", "dropout": 0.25},
    "affine": {"conditioning": "affine", "placement": "every", "dropout": 0.25},
    "individual": {"conditioning": "none", "dropout": 0.25},
    "blind": {"conditioning": "none", "dropout": 0.25},
    "mlp": {"conditioning": "none", "dropout": 0.0},
}


def preset(name: str, **overrides: Any) -> ModelConfig:
    """The :class:`ModelConfig` of a named preset, optionally with some fields changed.

    Presets: ``pnn`` (Baldi: mass concatenated at the input), ``affine`` (AffinePNN),
    ``individual`` (no mass input; one net per mass), ``blind`` (no mass input) and
    ``mlp`` (plain MLP, for baselines).

    References:
        Baldi et al., "Parameterized neural networks for high-energy physics",
        arXiv:1601.07913 (``pnn``, ``individual``); Anzalone, Diotalevi, Bonacorsi,
        "Improving parametric neural networks for high-energy physics (and beyond)",
        MLST 3 (2022) 035017, arXiv:2202.00424 (``affine``).

    Example:
        >>> preset("affine").dropout
        0.25
        >>> preset("pnn", hidden=(64, 32)).hidden
        (64, 32)
    """
    if name not in PRESETS:
        raise ConfigError(
            f"unknown model preset {name!r}",
            where="model preset",
            fix=f"choose one of {', '.join(PRESETS)}",
        )
    try:
        return ModelConfig(**{**PRESETS[name], **overrides})
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            first["msg"], where=f"model option {key}", fix="see hep_pnn.models.ModelConfig"
        ) from None
