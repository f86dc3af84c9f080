"""The ``pnn`` command: a thin layer over the library.

Every command parses options, calls public library functions and prints a short
summary. A :class:`~hep_pnn.errors.PNNError` becomes one line on stderr and exit
code 2, with no traceback.
"""

from __future__ import annotations

import functools
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from hep_pnn import __version__
from hep_pnn._io import forget_termination, request_termination, termination
from hep_pnn.errors import PNNError

__all__ = ["app", "main"]

app = typer.Typer(
    name="pnn",
    help="Parametric neural networks for signal/background classification in HEP.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hep-pnn {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Parametric neural networks for signal/background classification in HEP."""


@app.command()
def demo(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the demo results.")
    ] = Path("demo-output"),
    signal: Annotated[int, typer.Option(help="Generated signal events per mass.")] = 100_000,
    background: Annotated[int, typer.Option(help="Generated background events.")] = 500_000,
    epochs: Annotated[int, typer.Option(help="Training epochs per model.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of every random choice.")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output folder.")] = False,
    jets: Annotated[
        bool, typer.Option("--jets", help="The jet example instead: CNN, ParticleNet-Lite, BDT.")
    ] = False,
    n_jets: Annotated[int, typer.Option(help="--jets: generated top (and QCD) jets.")] = 2000,
    jet_file: Annotated[
        Path | None, typer.Option(help="--jets: use this jet file instead of generating.")
    ] = None,
) -> None:
    """Generate data, train AffinePNN and pNN, evaluate them and write a report.

    With --jets: generate Pythia top and QCD jets, train the CNN, ParticleNet-Lite and a BDT.
    """
    from hep_pnn._tables import markdown_table
    from hep_pnn.demo import run_demo

    if jets:
        from hep_pnn.jet_demo import run_jet_demo

        jet_result = run_jet_demo(
            output, n_jets=n_jets, epochs=epochs, seed=seed, jets=jet_file,
            overwrite=overwrite, echo=typer.echo,
        )  # fmt: skip
        table = jet_result.metrics[["tagger", "auc", "rejection_30", "rejection_50"]]
        typer.echo("\nTest jets: AUC, background rejection 1/ε_B at ε_S = 0.3 and 0.5")
        typer.echo(markdown_table(table, digits=3, index_name="run"))
        typer.echo(f"\nreport: {jet_result.report}  ({jet_result.seconds / 60:.1f} min)")
        return

    result = run_demo(
        output,
        n_signal_per_mass=signal,
        n_background=background,
        epochs=epochs,
        seed=seed,
        overwrite=overwrite,
        echo=typer.echo,
    )
    typer.echo("\nROC AUC per mass (test sample; mean over the five published masses):")
    typer.echo(markdown_table(result.auc))
    typer.echo("\nROC AUC on the fine mass grid, every 100 GeV (all 50 GeV points in the report):")
    grid = result.grid_auc.T
    typer.echo(markdown_table(grid[[m for m in grid.columns if m % 100 == 0]]))
    typer.echo(f"\nreport: {result.report}  ({result.seconds / 60:.1f} min)")


# --- commands ------------------------------------------------------------------------------------


@app.command()
def study(
    name: Annotated[str, typer.Argument(help="Study name (hepmass, imbalanced, ...) or YAML.")],
    size: Annotated[
        str,
        typer.Option(
            help="tiny, small (minutes), medium (HEPMASS-sized data, 8 epochs of 1M events) "
            "or full (HEPMASS-sized, 25 full epochs)."
        ),
    ] = "small",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Result folder.")] = None,
    train_data: Annotated[
        list[str] | None, typer.Option(help="Your training files (e.g. HEPMASS all_train.csv.gz).")
    ] = None,
    test_data: Annotated[list[str] | None, typer.Option(help="Your test files.")] = None,
    jobs: Annotated[int, typer.Option(help="Runs trained at the same time.")] = 1,
    seeds: Annotated[int, typer.Option(help="Repetitions with different seeds.")] = 1,
    runs: Annotated[
        list[str] | None,
        typer.Option(help="Only these runs of the study (repeat the option; default: all)."),
    ] = None,
    executor: Annotated[
        str, typer.Option(help="local (a process pool) or ray (each run a Ray task).")
    ] = "local",
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address (default: a local Ray).")
    ] = None,
) -> None:
    """Reproduce a published study; finished runs are skipped when re-run."""
    from hep_pnn.studies import list_studies, run_study

    if name == "list":
        typer.echo("\n".join(list_studies()))
        return
    folder = run_study(
        name,
        output=output,
        size=size,
        train_data=train_data or (),
        test_data=test_data or (),
        jobs=jobs,
        seeds=seeds,
        runs=runs or (),
        executor=executor,
        address=address,
        echo=typer.echo,
    )
    typer.echo((folder / "results.md").read_text())
    typer.echo(f"report: {folder / 'report.html'}")


