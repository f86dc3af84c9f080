"""The jets of an experiment with ``data.source: jets``: read, split, labelled, parametrised.

Files are read with :func:`hep_pnn.data.jets.load_jets` (Parquet written by ``pnn generate
--process top-tagging`` or the reference HDF5 layout), imported when first needed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hep_pnn._random import SeedLike, as_generator, spawn
from hep_pnn.data.jets.sample import JetSample
from hep_pnn.errors import DataError
from hep_pnn.training.config import JetData

__all__ = ["LabelledJets", "load_labelled_jets", "read_jet_files", "split_jets", "with_parameter"]


@dataclass(frozen=True)
class LabelledJets:
    """Jets and, for parametric taggers, the parameter value of every jet.

    ``own_background`` is True when the background jets carry their own values (generated
    at that hypothesis, as the QCD jets of each Z′ mass window), False when drawn.

    Example:
        >>> from hep_pnn.data.jets.toy import toy_jets
        >>> LabelledJets(toy_jets(2, 3, seed=0))
        LabelledJets(5 jets: 2 signal, 3 background)
    """

    jets: JetSample
    parameter: np.ndarray | None = None
    own_background: bool = False

    def __len__(self) -> int:
        return len(self.jets)

    def __repr__(self) -> str:
        signal = int(self.jets.labels.sum())
        text = f"{len(self)} jets: {signal} signal, {len(self) - signal} background"
        if self.parameter is not None:
            values = np.unique(self.parameter[self.jets.labels == 1])
            text += f"; signal parameter {', '.join(f'{v:g}' for v in values[:8])}"
        return f"LabelledJets({text})"

    def select(self, index: np.ndarray) -> LabelledJets:
        """The jets at ``index`` (integer indices or a boolean mask)."""
        jets = self.jets
        subset = JetSample(
            jets.constituents[index],
            jets.labels[index],
            jets.features.iloc[np.arange(len(jets))[index]].reset_index(drop=True),
        )
        parameter = None if self.parameter is None else self.parameter[index]
        return LabelledJets(subset, parameter, self.own_background)


def split_jets(
    labels: np.ndarray, *, fraction: float, seed: SeedLike
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (kept, held out), holding out ``fraction`` of the signal and of the background.

    Example:
        >>> kept, held = split_jets(np.array([1, 1, 0, 0]), fraction=0.5, seed=0)
        >>> sorted(np.array([1, 1, 0, 0])[held].tolist())
        [0, 1]
    """
    rng = as_generator(seed)
    held = np.zeros(len(labels), dtype=bool)
    for value in (0, 1):
        members = np.flatnonzero(labels == value)
        held[members[rng.permutation(len(members))[: round(len(members) * fraction)]]] = True
    return np.flatnonzero(~held), np.flatnonzero(held)


def read_jet_files(
    paths: Sequence[str | os.PathLike[str]], *, columns: Sequence[str] = ()
) -> JetSample:
    """All jets of ``paths``, concatenated, with the jet-level ``columns`` among the features."""
    load = _jet_reader()
    samples = [load(path, columns=columns) for path in paths]
    if len(samples) == 1:
        return samples[0]
    return JetSample(
        np.concatenate([s.constituents for s in samples]),
        np.concatenate([s.labels for s in samples]),
        pd.concat([s.features for s in samples], ignore_index=True),
    )


def _jet_reader() -> Callable[..., JetSample]:
    """:func:`hep_pnn.data.jets.reader.load_jets` (reference HDF5 and Parquet)."""
    from hep_pnn.data.jets.reader import load_jets

    return load_jets


def with_parameter(
    jets: JetSample, data: JetData, *, seed: SeedLike, among: Sequence[float] | None = None
) -> LabelledJets:
    """``jets`` with the values of the column ``data.parameter`` (none if it is None).

    Background jets with a finite value keep it (generated at that hypothesis, e.g. QCD in
    a Z′ mass's pT window); each other background jet gets a value drawn from the signal
    jets' values (those within 0.5 of ``among`` when given) as its hypothesis."""
    if data.parameter is None:
        return LabelledJets(jets)
    if data.parameter not in jets.features.columns:
        raise DataError(
            f"no jet-level column {data.parameter!r} to condition on",
            where="data.parameter",
            fix=f"use one of {', '.join(map(str, jets.features.columns))}",
        )
    values = jets.features[data.parameter].to_numpy(np.float32).copy()
    signal = jets.labels == 1
    if not np.isfinite(values[signal]).all():
        raise DataError(
            f"signal jets without a finite {data.parameter!r}",
            where="data.parameter",
            fix="give every signal jet its parameter value",
        )
    # background without a parameter of its own gets a signal value as its hypothesis
    drawn = ~signal & ~np.isfinite(values)
    choices = values[signal]
    if among is not None:
        choices = choices[
            (np.abs(choices[:, None] - np.asarray(among)[None, :]) <= 0.5).any(axis=1)
        ]
    values[drawn] = as_generator(seed).choice(choices, size=int(drawn.sum()))
    return LabelledJets(jets, values, own_background=bool((~signal).any() and not drawn.any()))


def _keep_signal_parameters(labelled: LabelledJets, wanted: list[float]) -> LabelledJets:
    assert labelled.parameter is not None
    signal = labelled.jets.labels == 1
    near = np.abs(labelled.parameter[:, None] - np.asarray(wanted)[None, :]) <= 0.5
    missing = [w for w, found in zip(wanted, near[signal].any(axis=0), strict=True) if not found]
    if missing:
        raise DataError(
            f"no signal jets at parameter {', '.join(f'{m:g}' for m in missing)}",
            where="data.signal_parameters",
            fix=f"choose among {sorted(set(labelled.parameter[signal].tolist()))}",
        )
    # drawn background values lie among the wanted ones; own values outside them go too
    keep = near.any(axis=1) if labelled.own_background else near.any(axis=1) | ~signal
    return labelled.select(keep)


def load_labelled_jets(data: JetData, *, test: bool) -> LabelledJets:
    """The training (``test=False``, validation jets included) or held-out test jets.

    The same config gives the same jets and the same background parameter values.
    """
    split_seed, train_seed, test_seed = spawn(data.seed, 3)
    among = None if test else data.signal_parameters
    wanted = [] if data.parameter is None else [data.parameter]
    seed = test_seed if test else train_seed
    if data.paths:
        jets = read_jet_files(data.paths, columns=wanted)
        kept, held = split_jets(jets.labels, fraction=data.test_fraction, seed=split_seed)
        jets = LabelledJets(jets).select(held if test else kept).jets
    else:
        jets = read_jet_files(data.test_paths if test else data.train_paths, columns=wanted)
    labelled = with_parameter(jets, data, seed=seed, among=among)
    if data.signal_parameters is not None and not test:
        labelled = _keep_signal_parameters(labelled, data.signal_parameters)
    labels = labelled.jets.labels
    if not (labels == 1).any() or not (labels == 0).any():
        raise DataError(
            f"the {'test' if test else 'training'} jets need both top (signal) and QCD jets",
            where="data section (jets)",
            fix="check the is_signal_new column of the input files",
        )
    return labelled
