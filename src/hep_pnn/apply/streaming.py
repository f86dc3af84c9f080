r"""Score every entry of Parquet, CSV or ROOT inputs at several mass hypotheses, in chunks.

Several inputs are scored in the order given and their scores concatenated into the one
output, so row ``i`` of the output belongs to entry ``i`` of the inputs chained in that
order (a ROOT ``TChain`` of the inputs has the output tree as its friend). Memory stays
bounded by ``chunk_size`` rows: inputs are read with
:func:`hep_pnn.data.formats.iter_columns` and the output is appended chunk by chunk into a
temporary file that is renamed into place only when everything succeeded.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress

from hep_pnn._io import atomic_path
from hep_pnn.apply.options import (
    NAN_POLICIES,
    NanPolicy,
    check_feature_map,
    missing_columns_error,
    parse_feature_map,
    score_column,
)
from hep_pnn.apply.writers import ScoreWriter, output_format
from hep_pnn.data.formats import format_of, iter_columns, list_columns
from hep_pnn.errors import ConfigError, DataError, ModelError
from hep_pnn.mass_lists import parse_masses
from hep_pnn.run_files import CONFIG_FILE, MODEL_CONFIG
from hep_pnn.scorer import Scorer

__all__ = ["ApplySummary", "apply_scores", "load_scorer"]

#: Rows per model call: activations of 16k rows take tens of MB, while larger batches
#: are hardly faster and 100k-row chunks would hold several hundred MB of activations.
INFERENCE_BATCH = 16_384


@dataclass(frozen=True)
class ApplySummary:
    """What :func:`apply_scores` wrote.

    Attributes:
        output: the file written.
        events: rows written (entries of all inputs).
        columns: the score columns, one per mass.
        non_finite_rows: rows with a NaN or infinite feature (skipped or filled).
        seconds: wall time.
    """

    output: Path
    events: int
    columns: tuple[str, ...]
    non_finite_rows: int
    seconds: float


def load_scorer(model: Any, *, threads: int = 2) -> Scorer:
    """A scorer from a model object, an ``.onnx`` file, a saved model or a run directory.

    ``threads`` sets the onnxruntime threads; torch models score with 2 threads.

    Example:
        >>> load_scorer("/no/such/model")
        Traceback (most recent call last):
        ...
        hep_pnn.errors.ModelError: model /no/such/model: not found (give a run directory, \
a saved model directory (model.json) or an .onnx file)
    """
    if hasattr(model, "predict"):
        return model
    path = Path(model)
    fix = "give a run directory, a saved model directory (model.json) or an .onnx file"
    if path.suffix.lower() == ".onnx" and path.is_file():
        from hep_pnn.models.onnx import OnnxScorer

        return OnnxScorer(path, threads=threads)
    if not path.exists():
        raise ModelError("not found", where=f"model {path}", fix=fix)
    if (path / CONFIG_FILE).is_file():
        from hep_pnn.training import load_run

        return load_run(path).model
    if (path / MODEL_CONFIG).is_file():
        from hep_pnn.models import load_model

        return load_model(path)
    raise ModelError(
        "not a model: no config.yaml or model.json, and not an .onnx file",
        where=f"model {path}",
        fix=fix,
    )


def _count_entries(paths: Sequence[Path], tree: str | None) -> int | None:
    """Total entries when cheap to know (Parquet footers, ROOT headers); None for CSV."""
    total = 0
    for path in paths:
        count = format_of(path).count_rows(path, tree=tree)
        if count is None:
            return None
        total += count
    return total


def _feature_matrix(
    chunk: Mapping[str, np.ndarray], columns: Sequence[str], where: str
) -> np.ndarray:
    """The chunk's feature columns as one float32 ``(n, f)`` matrix, filled column by column."""
    n = len(chunk[columns[0]])
    features = np.empty((n, len(columns)), dtype=np.float32)
    for index, name in enumerate(columns):
        if chunk[name].dtype.kind not in "biuf":
            raise DataError(
                f"column {name} is not numeric ({chunk[name].dtype})",
                where=where,
                fix="map the feature to a numeric column",
            )
        features[:, index] = chunk[name]
    return features