@app.command("model-info")
def model_info(
    model: Annotated[Path, typer.Argument(help="Saved model folder (model.json + weights).")],
) -> None:
    """Describe a saved model: architecture, parameters, features, training masses."""
    from hep_pnn.models import describe_model, load_model

    typer.echo(describe_model(load_model(model)))


@dataclass(frozen=True)
class _GenerateRequest:
    """The options of ``pnn generate``, handed to the generator of the chosen process."""

    output: Path
    n_events: int
    layout: str | None
    preset: str | None
    fraction: float
    masses: str | None
    mass_range: str | None
    signal: int | None
    background: int | None
    background_mass: str
    seed: int
    width: float
    spin: int
    btag_efficiency: str | None
    luminosity: float
    threads: int | None
    raw: bool
    progress: bool
    overwrite: bool
    mpi: bool


def _write_jets(
    write: Callable[..., tuple[Any, Path]], r: _GenerateRequest, *, signal_name: str, **sizes: Any
) -> None:
    """Generate and write jets with ``write`` and the request's shared options, then one
    line: the jets of each class, the file and the time."""
    start = time.perf_counter()
    jets, path = write(
        r.output,
        **sizes,
        overwrite=r.overwrite,
        seed=r.seed,
        mpi=r.mpi,
        workers=r.threads,
        progress=r.progress,
    )
    typer.echo(
        f"wrote {len(jets):,} jets ({int(jets.labels.sum()):,} {signal_name}, "
        f"{int((jets.labels == 0).sum()):,} QCD) to {path} in {time.perf_counter() - start:.1f} s"
    )


def _generate_zprime_tagging(r: _GenerateRequest) -> None:
    from hep_pnn.data.jets.zprime import generate_zprime_tagging_file
    from hep_pnn.mass_lists import parse_masses

    _write_jets(
        generate_zprime_tagging_file,
        r,
        signal_name="Z′ top",
        masses=parse_masses(r.masses or "1000,1500,2000", option="--masses"),
        n_signal=1_000 if r.signal is None else r.signal,
        n_qcd=1_000 if r.background is None else r.background,
    )


def _generate_top_tagging(r: _GenerateRequest) -> None:
    from hep_pnn.data.jets.generate import generate_top_tagging_file

    _write_jets(
        generate_top_tagging_file,
        r,
        signal_name="top",
        n_top=10_000 if r.signal is None else r.signal,
        n_qcd=10_000 if r.background is None else r.background,
    )


def _generate_four_top(r: _GenerateRequest) -> None:
    from hep_pnn.data.four_top import generate_four_top, write_four_top
    from hep_pnn.mass_lists import parse_masses

    zprime = parse_masses(r.masses or "1000")
    frame = generate_four_top(n_events=r.n_events, zprime_mass=zprime, seed=r.seed)
    path = write_four_top(frame, r.output, overwrite=r.overwrite)
    typer.echo(f"wrote {len(frame):,} top quarks of {r.n_events:,} four-top events to {path}")


