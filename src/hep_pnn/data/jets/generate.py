"""Top and QCD jets generated with Pythia 8 and clustered with FastJet.

The only module of hep-pnn that imports ``pythia8mc`` and ``fastjet`` (both GPL), and only
inside the functions that run in the worker processes; importing this module needs neither.

Events: pp at √s = 14 TeV, 550 < pT̂ < 650 GeV, hadronisation on, multi-parton interactions
on by default. Signal is tt̄ with both W bosons decaying to quarks, background QCD dijets
(``HardQCD:all``). Jets: anti-kT R = 0.8 on all visible final-state particles (neutrinos
dropped), 550 < pT < 650 GeV, |η| < 2; a top jet must lie within ΔR < 0.8 of a hadronically
decaying top quark, and so must the top's b quark and the two quarks of its W, as in the
reference data set. Every jet passing the cuts is kept. τ_N uses the exclusive-kT
subjets of FastJet as axes (:mod:`hep_pnn.data.jets.substructure`).

Other processes are :class:`JetProcess` values run by :func:`generate_jets` through the same
chunks and pool: the Z′ → tt̄ jets of each Z′ mass (:mod:`hep_pnn.data.jets.zprime`).

Events are generated in chunks of ``chunk_events``; chunk ``k`` of a process gets a Pythia
seed derived from ``(seed, process, k)`` and chunks are used in order, so a seed gives the
same jets whatever the number of workers.

References:
    Kasieczka et al., "The Machine Learning Landscape of Top Taggers", arXiv:1902.09914;
    Bierlich et al., "A comprehensive guide to the physics and usage of PYTHIA 8.3",
    arXiv:2203.11601; Cacciari, Salam & Soyez, "FastJet user manual", arXiv:1111.6097.
"""

from __future__ import annotations

import contextlib
import importlib.util
import multiprocessing
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hep_pnn.data.jets._events import (
    eta_phi,
    fastjet_inputs,
    hadronic_tops,
    padded_constituents,
    top_matched,
    visible_final,
)
from hep_pnn.data.jets.sample import JET_FEATURES, MAX_CONSTITUENTS, JetSample
from hep_pnn.data.jets.substructure import JET_RADIUS, jet_kinematics, nsubjettiness
from hep_pnn.errors import ConfigError, PNNError

__all__ = [
    "JET_PROCESSES",
    "JetProcess",
    "generate_jets",
    "generate_top_tagging",
    "generate_top_tagging_file",
]

JET_PROCESSES: dict[str, tuple[str, ...]] = {
    "top": (
        "Top:gg2ttbar = on",
        "Top:qqbar2ttbar = on",
        "24:onMode = off",
        "24:onIfAny = 1 2 3 4 5",
    ),
    "qcd": ("HardQCD:all = on",),
}
"""Pythia settings of each process, on top of the common ones (:func:`_pythia_settings`)."""

PT_RANGE = (550.0, 650.0)
MAX_ABS_ETA = 2.0
_SEED_LIMIT = 900_000_000  # Pythia's Random:seed is at most 900,000,000


def _missing_extra(package: str) -> PNNError:
    return PNNError(
        f"the jet generator needs {package}, which is not installed",
        where="hep_pnn.data.jets.generate",
        fix="pip install hep-pnn[jets]",
    )


@dataclass(frozen=True)
class JetProcess:
    """What a chunk generates: Pythia settings, the jet pT window and the jets' label.

    Attributes:
        name: the process's name, part of every chunk's seed (:func:`chunk_seed`).
        settings: Pythia settings on top of the common ones (:func:`_pythia_settings`).
        pt_range: jets kept with ``pt_range[0] < pT < pt_range[1]`` (GeV); also the p̂T range
            of the hard process unless ``pt_hat`` is False.
        signal: label 1 and matched to a hadronic top (else label 0, every jet kept).
        pt_hat: restrict p̂T to ``pt_range`` (False for a 2 → 1 process such as Z′ production).
        columns: jet-level columns with one value for all jets, e.g. ``(("zprime_mass", 1e3),)``.
        seed_key: integers that tell this process's chunk seeds from another's.

    Example:
        >>> JetProcess("top", JET_PROCESSES["top"], (550.0, 650.0), signal=True).label
        1
    """

    name: str
    settings: tuple[str, ...]
    pt_range: tuple[float, float]
    signal: bool
    pt_hat: bool = True
    columns: tuple[tuple[str, float], ...] = ()
    seed_key: tuple[int, ...] = ()

    @property
    def label(self) -> int:
        return 1 if self.signal else 0


def _standard_process(name: str) -> JetProcess:
    return JetProcess(
        name,
        JET_PROCESSES[name],
        PT_RANGE,
        signal=name == "top",
        seed_key=(list(JET_PROCESSES).index(name),),
    )