def _handle_non_finite(
    features: np.ndarray,
    *,
    policy: NanPolicy,
    fill_value: float,
    columns: Sequence[str],
    where: str,
    first_row: int,
) -> np.ndarray:
    """Rows with a NaN or infinite feature; raises, fills them in place or leaves them."""
    bad = ~np.isfinite(features)
    bad_rows = bad.any(axis=1)
    if policy == "error" and bad_rows.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(
            f"{features[row, col]} in a feature ({int(bad_rows.sum())} such row(s) in this chunk)",
            where=f"{where}, column {columns[col]}, row {first_row + int(row) + 1}",
            fix="clean the input, or pass --nan-policy skip (NaN scores) or fill",
        )
    if policy == "fill" and bad_rows.any():
        features[bad] = fill_value
    return bad_rows


def _score_chunk(
    scorer: Any, features: np.ndarray, unscored: np.ndarray, masses: Sequence[float]
) -> list[np.ndarray]:
    """Scores at each mass; rows marked ``unscored`` get NaN."""
    keep = ~unscored if unscored.any() else None
    scored = features if keep is None else features[keep]
    result = []
    for mass in masses:
        mass_column = np.full(len(scored), mass, dtype=np.float32)
        values = scorer.predict(scored, mass_column, batch_size=INFERENCE_BATCH)
        values = np.asarray(values, dtype=np.float32).reshape(-1)
        if keep is not None:
            values, partial = np.full(len(features), np.nan, dtype=np.float32), values
            values[keep] = partial
        result.append(values)
    return result


def _check_inputs(paths: Sequence[Path], columns: Sequence[str], tree: str | None) -> None:
    """Every input has every feature column, before anything is written."""
    for path in paths:
        available = list_columns(path, tree=tree)
        missing = [name for name in columns if name not in available]
        if missing:
            where = f"file {path}" + (f", tree {tree}" if tree else "")
            raise missing_columns_error(missing, available, where=where)


def _progress(enabled: bool) -> Progress:
    console = Console(stderr=True)
    # Off when stderr is a file or pipe: a bar there is noise, not progress.
    return Progress(console=console, disable=not (enabled and console.is_terminal), transient=True)