def _generate_hepmass(r: _GenerateRequest) -> None:
    from hep_pnn.data.generator import preset_sizes
    from hep_pnn.data.generator.detector import BTAG_WORKING_POINT
    from hep_pnn.data.generator.output import generate_to_file
    from hep_pnn.data.generator.validation import parse_btag_efficiency
    from hep_pnn.errors import ConfigError
    from hep_pnn.mass_lists import parse_masses

    if r.masses is not None and r.mass_range is not None:
        raise ConfigError("--masses and --mass-range both given", where="options", fix="use one")
    if r.preset is not None:
        if any(value is not None for value in (r.masses, r.mass_range, r.signal, r.background)):
            raise ConfigError(
                "--preset fixes the masses and sizes",
                where="options",
                fix="drop --masses/--mass-range/--signal/--background, or scale with --fraction",
            )
        sizes = preset_sizes(r.preset, fraction=r.fraction)
    else:
        sizes = {
            "masses": parse_masses(r.mass_range, option="--mass-range")
            if r.mass_range
            else parse_masses(r.masses or "500,750,1000,1250,1500"),
            "n_signal_per_mass": 10_000 if r.signal is None else r.signal,
            "n_background": 50_000 if r.background is None else r.background,
        }
    start = time.perf_counter()
    table, paths = generate_to_file(
        r.output,
        layout=r.layout,
        overwrite=r.overwrite,
        **sizes,
        background_mass=r.background_mass,
        seed=r.seed,
        width_fraction=r.width,
        spin=r.spin,
        btag_efficiency=BTAG_WORKING_POINT
        if r.btag_efficiency is None
        else parse_btag_efficiency(r.btag_efficiency),
        luminosity=r.luminosity,
        threads=r.threads,
        raw=r.raw,
        progress=r.progress,
    )
    counts = ", ".join(f"{p} {len(table.where_process(p)):,}" for p in table.processes())
    typer.echo(
        f"wrote {len(table):,} events ({counts}) to {', '.join(map(str, paths))} "
        f"in {time.perf_counter() - start:.1f} s"
    )


#: What ``pnn generate --process`` knows, in the order its messages list them.
_GENERATED_PROCESSES: dict[str, Callable[[_GenerateRequest], None]] = {
    "hepmass": _generate_hepmass,
    "four-top": _generate_four_top,
    "top-tagging": _generate_top_tagging,
    "zprime-tagging": _generate_zprime_tagging,
}


