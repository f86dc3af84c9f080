"""Run a published study: make its data, train and evaluate every run, summarise.

Each run is an independent ``pnn train`` + ``pnn evaluate`` process, so ``jobs`` of them can
use both cores; finished runs are skipped on a re-run, so a long study can be resumed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError

from hep_pnn.errors import ConfigError, PNNError, from_validation_error
from hep_pnn.run_files import MODEL_DIR
from hep_pnn.studies.config import SIZES, RunSpec, StudyConfig, load_study
from hep_pnn.studies.summary import summarise_study
from hep_pnn.training.config import ExperimentConfig

__all__ = ["RunSpec", "plan_runs", "prepare_data", "run_study"]


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def prepare_data(
    study: StudyConfig, folder: Path, *, size: str, seed: int
) -> tuple[list[str], list[str]]:
    """Generate (once) the study's training and test files for ``seed``; their paths.

    Training events follow the study's preset; the test sample is always balanced
    (the ``hepmass`` preset), as the published studies evaluate on the HEPMASS test set.
    """
    from hep_pnn.data import write_parquet
    from hep_pnn.data.generator import generate
    from hep_pnn.data.generator.validation import preset_sizes

    fraction = SIZES[size]["fraction"]
    paths = {"train": folder / "train.parquet", "test": folder / "test.parquet"}
    sizes = {
        "train": preset_sizes(study.data.preset, fraction=fraction * 2 / 3),
        "test": preset_sizes("hepmass", fraction=fraction / 3),
    }
    streams = np.random.SeedSequence(seed).spawn(2)
    for (part, path), stream in zip(paths.items(), streams, strict=True):
        if not path.is_file():
            table = generate(**sizes[part], seed=int(stream.generate_state(1)[0]), progress=True)
            write_parquet(table, path)
    return [str(paths["train"])], [str(paths["test"])]


def plan_runs(
    study: StudyConfig,
    output: Path,
    *,
    size: str,
    seeds: int,
    data: Callable[[int], tuple[list[str], list[str]]],
    threads: int,
) -> list[RunSpec]:
    """Every (run, seed) of the study with its resolved experiment config."""
    budget = SIZES[size]
    specs = []
    for seed in range(seeds):
        train_paths, test_paths = data(seed)
        base = {
            "data": {"source": "files", "train_paths": train_paths, "test_paths": test_paths},
            "training": {
                "epochs": budget["epochs"],
                "epoch_length": budget["epoch_length"],
                "seed": seed,
                "threads": threads,
            },
        }
        if study.data.training_masses is not None:
            base["data"]["signal_masses"] = list(study.data.training_masses)
        for name, overrides in study.runs.items():
            config = _merge(base, overrides)
            specs.append(RunSpec(name, seed, config, output / "runs" / name / f"seed{seed}"))
    return specs


def _check_runs(study: StudyConfig, output: Path, *, size: str, threads: int) -> None:
    """Validate every run's experiment config before any data is generated or run trained."""
    placeholder = plan_runs(
        study,
        output,
        size=size,
        seeds=1,
        data=lambda seed: (["t.parquet"], ["t.parquet"]),
        threads=threads,
    )
    for spec in placeholder:
        try:
            ExperimentConfig.model_validate(spec.config)
        except ValidationError as err:
            raise from_validation_error(
                err, where=f"study {study.name}, run {spec.name!r}", fix="see docs/training.md"
            ) from None