def _pythia_settings(process: str | JetProcess, *, mpi: bool, seed: int) -> list[str]:
    spec = _standard_process(process) if isinstance(process, str) else process
    low, high = spec.pt_range
    pt_hat = [f"PhaseSpace:pTHatMin = {low:g}", f"PhaseSpace:pTHatMax = {high:g}"]
    return [
        "Beams:eCM = 14000",
        *(pt_hat if spec.pt_hat else []),
        f"PartonLevel:MPI = {'on' if mpi else 'off'}",
        "HadronLevel:all = on",
        "Print:quiet = on",
        "Next:numberCount = 0",
        "Random:setSeed = on",
        f"Random:seed = {seed}",
        *spec.settings,
    ]


def chunk_seed(seed: int, process: str | JetProcess, chunk: int) -> int:
    """The Pythia seed of chunk ``chunk`` of ``process`` (1 … 900,000,000).

    Example:
        >>> chunk_seed(0, "top", 3) == chunk_seed(0, "top", 3) != chunk_seed(0, "qcd", 3)
        True
    """
    key = (_standard_process(process) if isinstance(process, str) else process).seed_key
    return pythia_seed(np.random.SeedSequence([seed, *key, chunk]))


def pythia_seed(sequence: np.random.SeedSequence) -> int:
    """A Pythia ``Random:seed`` (1 … 900,000,000) drawn from ``sequence``."""
    return int(sequence.generate_state(1)[0]) % _SEED_LIMIT + 1


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence C++ output on file descriptor 1 (the FastJet banner) inside a worker."""
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def _exclusive_axes(constituents: Any, n_subjets: int) -> np.ndarray:
    import awkward as ak
    import fastjet

    # Pairwise kT: with R = 10 no beam distance wins inside an R = 0.8 jet.
    definition = fastjet.JetDefinition(fastjet.kt_algorithm, 10.0)
    with warnings.catch_warnings():
        # fastjet 3.5.2 warns for every algorithm (it compares a JetDefinition to an enum)
        warnings.filterwarnings("ignore", message="dcut and exclusive jets")
        sequence = fastjet.ClusterSequence(constituents, definition)
        subjets = sequence.exclusive_jets(n_jets=n_subjets)
    return np.stack(
        [ak.to_numpy(subjets[name]) for name in ("E", "px", "py", "pz")], axis=2
    ).astype(np.float64)


def _require_extras() -> None:
    """Fail early, in the calling process, if the ``jets`` extra is missing (no import)."""
    for package in ("pythia8mc", "fastjet"):
        if importlib.util.find_spec(package) is None:
            raise _missing_extra(package)


def _events(process: JetProcess, *, mpi: bool, seed: int, n_events: int) -> Any:
    """Pythia's particle records of ``n_events`` events (awkward, ``events * var * particle``)."""
    failure = PNNError(f"Pythia failed to initialise for {process.name}", where="generate_chunk")
    return pythia_events(_pythia_settings(process, mpi=mpi, seed=seed), n_events, failure=failure)


def pythia_instance(settings: Sequence[str], *, failure: PNNError) -> Any:
    """A ``pythia8mc.Pythia`` initialised with ``settings``; raises ``failure`` if Pythia
    does not initialise, :class:`~hep_pnn.errors.ConfigError` for a setting it cannot
    read, and a :class:`~hep_pnn.errors.PNNError` naming the extra if it is not installed."""
    try:
        import pythia8mc
    except ImportError:
        raise _missing_extra("pythia8mc") from None
    pythia = pythia8mc.Pythia("", False)
    for setting in settings:
        if not pythia.readString(setting):
            raise ConfigError(
                f"Pythia cannot read the setting {setting!r}",
                where="Pythia settings",
                fix="give 'Key:name = value' with a key from Pythia's manual",
            )
    if not pythia.init():
        raise failure
    return pythia


def pythia_events(settings: Sequence[str], n_events: int, *, failure: PNNError) -> Any:
    """Pythia's particle records of ``n_events`` events with ``settings`` (awkward,
    ``events * var * particle``); raises as :func:`pythia_instance`."""
    return pythia_instance(settings, failure=failure).nextBatch(n_events).prt


def _antikt_jets(particles: Any, min_pt: float) -> tuple[Any, Any]:
    """Anti-kT jets above the pT cut, per event, and their constituents (awkward arrays)."""
    try:
        import fastjet
    except ImportError:
        raise _missing_extra("fastjet") from None
    momenta = fastjet_inputs(visible_final(particles))
    with _quiet_stdout():
        jet_definition = fastjet.JetDefinition(fastjet.antikt_algorithm, JET_RADIUS)
        sequence = fastjet.ClusterSequence(momenta, jet_definition)
        return sequence.inclusive_jets(min_pt=min_pt), sequence.constituents(min_pt=min_pt)


