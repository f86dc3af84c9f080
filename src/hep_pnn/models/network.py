r"""The parametric network: preprocessing, hidden blocks with conditioning, one logit out.

Layout of :class:`ParametricNet` for ``conditioning="affine", placement="every"``
(the AffinePNN)::

    raw features ─ standardise ─ Linear ─ ReLU ─ Affine(m) ─ Dropout ─ … ─ Linear ─ logit
    raw mass ───── m / 1000 ────────────────────────┘

With ``placement="input"`` the conditioning acts on the standardised features
(concatenation there is Baldi's pNN); with ``"output"`` only after the last hidden
layer. Concatenation comes after dropout, so the mass column is never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import torch
from torch import Tensor, nn

from hep_pnn._random import spawn
from hep_pnn.errors import DataError
from hep_pnn.models._inference import as_inputs, batched, check_feature_names
from hep_pnn.models.conditioning import CONDITIONINGS, AffineInMass, Conditioning, linear
from hep_pnn.models.config import ModelConfig
from hep_pnn.models.fast import (
    dropout_key,
    dropout_keys,
    dropout_mask,
    linear_activate_condition_dropout,
    reference_activate_modulate_dropout,
    weighted_squared_norm,
)
from hep_pnn.models.folding import FOLDED_BATCH, fold_at_mass
from hep_pnn.models.preprocessing import Preprocessing

__all__ = ["HiddenBlock", "ParametricNet", "build_model"]

_UNCONDITIONED = AffineInMass()


def _fast_coefficients(conditioning: Conditioning | None) -> AffineInMass | None:
    """What the fused kernel applies after the activation: the mechanism's lines in m,
    nothing for a block without conditioning, or ``None`` (plain path) when the
    mechanism declares none (:meth:`~hep_pnn.models.conditioning.Conditioning.coefficients`)."""
    return _UNCONDITIONED if conditioning is None else conditioning.coefficients()


def _conditioning_mass(mass: Tensor | None) -> Tensor:
    """The scaled mass a conditioned block needs (a network that conditions has one)."""
    if mass is None:
        raise ValueError("a conditioned block needs the scaled mass")
    return mass


class HiddenBlock(nn.Module):
    """``Linear → activation → conditioning → dropout`` (concatenation after dropout).

    Args:
        in_width: input width.
        width: units.
        activation: activation name.
        dropout: drop probability.
        conditioning: a conditioning layer of ``width`` or ``None``.

    Example:
        >>> from hep_pnn.models import Affine
        >>> block = HiddenBlock(3, 4, activation="relu", dropout=0.0, conditioning=Affine(4))
        >>> block.out_width, block(torch.zeros(2, 3), torch.ones(2, 1)).shape
        (4, torch.Size([2, 4]))

    References:
        Conditioning after the activation: Anzalone, Diotalevi, Bonacorsi, MLST 3 (2022)
        035017, arXiv:2202.00424.
    """

    def __init__(
        self,
        in_width: int,
        width: int,
        *,
        activation: str,
        dropout: float,
        conditioning: Conditioning | None,
    ) -> None:
        super().__init__()
        self.linear = linear(in_width, width)
        self.conditioning = conditioning
        self.activation = activation
        self.dropout = dropout

    @property
    def out_width(self) -> int:
        extra = 0 if self.conditioning is None else self.conditioning.extra_width
        return self.linear.out_features + extra

    def forward(
        self,
        x: Tensor,
        mass: Tensor | None,
        *,
        key: int | None = None,
        generator: torch.Generator | None = None,
        fused: bool = True,
    ) -> Tensor:
        """``x (n, in_width)`` and scaled ``mass (n, 1)``; the dropout mask of ``key``
        (drawn from ``generator`` if not given)."""
        conditioning = self.conditioning
        dropping = self.training and self.dropout > 0
        if not dropping:
            key = 0
        elif key is None:
            key = dropout_key(generator)
        # Inference and export take the plain path: no autograd to save there.
        fast = fused and self.training and self.activation == "relu"
        lines = _fast_coefficients(conditioning) if fast else None
        if lines is not None and (dropping or lines.modulates):
            p = self.dropout if dropping else 0.0
            weight, bias = self.linear.weight, self.linear.bias
            if mass is None:  # a network without mass input, with dropout
                mass = x.new_zeros(x.shape[0], 1)
            h = linear_activate_condition_dropout(
                x, weight, bias, mass, *lines.matrices(), p=p, key=key
            )
        else:
            z = self.linear(x)
            scale, shift = (None, None)
            if conditioning is not None:
                scale, shift = conditioning.modulation(_conditioning_mass(mass))
            mask = dropout_mask(tuple(z.shape), self.dropout, key=key) if dropping else None
            h = reference_activate_modulate_dropout(
                z, scale, shift, mask, activation=self.activation
            )
        extra = None if conditioning is None else conditioning.appended(_conditioning_mass(mass))
        return h if extra is None else torch.cat([h, extra], dim=1)

    def extra_repr(self) -> str:
        return f"activation={self.activation}, dropout={self.dropout}"


class ParametricNet(nn.Module):
    r"""A classifier ``f(features, mass) -> logit`` built from a :class:`ModelConfig`.

    Takes raw inputs: preprocessing buffers are fitted once with :meth:`fit_preprocessing`
    on training data. Dropout masks come from :attr:`generator` (a ``torch.Generator``
    owned by the model; save its state to resume training exactly).

    Attributes:
        config: the architecture.
        feature_names: feature columns, in input order.
        training_masses: signal masses seen in training (set by the trainer; saved).
        generator: source of dropout masks.
        fused: train ReLU blocks with the fused numba kernels
            (:func:`~hep_pnn.models.fast.linear_activate_condition_dropout`; on by
            default, ≈ 1.3× faster steps in docs/benchmarks.md); ``False`` takes plain
            torch ops, which give the same values for the same dropout keys.

    Example:
        >>> from hep_pnn.models import preset
        >>> net = build_model(preset("affine", hidden=(8, 4)), feature_names=["a", "b"])
        >>> net(torch.zeros(3, 2), torch.full((3,), 750.0)).shape
        torch.Size([3])

    References:
        Baldi, Cranmer, Faucett, Sadowski, Whiteson, "Parameterized neural networks for
        high-energy physics", Eur. Phys. J. C 76 (2016) 235, arXiv:1601.07913.
        Anzalone, Diotalevi, Bonacorsi, "Improving parametric neural networks for
        high-energy physics (and beyond)", Mach. Learn.: Sci. Technol. 3 (2022) 035017,
        arXiv:2202.00424.
    """

    def __init__(self, config: ModelConfig, *, feature_names: Sequence[str], seed: int = 0) -> None:
        super().__init__()
        self.config = config
        self.feature_names = tuple(feature_names)
        if not self.feature_names or len(set(self.feature_names)) != len(self.feature_names):
            raise DataError(
                f"feature names {list(self.feature_names)} are empty or repeated",
                where="build_model(feature_names)",
                fix="pass each feature column name once",
            )
        self.training_masses: tuple[float, ...] = ()
        self.fused = True
        init_seed, dropout_seed = (int(s.generate_state(1)[0]) for s in spawn(seed, 2))
        self.generator = torch.Generator().manual_seed(dropout_seed)
        n_features = len(self.feature_names)
        self.preprocessing = Preprocessing(
            n_features,
            mass_scaling=config.mass_scaling,
            standardise_features=config.standardise_features,
        )
        make = CONDITIONINGS.get(config.conditioning)
        self.input_conditioning = (
            make(n_features) if make is not None and config.placement == "input" else None
        )
        width = n_features + (self.input_conditioning.extra_width if self.input_conditioning else 0)
        blocks = []
        for index, units in enumerate(config.hidden):
            last = index == len(config.hidden) - 1
            wanted = config.placement == "every" or (config.placement == "output" and last)
            block = HiddenBlock(
                width,
                units,
                activation=config.activation,
                dropout=config.dropout,
                conditioning=make(units) if make is not None and wanted else None,
            )
            blocks.append(block)
            width = block.out_width
        self.hidden = nn.ModuleList(blocks)
        self.output = linear(width, 1)
        self.reset_parameters(generator=torch.Generator().manual_seed(init_seed))

    @property
    def uses_mass(self) -> bool:
        """Whether the mass is an input of this network."""
        return self.config.uses_mass

    def reset_parameters(self, *, generator: torch.Generator) -> None:
        """Initialise every weight: Keras (Glorot-uniform, zero bias) or PyTorch defaults."""
        for module in self.modules():
            if not isinstance(module, nn.Linear):
                continue
            fan_in = module.weight.shape[1]
            if self.config.init == "keras":
                nn.init.xavier_uniform_(module.weight, generator=generator)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            else:
                bound = fan_in**-0.5
                nn.init.uniform_(module.weight, -bound, bound, generator=generator)
                if module.bias is not None:
                    nn.init.uniform_(module.bias, -bound, bound, generator=generator)

    def fit_preprocessing(
        self,
        features: np.ndarray | Tensor,
        mass: np.ndarray | Tensor | None = None,
        *,
        weight: np.ndarray | Tensor | None = None,
    ) -> ParametricNet:
        """Fit feature standardisation (and mass standardisation) on *training* data."""
        self.preprocessing.fit(features, mass, weight=weight)
        return self

    def _trunk(self, features: Tensor, mass: Tensor | None) -> Tensor:
        x = self.preprocessing.features(features)
        m = None
        if self.uses_mass:
            if mass is None:
                raise DataError(
                    "this model needs the mass hypothesis of every event",
                    where="forward(mass)",
                    fix="pass a mass tensor of shape (n,)",
                )
            m = self.preprocessing.mass(mass).unsqueeze(1)
        if self.input_conditioning is not None:
            x = self.input_conditioning(x, m)
        for block, key in zip(self.hidden, self.dropout_keys(), strict=True):
            x = block(x, m, key=key, fused=self.fused)
        return x

    def dropout_keys(self) -> list[int]:
        """One dropout key per hidden block for a training step (0 where nothing drops),
        all drawn from :attr:`generator` at once; nothing is drawn in eval mode."""
        blocks = cast("list[HiddenBlock]", list(self.hidden))  # ModuleList forgets the type
        dropping = [self.training and block.dropout > 0 for block in blocks]
        keys = iter(dropout_keys(self.generator, sum(dropping)) if any(dropping) else [])
        return [next(keys) if drops else 0 for drops in dropping]

    def forward(self, features: Tensor, mass: Tensor | None = None) -> Tensor:
        """Logits of shape ``(n,)`` from raw ``features (n, f)`` and raw ``mass (n,)`` in GeV."""
        return self.output(self._trunk(features, mass)).squeeze(1)

    def l2_groups(self) -> list[tuple[list[Tensor], float]]:
        """``[(kernels, l2_kernel), (biases, l2_bias)]``: every parameter, with the
        coefficient :meth:`l2_penalty` gives it. Biases are those of ``nn.Linear`` layers;
        kernels are their weights and any parameter a conditioning mechanism holds
        outside ``nn.Linear`` layers."""
        kernels: list[Tensor] = []
        biases: list[Tensor] = []
        for module in self.modules():
            if isinstance(module, nn.Linear):
                kernels.append(module.weight)
                if module.bias is not None:
                    biases.append(module.bias)
            else:
                kernels.extend(module.parameters(recurse=False))
        return [(kernels, self.config.l2_kernel), (biases, self.config.l2_bias)]

    def l2_penalty(self) -> Tensor:
        """``l2_kernel · Σ‖W‖² + l2_bias · Σ‖b‖²`` over every layer (the Keras L2 loss term)."""
        tensors, factors = [], []
        for params, factor in self.l2_groups():
            tensors += params
            factors += [factor] * len(params)
        return weighted_squared_norm(tensors, factors)

    def check_features(self, feature_names: Sequence[str]) -> None:
        """Raise :class:`~hep_pnn.errors.ModelError` unless ``feature_names`` match the model."""
        check_feature_names(self.feature_names, feature_names)

    def folded(self, mass: float) -> nn.Module:
        """This network at one mass hypothesis as a plain MLP of the same logits (eval mode):
        the matmuls alone, ≈ 5× faster for scoring many events at one mass
        (:func:`~hep_pnn.models.folding.fold_at_mass`)."""
        return fold_at_mass(self, mass)

    def predict(
        self,
        features: np.ndarray,
        mass: np.ndarray | float | None = None,
        *,
        batch_size: int = 65536,
        fold: bool = True,
    ) -> np.ndarray:
        """Signal probabilities ``(n,)`` float32 (eval mode, no gradients, 2 threads).

        When every event has the same mass (a number, or a constant array) and ``fold``
        is true, the network is first folded into a plain MLP at that mass
        (:func:`~hep_pnn.models.folding.fold_at_mass`), which scores the same values (to
        float rounding) ≈ 2.5× faster.

        Example:
            >>> from hep_pnn.models import preset
            >>> net = build_model(preset("pnn", hidden=(4,)), feature_names=["a"])
            >>> net.predict(np.zeros((2, 1)), 1000.0).shape
            (2,)
        """
        x, m = as_inputs(
            features, mass, n_features=len(self.feature_names), needs_mass=self.uses_mass
        )
        one_mass = m is None or (m.size > 0 and bool(np.all(m == m.flat[0])))
        if fold and one_mass:
            folded = fold_at_mass(self, 0.0 if m is None else float(m.flat[0]))
            size = min(batch_size, FOLDED_BATCH)
            return batched(lambda f, _: torch.sigmoid(folded(f)), x, None, batch_size=size)
        return self._evaluate(lambda f, m: torch.sigmoid(self(f, m)), x, m, batch_size)

    def hidden_representation(
        self,
        features: np.ndarray,
        mass: np.ndarray | float | None = None,
        *,
        batch_size: int = 65536,
    ) -> np.ndarray:
        """Activations that feed the output layer, ``(n, width)``, in eval mode."""
        x, m = as_inputs(
            features, mass, n_features=len(self.feature_names), needs_mass=self.uses_mass
        )
        return self._evaluate(self._trunk, x, m, batch_size)

    def _evaluate(
        self,
        function: Callable[[Tensor, Tensor | None], Tensor],
        x: np.ndarray,
        m: np.ndarray | None,
        batch_size: int,
    ) -> np.ndarray:
        was_training = self.training
        self.eval()
        try:
            return batched(function, x, m, batch_size=batch_size)
        finally:
            self.train(was_training)

    def extra_repr(self) -> str:
        config = self.config
        conditioning = config.conditioning
        where = f", placement={config.placement}" if config.uses_mass else ""
        return f"features={len(self.feature_names)}, conditioning={conditioning}{where}"


def build_model(
    config: ModelConfig, *, feature_names: Sequence[str], seed: int = 0
) -> ParametricNet:
    """Build a :class:`ParametricNet`; ``seed`` fixes the initial weights and dropout masks.

    Example:
        >>> from hep_pnn.models import preset
        >>> net = build_model(preset("pnn"), feature_names=[f"f{i}" for i in range(27)])
        >>> sum(p.numel() for p in net.parameters())
        74051

    References:
        Baldi et al., arXiv:1601.07913 (``pnn``); Anzalone, Diotalevi, Bonacorsi,
        arXiv:2202.00424 (``affine`` and the other conditionings).
    """
    return ParametricNet(config, feature_names=feature_names, seed=seed)
