"""Training a jet tagger into a run directory, epoch by epoch, resumable.

The same run folder as the networks' (``model/`` best epoch by validation AUC, ``last/``,
``checkpoint/``, ``history.csv`` / ``history.json``); the validation jets are split off
the training jets (seeded, per class); batches are shuffled with a seeded numpy generator
and dropout masks come from the tagger's own torch generator, both saved in the checkpoint
so a resumed run continues where it stopped.

``training.decorrelation`` (DisCo or the adversary of
:mod:`hep_pnn.training.decorrelation`) protects a jet-level variable, ``jet_mass`` by
default for jets: a column of the jets' features, or the mass computed from the
constituents when the file has none (docs/decorrelation.md).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hep_pnn._random import spawn
from hep_pnn.errors import ConfigError
from hep_pnn.evaluation.metrics import roc_auc
from hep_pnn.models.jets import JetTagger, build_tagger, load_tagger, save_tagger, to_tensors
from hep_pnn.run_files import CHECKPOINT_DIR, CHECKPOINT_FILE, LAST_DIR, MODEL_DIR
from hep_pnn.training.checkpoint import (
    load_checkpoint,
    optimizer_from_flat,
    optimizer_to_flat,
    save_checkpoint,
)
from hep_pnn.training.config import ExperimentConfig, TrainingConfig
from hep_pnn.training.decorrelation import (
    DecorrelationConfig,
    DecorrelationTerm,
    decorrelation_term,
)
from hep_pnn.training.jet_data import LabelledJets, split_jets
from hep_pnn.training.loop import NonFiniteLossError, make_optimizer
from hep_pnn.training.networks import write_history

__all__ = ["jet_decorrelation", "prepared_inputs", "protected_jet_variable", "train_tagger"]

Arrays = dict[str, np.ndarray]


def _seed(sequence: np.random.SeedSequence) -> int:
    return int(sequence.generate_state(1)[0])


def prepared_inputs(tagger: JetTagger, data: LabelledJets, *, chunk: int = 4096) -> Arrays:
    """The tagger's inputs for every jet (and ``parameter`` for parametric taggers), built
    in chunks so the float64 intermediates stay small."""
    parts = [
        tagger.prepare(data.jets.constituents[start : start + chunk])
        for start in range(0, len(data), chunk)
    ]
    arrays = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    if tagger.parametric:
        assert data.parameter is not None
        arrays["parameter"] = data.parameter.astype(np.float32)
    return arrays


def _score_batch(tagger: JetTagger, options: TrainingConfig) -> int:
    """Validation batch: ``training.validation_batch_size``, at most the tagger's own
    memory-bounded :attr:`~hep_pnn.models.jets.JetTagger.score_batch_size`."""
    return min(options.validation_batch_size, tagger.score_batch_size)


def _logits(tagger: JetTagger, arrays: Arrays, *, batch_size: int, device: str) -> torch.Tensor:
    tagger.eval()
    n = len(next(iter(arrays.values())))
    with torch.no_grad():
        return torch.cat(
            [
                tagger(to_tensors(arrays, slice(s, s + batch_size), device)).cpu()
                for s in range(0, n, batch_size)
            ]
        )


#: The protected variable of jets when ``training.decorrelation.variable`` keeps the
#: networks' default (m_WWbb, ``f26``, is not a jet quantity).
JET_PROTECTED_DEFAULT = "jet_mass"


def protected_jet_variable(data: LabelledJets, variable: str) -> np.ndarray:
    """The jet-level ``variable`` of every jet: a column of the features, or ``jet_mass``
    computed from the constituents.

    Raises:
        ConfigError: ``variable`` is neither.

    Example:
        >>> from hep_pnn.data.jets.toy import toy_jets
        >>> jets = LabelledJets(toy_jets(2, 2, seed=0))
        >>> bool(np.allclose(protected_jet_variable(jets, "jet_mass"),
        ...                  jets.jets.features["jet_mass"]))
        True
    """
    features = data.jets.features
    if variable in features.columns:
        return features[variable].to_numpy(dtype=np.float32)
    if variable == "jet_mass":
        from hep_pnn.data.jets.substructure import jet_kinematics

        return jet_kinematics(data.jets.constituents)["jet_mass"].astype(np.float32)
    raise ConfigError(
        f"the protected variable {variable!r} is not a jet-level column of the jets",
        where="training.decorrelation.variable",
        fix=f"choose jet_mass or one of {', '.join(map(str, features.columns))}",
    )


def jet_decorrelation(
    config: DecorrelationConfig | None, train: LabelledJets, *, seed: int
) -> tuple[DecorrelationTerm, torch.Tensor] | None:
    """The decorrelation term and the protected variable of every training jet, or ``None``.

    Example:
        >>> from hep_pnn.data.jets.toy import toy_jets
        >>> term, mass = jet_decorrelation(DecorrelationConfig(method="disco", strength=5),
        ...                                LabelledJets(toy_jets(3, 3, seed=0)), seed=0)
        >>> type(term).__name__, mass.shape
        ('DiscoPenalty', torch.Size([6]))
    """
    if config is None or config.strength == 0:
        return None
    variable = JET_PROTECTED_DEFAULT if config.variable == "f26" else config.variable
    values = protected_jet_variable(train, variable)
    background = values[train.jets.labels == 0]
    if len(background) == 0:
        raise ConfigError(
            "decorrelation needs background jets in the training data",
            where="training.decorrelation",
            fix="train on signal and background jets, or remove training.decorrelation",
        )
    term = decorrelation_term(config, background, seed=seed)
    return term, torch.tensor(values)


@dataclass
class _Progress:
    epoch: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    best_auc: float = -math.inf
    best_epoch: int = 0
    bad_epochs: int = 0


def _save_state(
    directory: Path,
    tagger: JetTagger,
    optimizer: torch.optim.Optimizer,
    rng: np.random.Generator,
    progress: _Progress,
    decorrelation: DecorrelationTerm | None = None,
) -> None:
    tensors = {f"model.{k}": v for k, v in tagger.state_dict().items()}
    optimizer_tensors, optimizer_state = optimizer_to_flat(optimizer)
    tensors.update(optimizer_tensors)
    tensors["generator.dropout"] = tagger.generator.get_state()
    state: dict[str, Any] = {
        "progress": progress.__dict__,
        "optimizer": optimizer_state,
        "rng": rng.bit_generator.state,
    }
    if decorrelation is not None:
        extra_tensors, state["decorrelation"] = decorrelation.state()
        tensors.update({f"decorrelation.{k}": v for k, v in extra_tensors.items()})
    save_checkpoint(directory, tensors=tensors, state=state)


def _load_state(
    directory: Path,
    tagger: JetTagger,
    optimizer: torch.optim.Optimizer,
    rng: np.random.Generator,
    decorrelation: DecorrelationTerm | None = None,
) -> _Progress:
    tensors, state = load_checkpoint(directory)
    tagger.load_state_dict(
        {k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")}
    )
    optimizer_from_flat(optimizer, tensors, state["optimizer"])
    tagger.generator.set_state(tensors["generator.dropout"])
    rng.bit_generator.state = state["rng"]
    if decorrelation is not None:
        prefix = "decorrelation."
        decorrelation.load_state(
            {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)},
            state["decorrelation"],
        )
    return _Progress(**state["progress"])


def _train_epoch(
    tagger: JetTagger,
    arrays: Arrays,
    labels: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    order: np.ndarray,
    *,
    batch_size: int,
    device: str,
    decorrelation: tuple[DecorrelationTerm, torch.Tensor] | None = None,
) -> float:
    tagger.train()
    total, count = 0.0, 0
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        if len(index) < 2:  # batch normalisation needs two jets
            continue
        optimizer.zero_grad()
        logits, target = tagger(to_tensors(arrays, index, device)), labels[index].to(device)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
        if decorrelation is not None:
            term, protected = decorrelation
            loss = loss + term.term(
                logits, protected[index].to(device), target, torch.ones_like(target)
            )
        if not torch.isfinite(loss):
            raise NonFiniteLossError(
                f"the loss became {float(loss)} at jet {start}",
                where="training",
                fix="lower training.learning_rate",
            )
        loss.backward()
        optimizer.step()
        total, count = total + loss.item() * len(index), count + len(index)
    return total / max(count, 1)


def train_tagger(
    config: ExperimentConfig,
    data: LabelledJets,
    run_dir: Path,
    log: Callable[[str], None],
    *,
    resume: bool = False,
) -> JetTagger:
    """Train ``config.model.preset`` on ``data`` into ``run_dir``; returns the best tagger."""
    options = config.training
    split_seed, init_seed, order_seed = spawn(options.seed, 3)
    # its own stream: the tagger's draws stay those of the plain training
    decorrelation_seed = np.random.SeedSequence(options.seed, spawn_key=(19,))
    kept, held = split_jets(data.jets.labels, fraction=options.validation_fraction, seed=split_seed)
    tagger = build_tagger(config.model.preset or "", config.model.options, seed=_seed(init_seed))
    train, validation = data.select(kept), data.select(held)
    if tagger.parametric:
        if data.parameter is None:
            raise ConfigError(
                f"{tagger.kind} needs a parameter per jet",
                where="data.parameter",
                fix="name the jet-level column to condition on (e.g. resonance_mass)",
            )
        assert train.parameter is not None
        tagger.fit_parameter(train.parameter[train.jets.labels == 1])
    device = options.device
    tagger.to(device)
    started = time.perf_counter()
    train_arrays, val_arrays = prepared_inputs(tagger, train), prepared_inputs(tagger, validation)
    log(f"{tagger.kind}: inputs of {len(data)} jets in {time.perf_counter() - started:.1f} s")
    labels = torch.as_tensor(train.jets.labels, dtype=torch.float32)
    val_labels = torch.as_tensor(validation.jets.labels, dtype=torch.float32)
    optimizer = make_optimizer(tagger.parameters(), learning_rate=options.learning_rate)
    decorrelation = jet_decorrelation(options.decorrelation, train, seed=_seed(decorrelation_seed))
    term = None if decorrelation is None else decorrelation[0]
    rng = np.random.default_rng(order_seed)
    progress = _Progress()
    checkpoint = run_dir / CHECKPOINT_DIR
    if resume and (checkpoint / CHECKPOINT_FILE).is_file():
        progress = _load_state(checkpoint, tagger, optimizer, rng, term)
        log(f"resumed after epoch {progress.epoch}")
    patience = options.early_stopping_patience
    while progress.epoch < options.epochs and not (patience and progress.bad_epochs >= patience):
        started = time.perf_counter()
        order = rng.permutation(len(train))
        train_loss = _train_epoch(
            tagger, train_arrays, labels, optimizer, order,
            batch_size=options.batch_size, device=device, decorrelation=decorrelation,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        logits = _logits(
            tagger, val_arrays, batch_size=_score_batch(tagger, options), device=device
        )
        val_loss = float(torch.nn.functional.binary_cross_entropy_with_logits(logits, val_labels))
        auc = roc_auc(logits.numpy(), validation.jets.labels)
        progress.epoch += 1
        row = {
            "epoch": progress.epoch,
            "train_loss": train_loss,
            "val_loss": val_loss,
            "val_auc_mean": auc,
            "events_per_s": len(train) / seconds,
            "seconds": seconds,
        }
        progress.history.append(row)
        save_tagger(tagger, run_dir / LAST_DIR, overwrite=True)
        if auc > progress.best_auc:
            progress.best_auc, progress.best_epoch, progress.bad_epochs = auc, progress.epoch, 0
            save_tagger(tagger, run_dir / MODEL_DIR, overwrite=True)
        else:
            progress.bad_epochs += 1
        _save_state(checkpoint, tagger, optimizer, rng, progress, term)
        write_history(run_dir, progress.history)
        log(
            f"epoch {progress.epoch}: train loss {train_loss:.4f}, val loss {val_loss:.4f}, "
            f"val AUC {auc:.4f}, {row['events_per_s']:.0f} jets/s"
        )
    return load_tagger(run_dir / MODEL_DIR, device=device)