def generate_chunk(process: str | JetProcess, *, mpi: bool, seed: int, n_events: int) -> JetSample:
    """Generate ``n_events`` events of ``process`` and return the jets that pass the cuts.

    Runs in a worker process; ``seed`` is the Pythia seed (:func:`chunk_seed`);
    ``process`` is a :class:`JetProcess` or a name of :data:`JET_PROCESSES`.
    """
    import awkward as ak

    spec = _standard_process(process) if isinstance(process, str) else process
    particles = _events(spec, mpi=mpi, seed=seed, n_events=n_events)
    jets, members = _antikt_jets(particles, spec.pt_range[0])
    px, py, pz = (ak.to_numpy(ak.flatten(jets[name])) for name in ("px", "py", "pz"))
    jet_eta, jet_phi = eta_phi(px, py, pz)
    members = ak.flatten(members, axis=1)
    keep = np.hypot(px, py) < spec.pt_range[1]
    keep &= (abs(jet_eta) < MAX_ABS_ETA) & (ak.to_numpy(ak.num(members)) >= 3)
    if spec.signal:
        truth = np.repeat(hadronic_tops(particles), ak.to_numpy(ak.num(jets)), axis=0)
        keep &= top_matched(jet_eta, jet_phi, truth)
    selected = members[keep]
    if len(selected) == 0:  # small chunks can hold no jet that passes
        return concatenate_jets([], columns=[name for name, _ in spec.columns])
    constituents = padded_constituents(selected)
    features = jet_kinematics(constituents)
    tau = [nsubjettiness(constituents, _exclusive_axes(selected, n)) for n in (1, 2, 3)]
    features["tau21"] = np.divide(tau[1], tau[0], out=np.zeros_like(tau[1]), where=tau[0] > 0)
    features["tau32"] = np.divide(tau[2], tau[1], out=np.zeros_like(tau[2]), where=tau[1] > 0)
    frame = pd.DataFrame({name: features[name] for name in JET_FEATURES})
    for name, value in spec.columns:
        frame[name] = np.float32(value)
    labels = np.full(len(frame), spec.label, np.int8)
    return JetSample(constituents, labels, frame.astype({"n_constituents": np.int32}))


@dataclass(frozen=True)
class _Plan:
    process: JetProcess
    n_jets: int
    mpi: bool
    seed: int
    chunk_events: int


