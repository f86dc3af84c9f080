"""The training loop: balanced or plain epochs, weighted BCE + L2, Adam, validation, resumable."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import torch

from hep_pnn._denormals import flush_denormals
from hep_pnn._memory import keep_freed_memory
from hep_pnn._random import child_seed, spawn
from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError, ModelError, PNNError
from hep_pnn.models.direct import DirectStep, supports
from hep_pnn.models.network import ParametricNet
from hep_pnn.training.background_mass import BackgroundMasses
from hep_pnn.training.checkpoint import optimizer_from_flat, optimizer_to_flat
from hep_pnn.training.config import TrainingConfig
from hep_pnn.training.datasets import stratified_split
from hep_pnn.training.decorrelation import DecorrelationTerm, make_decorrelation
from hep_pnn.training.distributed import data_parallel
from hep_pnn.training.feedback import epoch_bar, epoch_summary
from hep_pnn.training.flat import FlatParameters, weight_decay_groups
from hep_pnn.training.samplers import Population, plan_epoch
from hep_pnn.training.validation import ValidationResult, validate
from hep_pnn.training.weights import training_weights, unit_mean_per_group, weighted_bce

__all__ = [
    "NonFiniteLossError",
    "Trainer",
    "TrainingProgress",
    "l2_parameter_groups",
    "make_optimizer",
]

#: Events used to fit the feature standardisation (a seeded sample keeps memory bounded).
PREPROCESSING_SAMPLE = 1_000_000


class NonFiniteLossError(PNNError):
    """The loss became NaN or infinite during training."""


def l2_parameter_groups(model: ParametricNet) -> list[dict[str, Any]]:
    r"""Adam parameter groups that apply the model's L2 penalty as weight decay
    (:func:`~hep_pnn.training.flat.weight_decay_groups` of ``model.l2_groups()``).

    Example:
        >>> from hep_pnn.models import build_model, preset
        >>> net = build_model(preset("affine", hidden=(4,)), feature_names=["a"])
        >>> [(len(g["params"]), g["weight_decay"]) for g in l2_parameter_groups(net)]
        [(4, 2e-05), (4, 2e-06)]
    """
    return weight_decay_groups(model.l2_groups())


def make_optimizer(groups: Any, *, learning_rate: float) -> torch.optim.Adam:
    """Adam with the fused CPU kernel when this torch build has one, else the foreach one."""
    groups = list(groups)
    try:
        return torch.optim.Adam(groups, lr=learning_rate, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(groups, lr=learning_rate, foreach=True)


def _scheduler(optimizer: torch.optim.Optimizer, config: TrainingConfig) -> Any:
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    if config.lr_schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="max", factor=0.5, patience=2
        )
    return None


@dataclass
class TrainingProgress:
    """Epochs done, history, best epoch and early-stopping count of a run."""

    epoch: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_auc: float = -math.inf
    bad_epochs: int = 0
    stopped_early: bool = False


def _signal_weight_as_sampled(
    mass: np.ndarray, weight: np.ndarray, *, balanced: bool
) -> np.ndarray:
    """How much each training signal event counts in the loss: balanced batches give every
    mass the same total; plain batches take the normalised training weights."""
    if not balanced:
        return weight
    _, code, counts = np.unique(mass, return_inverse=True, return_counts=True)
    return 1.0 / counts[code.reshape(-1)]


class Trainer:
    r"""Trains a parametric network on one event table, epoch by epoch.

    The validation events are split off ``table`` (stratified by label × mass, seeded); the
    rest are sampled by the configured sampler and background-mass strategy. All random
    choices come from ``config.seed`` (numpy) and the ``generators`` the model draws dropout
    masks from (torch); their states are part of :meth:`state` so a resumed run continues
    bit for bit.

    Args:
        model: a network with ``forward(features, mass) -> logits``, ``l2_penalty()`` and
            ``fit_preprocessing(features, mass)``.
        table: the training events (validation included).
        config: the training options.
        generators: torch generators the model draws from (saved and restored).
        log: called with one line of text per epoch.

    Example:
        >>> import numpy as np
        >>> from hep_pnn.models import build_model, preset
        >>> x = np.random.default_rng(0).normal(size=(200, 2))
        >>> table = EventTable.from_arrays(x, label=[1, 0] * 100, mass=[500.0] * 200)
        >>> net = build_model(preset("affine", hidden=(4,)), feature_names=table.feature_names)
        >>> trainer = Trainer(net, table, TrainingConfig(epochs=2, batch_size=50),
        ...                   generators={"dropout": net.generator}, log=lambda line: None)
        >>> progress = trainer.fit()
        >>> progress.epoch, [round(row["val_auc_mean"], 1) <= 1 for row in progress.history]
        (2, [True, True])
    """

    def __init__(
        self,
        model: ParametricNet,
        table: EventTable,
        config: TrainingConfig,
        *,
        generators: dict[str, torch.Generator] | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.model, self.config, self.log = model, config, log
        flush_denormals()  # subnormal weights/moments slow x86 CPUs ~10× (docs/training.md)
        keep_freed_memory()  # reuse activation buffers: no page faults every step
        self.generators = dict(generators or {})
        split_seed, self._sampler_seed, mass_seed, preprocessing_seed = spawn(config.seed, 4)
        self.train_index, self.val_index = stratified_split(
            table, fraction=config.validation_fraction, seed=split_seed
        )
        self.table_label, self.table_mass = table.label, table.mass
        # one contiguous float32 tensor sharing memory with the table; batches are gathered
        self.features = torch.from_numpy(table.features)
        weight = training_weights(
            table,
            self.train_index,
            use_event_weights=config.weights.use_event_weights,
            normalise=config.weights.normalise,
        )
        self.label = torch.from_numpy(table.label.astype(np.float32))
        train_signal = self.train_index[table.label[self.train_index] == 1]
        self.training_masses = tuple(float(m) for m in np.unique(table.mass[train_signal]))
        self.background_masses = BackgroundMasses(
            config.background_mass,
            signal_mass=table.mass[train_signal],
            signal_weight=_signal_weight_as_sampled(
                table.mass[train_signal],
                weight[train_signal],
                balanced=config.sampler == "balanced",
            ),
            n_events=len(table),
            seed=mass_seed,
        )
        self.population = Population.from_table(
            table, self.train_index, background_copies=self.background_masses.copies
        )
        if config.sampler == "balanced" and config.background_share == "weight":
            self.population = self.population.with_background_shares(weight)
        # validation keeps the event weights; training under a balanced sampler rescales
        # them within every sampled group (docs/training.md)
        self.weight_np = weight
        if config.sampler == "balanced":
            weight = unit_mean_per_group(weight, self.population.groups())
        self.weight = torch.from_numpy(weight)
        default_length = (
            len(self.train_index) if config.sampler == "balanced" else self.population.n_items
        )
        self.epoch_length = config.epoch_length or default_length
        self.rng = np.random.default_rng(self._sampler_seed)
        # Networks with l2_groups(): parameters in two flat buffers, L2 as Adam's weight
        # decay (docs/training.md); anything else: plain Adam, L2 term in the loss.
        self.flat = FlatParameters(model) if hasattr(model, "l2_groups") else None
        groups = model.parameters() if self.flat is None else self.flat.param_groups()
        # a decorrelation term draws from its own seed stream: the classifier's draws stay
        # those of the plain training (docs/decorrelation.md)
        decorrelation = make_decorrelation(
            config.decorrelation,
            table,
            self.train_index,
            seed=child_seed(config.seed, 19),
        )
        self.decorrelation: DecorrelationTerm | None = None
        self.protected: torch.Tensor | None = None
        if decorrelation is not None:
            self.decorrelation, self.protected = decorrelation
        # Networks the fused kernels cover entirely skip autograd (docs/training.md),
        # unless a decorrelation term needs it
        fused = self.flat is not None and supports(model) and self.decorrelation is None
        self.direct = DirectStep(model) if fused else None
        self.optimizer = make_optimizer(groups, learning_rate=config.learning_rate)
        # under torchrun, this rank's share of every global batch (docs/scaling.md)
        self.parallel = data_parallel()
        if (
            self.parallel is not None
            and self.decorrelation is not None
            and not self.decorrelation.data_parallel
        ):
            raise ConfigError(
                "the adversary of training.decorrelation does not train data-parallel "
                "(each process would train its own)",
                where="training.decorrelation.method",
                fix="use method: disco (computed on each process's share of the batch) or "
                "train in one process",
            )
        self.scheduler = _scheduler(self.optimizer, config)
        self.progress = TrainingProgress()
        self.train_accuracy = math.nan
        self._fit_preprocessing(table, preprocessing_seed)
        self.best_state = {k: v.clone() for k, v in model.state_dict().items()}

    def _fit_preprocessing(self, table: EventTable, seed: np.random.SeedSequence) -> None:
        rng = np.random.default_rng(seed)
        rows = self.train_index
        if len(rows) > PREPROCESSING_SAMPLE:
            rows = np.sort(rng.choice(rows, PREPROCESSING_SAMPLE, replace=False))
        background_mass = self.background_masses.sample(len(rows), rng)
        mass = np.where(table.label[rows] == 1, table.mass[rows], background_mass)
        self.model.fit_preprocessing(table.features[rows], mass)

    # one epoch ---------------------------------------------------------------------------------

    def train_epoch(self, *, on_batch: Callable[[int, float], None] | None = None) -> float:
        """Run one epoch; returns the mean training loss (BCE + L2) over its batches."""
        epoch = self.progress.epoch + 1
        plan = plan_epoch(
            self.population,
            table_mass=self.table_mass,
            background_masses=self.background_masses,
            sampler=self.config.sampler,
            batch_size=self.config.batch_size,
            epoch_length=self.epoch_length,
            rng=self.rng,
        )
        index = torch.from_numpy(plan.index)
        mass = torch.from_numpy(plan.mass)
        target = self.label.index_select(0, index)
        weight = self.weight.index_select(0, index).mul_(torch.from_numpy(plan.weight_scale))
        self.model.train()
        total, size = 0.0, self.config.batch_size
        right = total_weight = 0.0
        for batch, start in enumerate(range(0, len(index), size), start=1):
            rows = slice(start, start + size)
            if self.parallel is not None:
                rows = self.parallel.shard(start, min(start + size, len(index)))
            x = self.features.index_select(0, index[rows])
            protected = (
                None if self.protected is None else self.protected.index_select(0, index[rows])
            )
            value, batch_right, batch_weight = self.train_step(
                x, mass[rows], target[rows], weight[rows], protected=protected
            )
            if not math.isfinite(value):
                raise NonFiniteLossError(
                    f"the training loss is {value} at epoch {epoch}, batch {batch}",
                    where="training",
                    fix="check the inputs for NaN/inf values or lower training.learning_rate; "
                    "the checkpoint of the last good epoch is kept",
                )
            total += value * (min(start + size, len(index)) - start)
            right += batch_right
            total_weight += batch_weight
            if on_batch is not None:
                on_batch(min(start + size, len(index)), value)
        self.train_accuracy = right / total_weight if total_weight else math.nan
        return total / len(index)

    def train_step(
        self,
        features: torch.Tensor,
        mass: torch.Tensor,
        target: torch.Tensor,
        weight: torch.Tensor,
        *,
        protected: torch.Tensor | None = None,
    ) -> tuple[float, float, float]:
        """One optimisation step on a gathered batch of raw features and masses.

        Returns the loss (weighted BCE + L2, plus the decorrelation term of the batch's
        ``protected`` variable when configured), the weight of correctly classified events
        and the total weight; the parameters are left untouched when the loss is not finite.
        """
        if self.direct is not None:
            value, right, total = self._direct_step(features, mass, target, weight)
        else:
            value, right, total = self._autograd_step(features, mass, target, weight, protected)
        if self.parallel is not None:  # every rank then takes the same step
            grads = [p.grad for g in self.optimizer.param_groups for p in g["params"]]
            value, right, total = self.parallel.all_reduce(
                [g for g in grads if g is not None],
                value=value,
                right=right,
                total=total,
                rows=len(target),
            )
        if math.isfinite(value):
            self.optimizer.step()
        return value, right, total

    def _direct_step(self, x, mass, target, weight) -> tuple[float, float, float]:
        """Loss and gradients without autograd (:class:`~hep_pnn.models.direct.DirectStep`)."""
        assert self.direct is not None and self.flat is not None  # step() chose this
        result = self.direct(x, mass, target, weight)
        return result.loss + self.flat.l2_value(), result.right, result.total_weight

    def _autograd_step(self, x, mass, target, weight, protected=None) -> tuple[float, float, float]:
        """Forward and backward with autograd (any model); gradients left in ``.grad``."""
        logits = self.model(x, mass)
        loss = weighted_bce(logits, target, weight)
        if self.decorrelation is not None:
            if protected is None:
                raise ValueError("a decorrelated training step needs the protected variable")
            loss = loss + self.decorrelation.term(logits, protected, target, weight)
        if self.flat is not None:  # the gradient of the L2 term comes from Adam
            value = loss.item() + self.flat.l2_value()
            self.flat.zero_grad()
        else:
            loss = loss + self.model.l2_penalty()
            value = loss.item()
            self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            right = float((weight * ((logits > 0) == (target > 0.5))).sum())
        return value, right, float(weight.sum())

    def validate(self) -> ValidationResult:
        """Loss (event weights) and unweighted AUC per mass on the validation events."""
        return validate(
            self.model,
            features=self.features,
            label=self.table_label,
            mass=self.table_mass,
            weight=self.weight_np,
            index=self.val_index,
            batch_size=self.config.validation_batch_size,
        )

    def step_epoch(self, *, on_batch: Callable[[int, float], None] | None = None) -> dict:
        """Train one epoch, validate, update the best model, schedule and early stopping."""
        start = time.perf_counter()
        train_loss = self.train_epoch(on_batch=on_batch)
        train_seconds = time.perf_counter() - start
        result = self.validate()
        progress = self.progress
        progress.epoch += 1
        row = {
            "epoch": progress.epoch,
            "train_loss": train_loss,
            "val_loss": result.loss,
            "val_auc_mean": result.auc_mean,
            "train_accuracy": self.train_accuracy,
            "val_accuracy": result.accuracy,
            **{f"val_auc_m{mass:g}": auc for mass, auc in result.auc.items()},
            "events_per_s": self.epoch_length / train_seconds,
            "seconds": time.perf_counter() - start,
            "learning_rate": self.optimizer.param_groups[0]["lr"],
        }
        progress.history.append(row)
        auc, best = result.auc_mean, progress.best_auc
        # NaN never beats a number, but the first epoch is always a candidate
        if progress.best_epoch == 0 or (not math.isnan(auc) and (math.isnan(best) or auc > best)):
            progress.best_auc, progress.best_epoch, progress.bad_epochs = (
                result.auc_mean,
                progress.epoch,
                0,
            )
            self.best_state = {k: v.clone() for k, v in self.model.state_dict().items()}
        else:
            progress.bad_epochs += 1
        patience = self.config.early_stopping_patience
        progress.stopped_early = patience is not None and progress.bad_epochs >= patience
        if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            self.scheduler.step(result.auc_mean)
        elif self.scheduler is not None:
            self.scheduler.step()
        return row

    @property
    def finished(self) -> bool:
        return self.progress.stopped_early or self.progress.epoch >= self.config.epochs

    # state ---------------------------------------------------------------------------------------

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Everything needed to continue bit for bit: (tensors, JSON-able state)."""
        optim_tensors, optim_json = optimizer_to_flat(self.optimizer)
        extra_tensors, extra_state = (
            ({}, {}) if self.decorrelation is None else self.decorrelation.state()
        )
        tensors = {
            **{f"decorrelation.{k}": v for k, v in extra_tensors.items()},
            **{f"model.{k}": v for k, v in self.model.state_dict().items()},
            **{f"best.{k}": v for k, v in self.best_state.items()},
            **{f"generator.{k}": g.get_state() for k, g in self.generators.items()},
            **optim_tensors,
        }
        state = {
            **asdict(self.progress),
            "rng": self.rng.bit_generator.state,
            "optimizer": optim_json,
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
        }
        if self.decorrelation is not None:
            state["decorrelation"] = extra_state
        return tensors, state

    def load_state(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        """Restore what :meth:`state` returned."""

        def part(prefix: str) -> dict[str, torch.Tensor]:
            return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}

        try:
            self.model.load_state_dict(part("model."))
        except RuntimeError as err:  # missing / unexpected / reshaped parameters
            first = str(err).splitlines()[1].strip() if "\n" in str(err) else str(err)
            raise ModelError(
                f"the checkpoint does not fit this model ({first})",
                where="--resume",
                fix="the run was saved by a different model layout (e.g. an older hep-pnn): "
                "start it again without --resume, with --overwrite",
            ) from None
        self.best_state = part("best.")
        for name, value in part("generator.").items():
            self.generators[name].set_state(value)
        optimizer_from_flat(self.optimizer, tensors, state["optimizer"])
        if self.decorrelation is not None:
            self.decorrelation.load_state(part("decorrelation."), state["decorrelation"])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.rng.bit_generator.state = state["rng"]
        self.progress = TrainingProgress(
            **{f.name: state[f.name] for f in fields(TrainingProgress)}
        )

    def fit(
        self,
        *,
        on_epoch_end: Callable[[Trainer], None] | None = None,
        progress_bar: bool = False,
    ) -> TrainingProgress:
        """Train until ``epochs`` or early stopping; ``on_epoch_end`` runs after every epoch."""
        bar = epoch_bar() if progress_bar else nullcontext(None)
        with bar as live:
            while not self.finished:
                update = (
                    None if live is None else live.start(self.progress.epoch + 1, self.epoch_length)
                )
                row = self.step_epoch(on_batch=update)
                self.log(epoch_summary(row, epochs=self.config.epochs))
                if on_epoch_end is not None:
                    on_epoch_end(self)
        return self.progress
