"""Training a jet tagger into a run directory, epoch by epoch, resumable.

The same run folder as the networks' (``model/`` best epoch by validation AUC, ``last/``,
``checkpoint/``, ``history.csv`` / ``history.json``); the validation jets are split off
the training jets (seeded, per class); batches are shuffled with a seeded numpy generator
and dropout masks come from the tagger's own torch generator, both saved in the checkpoint
so a resumed run continues where it stopped.
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
from hep_pnn.training.config import ExperimentConfig
from hep_pnn.training.jet_data import LabelledJets, split_jets
from hep_pnn.training.loop import NonFiniteLossError, make_optimizer
from hep_pnn.training.networks import write_history

__all__ = ["prepared_inputs", "train_tagger"]

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
    save_checkpoint(directory, tensors=tensors, state=state)


def _load_state(
    directory: Path,
    tagger: JetTagger,
    optimizer: torch.optim.Optimizer,
    rng: np.random.Generator,
) -> _Progress:
    tensors, state = load_checkpoint(directory)
    tagger.load_state_dict(
        {k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")}
    )
    optimizer_from_flat(optimizer, tensors, state["optimizer"])
    tagger.generator.set_state(tensors["generator.dropout"])
    rng.bit_generator.state = state["rng"]
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
) -> float:
    tagger.train()
    total, count = 0.0, 0
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        if len(index) < 2:  # batch normalisation needs two jets
            continue
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            tagger(to_tensors(arrays, index, device)), labels[index].to(device)
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
    rng = np.random.default_rng(order_seed)
    progress = _Progress()
    checkpoint = run_dir / CHECKPOINT_DIR
    if resume and (checkpoint / CHECKPOINT_FILE).is_file():
        progress = _load_state(checkpoint, tagger, optimizer, rng)
        log(f"resumed after epoch {progress.epoch}")
    patience = options.early_stopping_patience
    while progress.epoch < options.epochs and not (patience and progress.bad_epochs >= patience):
        started = time.perf_counter()
        order = rng.permutation(len(train))
        train_loss = _train_epoch(
            tagger, train_arrays, labels, optimizer, order,
            batch_size=options.batch_size, device=device,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        logits = _logits(
            tagger, val_arrays, batch_size=options.validation_batch_size, device=device
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
        _save_state(checkpoint, tagger, optimizer, rng, progress)
        write_history(run_dir, progress.history)
        log(
            f"epoch {progress.epoch}: train loss {train_loss:.4f}, val loss {val_loss:.4f}, "
            f"val AUC {auc:.4f}, {row['events_per_s']:.0f} jets/s"
        )
    return load_tagger(run_dir / MODEL_DIR, device=device)
