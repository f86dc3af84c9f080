"""Run a published study: make its data, train and evaluate every run, summarise.

Each run is an independent ``pnn train`` + ``pnn evaluate`` process, so ``jobs`` of them can
use both cores; finished runs are skipped on a re-run, so a long study can be resumed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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

__all__ = ["EXECUTORS", "RunSpec", "plan_runs", "prepare_data", "run_study", "select_runs"]


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

    Training events are the training part of the study's preset (all of HEPMASS-IMB's
    signal, as the published runs trained on); the test sample is always balanced (the
    ``hepmass`` preset's third), as the published studies evaluate on the HEPMASS test set.
    """
    from hep_pnn.data import write_parquet
    from hep_pnn.data.generator import generate
    from hep_pnn.data.generator.validation import preset_sizes, training_sizes

    fraction = SIZES[size]["fraction"]
    paths = {"train": folder / "train.parquet", "test": folder / "test.parquet"}
    sizes = {
        "train": training_sizes(study.data.preset, fraction=fraction),
        "test": preset_sizes("hepmass", fraction=fraction / 3),
    }
    train = sizes["train"]
    train["n_background"] = max(1, round(train["n_background"] * study.data.background_fraction))
    _record_generator(folder, cached=any(path.is_file() for path in paths.values()))
    streams = np.random.SeedSequence(seed).spawn(2)
    for (part, path), stream in zip(paths.items(), streams, strict=True):
        if path.is_file():
            _check_cached(path, sizes[part])
            continue
        table = generate(**sizes[part], seed=int(stream.generate_state(1)[0]), progress=True)
        write_parquet(table, path)
    return [str(paths["train"])], [str(paths["test"])]


#: The generator version of a seed folder's events, written before its first file.
GENERATOR_RECORD = "generator.json"


def _record_generator(folder: Path, *, cached: bool) -> None:
    """Record the generator version in a new seed folder; refuse cached events of another
    version (or of an unrecorded one): runs trained on them would not be comparable."""
    from hep_pnn._io import atomic_path
    from hep_pnn.data.generator import GENERATOR_VERSION

    record = folder / GENERATOR_RECORD
    if not cached:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(record, overwrite=True) as tmp:
            tmp.write_text(json.dumps({"generator_version": GENERATOR_VERSION}) + "\n")
        return
    version = json.loads(record.read_text())["generator_version"] if record.is_file() else None
    if version != GENERATOR_VERSION:
        made = (
            "an unrecorded generator version" if version is None else f"generator version {version}"
        )
        raise ConfigError(
            f"{folder} holds events of {made}; this hep-pnn generates version {GENERATOR_VERSION}",
            where="--output",
            fix="choose a new output folder (its runs were trained on the other events)",
        )


def _check_cached(path: Path, sizes: dict[str, Any]) -> None:
    """Refuse data generated with other sizes (another ``--size`` or an older study file,
    e.g. before ``data.background_fraction``): its finished runs would not be comparable."""
    from hep_pnn.data.formats import format_of

    expected = sum(sizes["n_signal_per_mass"].values()) + sizes["n_background"]
    found = format_of(path).count_rows(path)
    if found != expected:
        raise ConfigError(
            f"{path} holds {found:,} events, this study and size generate {expected:,}",
            where="--output",
            fix="choose a new output folder (its runs were trained on the other data)",
        )


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


def select_runs(study: StudyConfig, runs: Sequence[str]) -> StudyConfig:
    """``study`` restricted to the named runs (all of them when ``runs`` is empty)."""
    unknown = [run for run in runs if run not in study.runs]
    if unknown:
        raise ConfigError(
            f"study {study.name!r} has no run {unknown[0]!r}",
            where="--runs",
            fix=f"use some of {', '.join(study.runs)}",
        )
    if not runs:
        return study
    chosen = {run: study.runs[run] for run in study.runs if run in runs}
    return study.model_copy(update={"runs": chosen})


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


Work = Callable[[RunSpec], "str | None"]
Echo = Callable[[str], None]