def _run_one(spec: RunSpec, *, grid: str | None, grid_signal: int, logs: Path) -> str | None:
    """Train and evaluate one run in child processes; an error line, or None on success."""
    config_path = logs / f"{spec.name}-seed{spec.seed}.yaml"
    config_path.write_text(yaml.safe_dump(spec.config, sort_keys=False))
    log_path = logs / f"{spec.name}-seed{spec.seed}.log"
    pnn = [sys.executable, "-m", "hep_pnn"]
    commands = []
    if not (spec.run_dir / MODEL_DIR).is_dir():
        commands.append([*pnn, "train", str(config_path), "-o", str(spec.run_dir), "--overwrite"])
    evaluate = [*pnn, "evaluate", str(spec.run_dir), "--overwrite"]
    commands.append(
        evaluate + (["--grid", grid, "--grid-signal", str(grid_signal)] if grid else [])
    )
    with log_path.open("a") as log:
        for command in commands:
            log.write(f"$ {' '.join(command)}\n")
            log.flush()
            env = {**os.environ, "PYTHONUNBUFFERED": "1"}
            done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env)
            if done.returncode != 0:
                return f"{spec.name} seed {spec.seed}: `{command[3]}` failed, see {log_path}"
    return None


def run_study(
    name: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = None,
    size: str = "small",
    train_data: Sequence[str] = (),
    test_data: Sequence[str] = (),
    jobs: int = 1,
    seeds: int = 1,
    echo: Callable[[str], None] = print,
) -> Path:
    """Run study ``name`` (a name from ``studies/`` or a YAML path); returns its folder.

    Args:
        output: result folder (default ``study-output/<name>-<size>``); re-running skips
            finished runs, so an interrupted study resumes.
        size: ``tiny``, ``small`` (minutes), ``medium`` (HEPMASS-sized data, 8 epochs of
            1M events) or ``full`` (HEPMASS-sized, 25 full epochs; hours).
        train_data, test_data: the user's own files (e.g. the real HEPMASS
            ``all_train.csv.gz`` / ``all_test.csv.gz``) instead of generated events.
        jobs: runs trained at the same time (each with ``2 // jobs`` threads, at least 1).
        seeds: repetitions with different seeds, for mean ± spread.
    """
    study = load_study(name)
    if size not in SIZES:
        raise ConfigError(
            f"unknown size {size!r}", where="--size", fix=f"use one of {', '.join(SIZES)}"
        )
    if jobs < 1 or seeds < 1:
        raise ConfigError("must be at least 1", where="--jobs/--seeds", fix="e.g. --jobs 2")
    if bool(train_data) != bool(test_data):
        raise ConfigError(
            "give both training and test files, or neither",
            where="--train-data/--test-data",
            fix="e.g. --train-data all_train.csv.gz --test-data all_test.csv.gz",
        )
    folder = Path(output or Path("study-output") / f"{study.name}-{size}").resolve()

    def absolute(paths: Sequence[str]) -> list[str]:
        return [str(Path(p).resolve()) for p in paths]

    def data(seed: int) -> tuple[list[str], list[str]]:
        if train_data:
            return absolute(train_data), absolute(test_data)
        target = folder / "data" / f"seed{seed}"
        target.mkdir(parents=True, exist_ok=True)
        echo(f"[study] data for seed {seed} in {target}")
        return prepare_data(study, target, size=size, seed=seed)

    threads = max(1, 2 // jobs)
    _check_runs(study, folder, size=size, threads=threads)
    specs = plan_runs(study, folder, size=size, seeds=seeds, data=data, threads=threads)
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    todo = [spec for spec in specs if not spec.finished]
    echo(f"[study] {study.name}: {len(specs)} runs, {len(specs) - len(todo)} already finished")
    grid = study.grid if not train_data else None

    def work(spec: RunSpec) -> str | None:
        echo(f"[study] start {spec.name} (seed {spec.seed})")
        error = _run_one(spec, grid=grid, grid_signal=SIZES[size]["grid_signal"], logs=logs)
        echo(f"[study] {'FAILED' if error else 'done'} {spec.name} (seed {spec.seed})")
        return error

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        errors = [e for e in pool.map(work, todo) if e]
    if errors:
        raise PNNError(
            f"{len(errors)} run(s) failed: " + "; ".join(errors),
            where=f"study {study.name}",
            fix="fix the cause and run the same command again (finished runs are kept)",
        )
    summarise_study(study, folder, specs)
    return folder