def apply_scores(
    model_or_path: Any,
    inputs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    masses: str | Iterable[float],
    output: str | os.PathLike[str],
    tree: str | None = None,
    output_tree: str = "pnn_scores",
    feature_map: str | Path | Mapping[str, str] | None = None,
    nan_policy: NanPolicy = "error",
    fill_value: float = 0.0,
    chunk_size: int = 100_000,
    threads: int = 2,
    overwrite: bool = False,
    progress: bool = False,
) -> ApplySummary:
    r"""Write the score of every input entry at every mass in ``masses`` to ``output``.

    Args:
        model_or_path: a scorer, an ``.onnx`` file, a saved model or a run directory.
        inputs: Parquet, CSV or ROOT files, scored in this order into one output.
        masses: mass hypotheses in GeV; column ``score_m<mass>`` each
            (:func:`~hep_pnn.apply.options.score_column`).
        output: ``.parquet``, ``.csv`` or ``.root`` (a tree ``output_tree`` to use as a
            friend of the input tree).
        tree: the input tree of ROOT files (needed only if a file has several trees).
        output_tree: the tree name in a ROOT output.
        feature_map: ``{model feature: input column}``, ``"f0=lep_pt,..."`` or a YAML file.
        nan_policy: NaN/inf in a feature: ``"error"``; ``"skip"`` (the row's scores are NaN,
            the row is kept so the output stays aligned); ``"fill"`` (use ``fill_value``).
        fill_value: replacement for non-finite features with ``nan_policy="fill"``.
        chunk_size: rows read and scored at a time (bounds the memory).
        threads: onnxruntime threads of an ONNX model (torch models use 2).
        overwrite: replace an existing output.
        progress: show a progress bar on stderr.

    Masses outside the trained range give an
    :class:`~hep_pnn.evaluation.scoring.ExtrapolationWarning`.

    Example:
        >>> import tempfile, pathlib, pandas as pd
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> pd.DataFrame({"x": [0.0, 1.0]}).to_parquet(folder / "in.parquet")
        >>> class Scorer:
        ...     feature_names, training_masses = ("x",), (500.0, 1000.0)
        ...     def predict(self, features, mass, *, batch_size=None):
        ...         return features[:, 0] * mass / 1000
        >>> summary = apply_scores(Scorer(), folder / "in.parquet", masses="500,750",
        ...                        output=folder / "scores.csv")
        >>> print((folder / "scores.csv").read_text().strip())
        score_m500,score_m750
        0,0
        0.5,0.75
    """
    from hep_pnn.evaluation.scoring import check_mass_range

    start = time.perf_counter()
    mass_values = parse_masses(masses)
    if nan_policy not in NAN_POLICIES:
        raise ConfigError(
            f"unknown NaN policy {nan_policy!r}",
            where="--nan-policy",
            fix=f"choose one of {', '.join(NAN_POLICIES)}",
        )
    if chunk_size < 1:
        raise ConfigError(f"chunk size {chunk_size} < 1", where="--chunk-size", fix="use ≥ 1")
    paths = [Path(inputs)] if isinstance(inputs, str | os.PathLike) else [Path(p) for p in inputs]
    if not paths:
        raise ConfigError("no input file", where="INPUT", fix="give at least one input file")
    out_format = output_format(output)
    if any(path.resolve() == Path(output).resolve() for path in paths):
        raise ConfigError(
            f"{output} is also an input", where="--output", fix="write to another file"
        )
    scorer = load_scorer(model_or_path, threads=threads)
    feature_names = getattr(scorer, "feature_names", None)
    if feature_names is None:
        raise ModelError(
            "the model does not name its input features (no feature_names)",
            where="model",
            fix="give a saved model, a run directory or an .onnx file",
        )
    names = tuple(feature_names)
    mapping = parse_feature_map(feature_map)
    check_feature_map(mapping, names)
    columns = [mapping.get(name, name) for name in names]
    _check_inputs(paths, columns, tree)
    check_mass_range(mass_values, getattr(scorer, "training_masses", None))

    out_columns = tuple(score_column(mass) for mass in mass_values)
    non_finite = 0
    with (
        atomic_path(output, overwrite=overwrite) as tmp,
        ScoreWriter(tmp, out_columns, format=out_format, tree=output_tree) as writer,
        _progress(progress) as bar,
    ):
        task = bar.add_task("scoring", total=_count_entries(paths, tree) if progress else None)
        for path in paths:
            first_row = 0
            for chunk in iter_columns(path, columns, tree=tree, chunk_size=chunk_size):
                features = _feature_matrix(chunk, columns, f"file {path}")
                unscored = _handle_non_finite(
                    features,
                    policy=nan_policy,
                    fill_value=fill_value,
                    columns=columns,
                    where=f"file {path}",
                    first_row=first_row,
                )
                non_finite += int(unscored.sum())
                if nan_policy == "fill":
                    unscored[:] = False
                scores = _score_chunk(scorer, features, unscored, mass_values)
                writer.write(dict(zip(out_columns, scores, strict=True)))
                first_row += len(features)
                bar.advance(task, len(features))
        events = writer.rows
    return ApplySummary(
        output=Path(output),
        events=events,
        columns=out_columns,
        non_finite_rows=non_finite,
        seconds=time.perf_counter() - start,
    )