def _label(spec: RunSpec) -> str:
    return f"{spec.name} (seed {spec.seed})"


def _map_local(
    work: Work, specs: list[RunSpec], *, jobs: int, address: str | None, echo: Echo
) -> list[str | None]:
    """``jobs`` runs at a time on this machine (each run is its own processes)."""

    def one(spec: RunSpec) -> str | None:
        echo(f"[study] start {_label(spec)}")
        error = work(spec)
        echo(f"[study] {'FAILED' if error else 'done'} {_label(spec)}")
        return error

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, specs))


def _call(work: Work, spec: RunSpec) -> str | None:
    return work(spec)


def _map_ray(
    work: Work, specs: list[RunSpec], *, jobs: int, address: str | None, echo: Echo
) -> list[str | None]:
    """Each run a Ray task asking for the CPUs of its training threads; the cluster's
    nodes must see the study folder (a shared file system)."""
    from hep_pnn._ray import connect

    ray = connect(address, feature="pnn study --executor ray")
    task = ray.remote(_call).options(num_cpus=max(1, 2 // jobs), max_retries=0)
    refs = {task.remote(work, spec): spec for spec in specs}
    echo(f"[study] {len(refs)} run(s) submitted to Ray")
    pending = list(refs)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        error = ray.get(ready[0])
        echo(f"[study] {'FAILED' if error else 'done'} {_label(refs[ready[0]])}")
    return [ray.get(ref) for ref in refs]


#: Where the runs of a study execute: ``local`` (a pool of ``jobs``) or ``ray`` (tasks).
EXECUTORS: dict[str, Callable[..., list[str | None]]] = {"local": _map_local, "ray": _map_ray}


@dataclass(frozen=True)
class _Work:
    """One run's work, picklable so Ray can ship it to a worker."""

    grid: str | None
    grid_signal: int
    logs: Path

    def __call__(self, spec: RunSpec) -> str | None:
        return _run_one(spec, grid=self.grid, grid_signal=self.grid_signal, logs=self.logs)


def run_study(
    name: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = None,
    size: str = "small",
    train_data: Sequence[str] = (),
    test_data: Sequence[str] = (),
    jobs: int = 1,
    seeds: int = 1,
    runs: Sequence[str] = (),
    executor: str = "local",
    address: str | None = None,
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
        runs: train only these runs of the study (default: all); the others' finished
            results in ``output`` are kept and summarised with them.
        executor: ``local`` (a pool of ``jobs`` runs) or ``ray`` (each run a Ray task on
            the cluster at ``address``, a local Ray instance without one); the same seeds
            give the same results on both.
    """
    if executor not in EXECUTORS:
        raise ConfigError(
            f"unknown executor {executor!r}",
            where="--executor",
            fix=f"use one of {', '.join(EXECUTORS)}",
        )
    if address is not None and executor != "ray":
        raise ConfigError(
            "--address needs --executor ray", where="--address", fix="add --executor ray"
        )
    whole = load_study(name)
    study = select_runs(whole, runs)
    if executor == "ray":  # a bad address fails before any data is made
        from hep_pnn._ray import connect

        connect(address, feature="pnn study --executor ray")
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
    every = plan_runs(whole, folder, size=size, seeds=seeds, data=data, threads=threads)
    specs = [spec for spec in every if spec.name in study.runs]
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    todo = [spec for spec in specs if not spec.finished]
    echo(f"[study] {study.name}: {len(specs)} runs, {len(specs) - len(todo)} already finished")
    grid = study.grid if not train_data else None

    work = _Work(grid, SIZES[size]["grid_signal"], logs)
    results = EXECUTORS[executor](work, todo, jobs=jobs, address=address, echo=echo)
    errors = [e for e in results if e]
    if errors:
        raise PNNError(
            f"{len(errors)} run(s) failed: " + "; ".join(errors),
            where=f"study {study.name}",
            fix="fix the cause and run the same command again (finished runs are kept)",
        )
    # the runs not selected join the summary with their finished results
    summarise_study(whole, folder, [s for s in every if s.name in study.runs or s.finished])
    return folder