@app.command("generate")
def generate_command(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Output: .parquet, .root, .csv or .csv.gz.")
    ],
    process: Annotated[
        str,
        typer.Option(
            help="hepmass (X → tt̄ and backgrounds), four-top (tops of tt̄ Z′), top-tagging "
            "(Pythia 8 top and QCD jets; --signal/--background jets, needs hep-pnn[jets]) or "
            "zprime-tagging (Z′ → tt̄ top jets and QCD jets per Z′ mass of --masses)."
        ),
    ] = "hepmass",
    n_events: Annotated[
        int, typer.Option(help="four-top: events, 4 top-quark rows each (Z′ mass: --masses).")
    ] = 20_000,
    layout: Annotated[
        str | None, typer.Option(help="hepmass, hepmass-imb or native (default: by suffix).")
    ] = None,
    preset: Annotated[
        str | None, typer.Option(help="Published sizes: hepmass or hepmass-imb.")
    ] = None,
    fraction: Annotated[float, typer.Option(help="Scale the preset sizes, e.g. 0.01.")] = 1.0,
    masses: Annotated[str | None, typer.Option(help="Signal masses, e.g. 500,750.")] = None,
    mass_range: Annotated[
        str | None, typer.Option(help="Signal masses start:stop:step, e.g. 400:2000:50.")
    ] = None,
    signal: Annotated[
        int | None, typer.Option(help="Selected signal events per mass [default 10000].")
    ] = None,
    background: Annotated[
        int | None, typer.Option(help="Selected background events [default 50000].")
    ] = None,
    background_mass: Annotated[
        str, typer.Option(help="Background mass: identical (as HEPMASS) or uniform.")
    ] = "identical",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    width: Annotated[float, typer.Option(help="Resonance width / mass.")] = 0.05,
    spin: Annotated[
        int, typer.Option(help="Spin of the X: 2 (graviton-like; closest to HEPMASS) or 0.")
    ] = 2,
    btag_efficiency: Annotated[
        str | None,
        typer.Option(
            help="hepmass: tag probabilities of b, c, light jets [default 0.70,0.12,0.01]."
        ),
    ] = None,
    luminosity: Annotated[float, typer.Option(help="Luminosity in fb⁻¹ for the weights.")] = 140.0,
    threads: Annotated[int | None, typer.Option(help="Worker threads (default up to 2).")] = None,
    raw: Annotated[bool, typer.Option(help="Physical units instead of standardised.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    overwrite: Annotated[bool, typer.Option(help="Replace existing output.")] = False,
    mpi: Annotated[
        bool, typer.Option(help="top-tagging, zprime-tagging: multi-parton interactions.")
    ] = True,
) -> None:
    """Generate HEPMASS-like events (X → tt̄ signal, tt̄ and W+jets background) to a file."""
    from hep_pnn.errors import ConfigError

    generator = _GENERATED_PROCESSES.get(process)
    if generator is None:
        names = list(_GENERATED_PROCESSES)
        raise ConfigError(
            f"unknown process {process!r}",
            where="--process",
            fix=f"use {', '.join(names[:-1])} or {names[-1]}",
        )
    generator(
        _GenerateRequest(
            output=output,
            n_events=n_events,
            layout=layout,
            preset=preset,
            fraction=fraction,
            masses=masses,
            mass_range=mass_range,
            signal=signal,
            background=background,
            background_mass=background_mass,
            seed=seed,
            width=width,
            spin=spin,
            btag_efficiency=btag_efficiency,
            luminosity=luminosity,
            threads=threads,
            raw=raw,
            progress=progress,
            overwrite=overwrite,
            mpi=mpi,
        )
    )


@app.command("export")
def export_command(
    model: Annotated[Path, typer.Argument(help="Run directory or saved model directory.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The .onnx file to write.")],
    format: Annotated[str, typer.Option("--format", help="Export format: onnx.")] = "onnx",
    opset: Annotated[int, typer.Option(help="ONNX opset to pin.")] = 18,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing file.")] = False,
) -> None:
    """Export a trained network to ONNX (inputs: features, mass in GeV; output: score)."""
    from hep_pnn.apply import load_scorer
    from hep_pnn.errors import ConfigError
    from hep_pnn.models.onnx import export_onnx

    if format != "onnx":
        raise ConfigError(f"unknown format {format!r}", where="--format", fix="use --format onnx")
    path = export_onnx(load_scorer(model), output, opset=opset, overwrite=overwrite)
    typer.echo(f"wrote {path} (opset {opset})")


@app.command("apply")
def apply_command(
    model: Annotated[Path, typer.Argument(help="Run directory, saved model or .onnx file.")],
    inputs: Annotated[
        list[Path], typer.Argument(help="Parquet, CSV or ROOT files, scored in this order.")
    ],
    masses: Annotated[str, typer.Option(help="Mass hypotheses in GeV, e.g. 500,750,1000.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Scores: .parquet, .csv or .root (friend tree).")
    ],
    tree: Annotated[str | None, typer.Option(help="Tree of ROOT inputs.")] = None,
    output_tree: Annotated[str, typer.Option(help="Tree name of a ROOT output.")] = "pnn_scores",
    feature_map: Annotated[
        str | None,
        typer.Option("--map", help="Model feature to input column: f0=lep_pt,... or a YAML file."),
    ] = None,
    nan_policy: Annotated[
        str, typer.Option(help="NaN/inf in a feature: error, skip (NaN scores) or fill.")
    ] = "error",
    fill_value: Annotated[float, typer.Option(help="Value used by --nan-policy fill.")] = 0.0,
    chunk_size: Annotated[int, typer.Option(help="Rows read and scored at a time.")] = 100_000,
    threads: Annotated[int, typer.Option(help="onnxruntime threads.")] = 2,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Write the score of every input entry at every mass: columns score_m500, score_m750, …"""
    import warnings

    from hep_pnn.apply import apply_scores

    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        # Shown at once (not after scoring) so an extrapolation is seen before a long job.
        warnings.showwarning = lambda message, *_, **__: typer.echo(
            f"pnn: warning: {message}", err=True
        )
        summary = apply_scores(
            model,
            inputs,
            masses=masses,
            output=output,
            tree=tree,
            output_tree=output_tree,
            feature_map=feature_map,
            nan_policy=nan_policy,  # type: ignore[arg-type]
            fill_value=fill_value,
            chunk_size=chunk_size,
            threads=threads,
            overwrite=overwrite,
            progress=progress,
        )
    rows = summary.non_finite_rows
    extra = f"; {rows:,} rows had NaN/inf features ({nan_policy})" if rows else ""
    typer.echo(
        f"wrote {summary.events:,} events × {len(summary.columns)} mass hypotheses "
        f"({', '.join(summary.columns)}) to {summary.output} in {summary.seconds:.1f} s{extra}"
    )


@app.command()
def train(
    config: Annotated[
        Path | None,
        typer.Argument(help="Experiment YAML (default: AffinePNN on generated events)."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config key, e.g. --set training.epochs=3."),
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Run directory to write.")] = Path(
        "pnn-run"
    ),
    model: Annotated[
        str | None,
        typer.Option("--model", help="Replace the config's model (a preset or a baseline)."),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing run directory.")] = False,
    resume: Annotated[bool, typer.Option(help="Continue the run in --output.")] = False,
    nproc: Annotated[
        int, typer.Option(help="Data-parallel processes (runs torchrun; see docs/scaling.md).")
    ] = 1,
) -> None:
    """Train a model from an experiment config and write a run directory."""
    from hep_pnn.training import ExperimentConfig, load_experiment, train_experiment
    from hep_pnn.training.baselines import with_model
    from hep_pnn.training.distributed import is_writer, launch_torchrun
    from hep_pnn.training.runs import check_data_parallel

    keep_run_config = resume and config is None and not set_ and model is None
    overrides = list(set_ or [])
    if model is not None:
        with_model(ExperimentConfig(), model)  # an unknown name fails here, naming --model
        overrides.append(f"model.preset={model}")
    # load_experiment checks the model's options against the --model preset set above
    experiment = None if keep_run_config else load_experiment(config, overrides)
    if nproc > 1:  # the config was checked above: a bad one is one line, not N
        check_data_parallel(experiment, output)
        options = [f"--set={item}" for item in set_ or []] + ["--output", str(output)]
        options += [f"--model={model}"] * (model is not None) + ["--overwrite"] * overwrite
        options += ["--resume"] * resume + ([str(config)] if config is not None else [])
        raise typer.Exit(launch_torchrun(nproc, ["train", *options]))
    run = train_experiment(experiment, output, overwrite=overwrite, resume=resume)
    if not is_writer():
        return
    best = run.history.loc[run.history["val_auc_mean"].idxmax()]
    typer.echo(
        f"best model: {output / 'model'} (epoch {int(best['epoch'])}, "
        f"mean validation AUC {best['val_auc_mean']:.4f}); history: {output / 'history.csv'}"
    )


@app.command()
def tune(
    config: Annotated[Path | None, typer.Argument(help="Experiment YAML the scan starts from.")],
    space: Annotated[
        Path, typer.Option(help="Search space YAML: config key -> {float|int|choice: ...}.")
    ],
    trials: Annotated[int, typer.Option(help="Completed or pruned trials to reach.")] = 20,
    output: Annotated[Path, typer.Option("--output", "-o", help="Scan folder.")] = Path("pnn-tune"),
    executor: Annotated[str, typer.Option(help="local (processes here) or ray.")] = "local",
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address (default: a local Ray).")
    ] = None,
    jobs: Annotated[int, typer.Option(help="Trials at the same time (local executor).")] = 1,
    storage: Annotated[
        str | None, typer.Option(help="Optuna RDB URL shared by scans (default: in --output).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the TPE sampler.")] = 0,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a key of CONFIG.")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Start a new scan in --output.")] = False,
) -> None:
    """Scan hyper-parameters with Optuna (TPE, pruning on the validation AUC); resumable."""
    from hep_pnn._tables import markdown_table
    from hep_pnn.tuning import run_tune

    result = run_tune(
        config,
        space=space,
        trials=trials,
        output=output,
        executor=executor,
        address=address,
        jobs=jobs,
        storage=storage,
        seed=seed,
        overrides=set_,
        overwrite=overwrite,
        echo=typer.echo,
    )
    typer.echo(
        markdown_table(result.table.drop(columns="run_dir", errors="ignore"), index_name="trial")
    )
    typer.echo(f"best config: {result.best_config}; trials: {result.folder / 'trials'}")


@app.command()
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="Run directory written by `pnn train`.")],
    data: Annotated[
        list[Path] | None,
        typer.Option("--data", help="Event file(s) to evaluate on (default: the run's test set)."),
    ] = None,
    masses: Annotated[
        str | None, typer.Option(help="Mass hypotheses in GeV, e.g. 500,750,1000.")
    ] = None,
    grid: Annotated[
        str | None,
        typer.Option(help="Mass grid START:STOP:STEP with generated signal, e.g. 400:1600:50."),
    ] = None,
    grid_signal: Annotated[
        int, typer.Option(help="Generated signal events per grid mass.", min=1)
    ] = 5000,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap replicas for uncertainties.")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap and generated signal.")] = 0,
    representation: Annotated[
        str, typer.Option(help="Hidden-layer map: pca, tsne (slower) or none.")
    ] = "pca",
    overwrite: Annotated[bool, typer.Option(help="Replace RUN_DIR/evaluation.")] = False,
) -> None:
    """Per-mass metrics and plots of a trained run, written to RUN_DIR/evaluation."""
    import warnings

    from hep_pnn._tables import markdown_table
    from hep_pnn.evaluation.command import evaluate_run_directory
    from hep_pnn.evaluation.jet_runs import evaluate_jet_run, is_jet_run
    from hep_pnn.mass_lists import parse_masses

    if is_jet_run(run_dir):  # jet taggers: metrics of the top-tagging comparison
        metrics, output = evaluate_jet_run(run_dir, data=data or (), overwrite=overwrite)
        typer.echo(markdown_table(metrics, index_name="sample"))
        typer.echo(f"wrote {output}")
        return

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        evaluation, output = evaluate_run_directory(
            run_dir,
            data=data or (),
            masses=None if masses is None else parse_masses(masses),
            grid=None if grid is None else parse_masses(grid, option="--grid"),
            grid_signal=grid_signal,
            bootstrap=bootstrap,
            seed=seed,
            overwrite=overwrite,
            representation=None if representation == "none" else representation,
        )
    for warning in dict.fromkeys(str(w.message) for w in caught):
        typer.echo(f"pnn: warning: {warning}", err=True)
    typer.echo(evaluation.metrics.to_markdown())
    typer.echo(f"wrote {output}")


@app.command()
def report(
    run_dirs: Annotated[list[Path], typer.Argument(help="Evaluated run directories.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path(
        "report.html"
    ),
    title: Annotated[str, typer.Option(help="Page title.")] = "hep-pnn report",
    overwrite: Annotated[bool, typer.Option(help="Replace an existing report.")] = False,
) -> None:
    """One self-contained HTML page comparing evaluated runs."""
    from hep_pnn.errors import ConfigError
    from hep_pnn.evaluation import write_report
    from hep_pnn.evaluation.jet_report import write_jet_report
    from hep_pnn.evaluation.jet_runs import is_jet_run

    if any(is_jet_run(run) for run in run_dirs):  # jet taggers: their own comparison page
        if not all(is_jet_run(run) for run in run_dirs):
            raise ConfigError(
                "jet runs and event runs cannot share one report",
                where="RUN_DIRS",
                fix="report the jet runs and the other runs separately",
            )
        written = write_jet_report(run_dirs, output, title=title, overwrite=overwrite)
        typer.echo(f"wrote {written}")
        return

    typer.echo(f"wrote {write_report(run_dirs, output, title=title, overwrite=overwrite)}")


@app.command()
def anomaly(
    config: Annotated[
        Path | None, typer.Argument(help="Anomaly YAML (default: generated events).")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config key, e.g. --set training.epochs=3."),
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write.")] = Path(
        "pnn-anomaly"
    ),
    overwrite: Annotated[bool, typer.Option(help="Replace an existing folder.")] = False,
) -> None:
    """Autoencoders trained on background (signal = anomaly) and on signal (the inverse)."""
    from hep_pnn.anomaly import load_anomaly_config, run_anomaly

    run_anomaly(load_anomaly_config(config, set_), output, overwrite=overwrite)
    typer.echo((output / "metrics.md").read_text(), nl=False)
    typer.echo(f"wrote {output}")


@app.command()
def inspect(
    path: Annotated[Path, typer.Argument(help="Event file: .csv, .csv.gz, .parquet or .root.")],
    description: Annotated[
        Path | None, typer.Option(help="Data description YAML (default: detect the layout).")
    ] = None,
    cache: Annotated[bool, typer.Option(help="Use and write the Parquet cache of CSVs.")] = True,
) -> None:
    """Print a short summary of a data file: events, signal/background, masses, processes."""
    from hep_pnn.data import summarize

    typer.echo(summarize(path, description=description, cache=cache))


zoo_app = typer.Typer(help="Pretrained models trained on the built-in generator (docs/zoo.md).")
app.add_typer(zoo_app, name="zoo")


@zoo_app.command("list")
def zoo_list() -> None:
    """The shipped models: name, title, test AUC per mass."""
    from hep_pnn.zoo import list_models

    for card in list_models():
        auc = ", ".join(f"{mass:g}: {value:.3f}" for mass, value in card.test_auc.items())
        typer.echo(f"{card.name:20s} {card.title} (AUC {auc})")


@zoo_app.command("show")
def zoo_show(name: Annotated[str, typer.Argument(help="Model name (pnn zoo list).")]) -> None:
    """Describe one model: recipe, seed, generator version, test AUC, how to use it."""
    from hep_pnn.zoo import describe_card, model_card

    typer.echo(describe_card(model_card(name)))


@zoo_app.command("export")
def zoo_export(
    name: Annotated[str, typer.Argument(help="Model name (pnn zoo list).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Run directory to write.")],
    overwrite: Annotated[bool, typer.Option(help="Replace an existing folder.")] = False,
) -> None:
    """Write a model as a run directory, for pnn evaluate / apply / export."""
    from hep_pnn.zoo import export_model

    typer.echo(f"wrote {export_model(name, output, overwrite=overwrite)}")


def _terminate(signum: int, frame: object) -> None:
    if termination() is None:
        typer.echo("pnn: terminated", err=True)
    request_termination(signum)  # outputs are not committed even if the exit below is lost
    sys.exit(128 + signum)


def _quiet_lost_exit(unraisable: Any, *, previous: Callable[[Any], object]) -> None:
    """``sys.unraisablehook``: the handler's exit lost in a finalizer is already recorded
    (and reported once): no traceback for it; anything else goes to the ``previous`` hook."""
    if isinstance(unraisable.exc_value, SystemExit) and termination() is not None:
        return
    previous(unraisable)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``pnn`` command."""
    # SIGTERM (batch systems, `kill`) unwinds like an exception, so temporary outputs are
    # removed; the handler and hook are put back afterwards for callers in the same process
    forget_termination()
    previous_handler = signal.signal(signal.SIGTERM, _terminate)
    previous_hook = sys.unraisablehook
    sys.unraisablehook = functools.partial(_quiet_lost_exit, previous=previous_hook)
    try:
        _run(argv)
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
        sys.unraisablehook = previous_hook
        forget_termination()


def _run(argv: list[str] | None) -> None:
    try:
        app(args=argv, standalone_mode=True)
    except PNNError as err:
        typer.echo(f"pnn: error: {err}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("pnn: interrupted", err=True)
        sys.exit(130)
    except SystemExit as done:
        signum = termination()
        if signum is not None and not done.code:  # the SystemExit of the handler was lost
            sys.exit(128 + signum)
        raise