def _check_options(n_top: int, n_qcd: int, chunk_events: int, workers: int) -> None:
    for name, value in (("n_top (--signal)", n_top), ("n_qcd (--background)", n_qcd)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{value!r} jets is not a count", where=name, fix="e.g. 1000")
    if chunk_events < 1:
        raise ConfigError(f"{chunk_events} events per chunk", where="chunk_events", fix="e.g. 300")
    if workers < 1:
        raise ConfigError(f"{workers} workers", where="workers (--threads)", fix="use 1 or more")


def _collect(plan: _Plan, pool: Executor, ahead: int, advance: Callable[[int], None]) -> JetSample:
    """Run chunks of ``plan`` in order until it has ``n_jets`` jets; ``ahead`` run at once."""
    pending: list[Future[JetSample]] = []
    parts: list[JetSample] = []
    have, chunk = 0, 0
    while have < plan.n_jets:
        while len(pending) < ahead:
            seed = chunk_seed(plan.seed, plan.process, chunk)
            pending.append(
                pool.submit(
                    generate_chunk,
                    plan.process,
                    mpi=plan.mpi,
                    seed=seed,
                    n_events=plan.chunk_events,
                )
            )
            chunk += 1
        part = pending.pop(0).result()
        parts.append(part)
        advance(min(len(part), plan.n_jets - have))
        have += len(part)
    for future in pending:
        future.cancel()
    return concatenate_jets(parts, limit=plan.n_jets, columns=[c for c, _ in plan.process.columns])


def concatenate_jets(
    parts: list[JetSample], *, limit: int | None = None, columns: Sequence[str] = ()
) -> JetSample:
    """The jets of ``parts`` in order, the first ``limit`` of them if given (no jets: the
    features and the extra ``columns``, empty)."""
    parts = [part for part in parts if len(part)]
    if not parts:
        empty = pd.DataFrame({name: np.zeros(0) for name in (*JET_FEATURES, *columns)})
        return JetSample(
            np.zeros((0, MAX_CONSTITUENTS, 4), np.float32),
            np.zeros(0, np.int8),
            empty.astype({"n_constituents": np.int32}),
        )
    rows = slice(0, limit)
    return JetSample(
        np.concatenate([p.constituents for p in parts])[rows],
        np.concatenate([p.labels for p in parts])[rows],
        pd.concat([p.features for p in parts], ignore_index=True).iloc[rows].reset_index(drop=True),
    )


def generate_top_tagging(
    n_top: int,
    n_qcd: int,
    *,
    seed: int = 0,
    mpi: bool = True,
    workers: int | None = None,
    chunk_events: int = 300,
    progress: bool = False,
) -> JetSample:
    """Generate ``n_top`` top jets and ``n_qcd`` QCD jets (tops first) with Pythia 8 and FastJet.

    Args:
        n_top: top jets (label 1).
        n_qcd: QCD jets (label 0).
        seed: the seed of every chunk's Pythia seed; the same seed gives the same jets.
        mpi: multi-parton interactions (≈ 3× slower with them).
        workers: processes generating at once (default: up to 2, the cores this process may use).
        chunk_events: events per chunk (fewer if fewer jets are asked for: at most
            ``max(n, 10)`` for ``n`` jets); a worker needs ≈ 250 MB plus ≈ 0.5 MB per event.
        progress: show a progress bar.

    Example:
        >>> jets = generate_top_tagging(5, 5, seed=1, mpi=False)  # doctest: +SKIP
        >>> jets.labels.tolist()  # doctest: +SKIP
        [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    """
    _check_options(n_top, n_qcd, chunk_events, 1)
    requests = [
        (_standard_process(name), count) for name, count in (("top", n_top), ("qcd", n_qcd))
    ]
    return generate_jets(
        requests, seed=seed, mpi=mpi, workers=workers, chunk_events=chunk_events, progress=progress
    )


def generate_jets(
    requests: Sequence[tuple[JetProcess, int]],
    *,
    seed: int = 0,
    mpi: bool = True,
    workers: int | None = None,
    chunk_events: int = 300,
    progress: bool = False,
    where: str = "generate_jets",
) -> JetSample:
    """``count`` jets of each ``(process, count)`` of ``requests``, in that order, from one
    pool of worker processes (the options as for :func:`generate_top_tagging`)."""
    workers = workers if workers is not None else max(1, min(2, len(os.sched_getaffinity(0))))
    _check_options(0, 0, chunk_events, workers)
    _require_extras()
    columns = list(dict.fromkeys(name for process, _ in requests for name, _ in process.columns))
    with contextlib.ExitStack() as stack:
        total = sum(count for _, count in requests)
        advance = _progress(stack, total) if progress else (lambda n: None)
        pool = stack.enter_context(_executor(workers))
        try:
            parts = [
                _collect(
                    _Plan(process, count, mpi, seed, min(chunk_events, max(count, 10))),
                    pool,
                    workers,
                    advance,
                )
                for process, count in requests
                if count > 0
            ]
        except BrokenProcessPool:
            raise PNNError(
                "a jet-generator worker process stopped",
                where=where,
                fix="call it under `if __name__ == '__main__':` in a script, or use workers=1",
            ) from None
    return concatenate_jets(parts, columns=columns)


class _InlineExecutor(Executor):
    """Runs each call at once, in this process: one worker needs no pool."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as err:
            future.set_exception(err)
        return future


def _executor(workers: int) -> Executor:
    if workers == 1:
        return _InlineExecutor()
    # spawn: the parent may run threads (a progress bar, torch), which fork does not copy safely
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def _progress(stack: contextlib.ExitStack, total: int) -> Callable[[int], None]:
    from rich.progress import Progress

    bar = stack.enter_context(Progress(transient=False))
    task = bar.add_task("generating jets", total=total)
    return lambda n: bar.advance(task, n)


def generate_top_tagging_file(
    output: str | os.PathLike[str],
    *,
    n_top: int,
    n_qcd: int,
    overwrite: bool = False,
    **options: Any,
) -> tuple[JetSample, Path]:
    """Generate jets (:func:`generate_top_tagging` with ``options``) and write them to Parquet.

    The output is checked before generating, so an existing file (without ``overwrite``) or a
    wrong suffix fails at once; the file is written atomically.
    """
    from hep_pnn.data.jets.layout import write_jets_parquet

    path = check_jet_output(output, overwrite=overwrite)
    jets = generate_top_tagging(n_top, n_qcd, **options)
    return jets, write_jets_parquet(jets, path, overwrite=overwrite)


def check_jet_output(output: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """``output`` as a path, refused unless it is a ``.parquet`` file that may be written."""
    from hep_pnn._io import check_writable

    path = Path(output)
    if path.suffix.lower() != ".parquet":
        raise ConfigError(
            f"jets are written to Parquet, not {path.suffix or 'a file without suffix'}",
            where="--output",
            fix="use a .parquet file",
        )
    check_writable(path, overwrite=overwrite)
    return path
