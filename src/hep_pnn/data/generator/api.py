r"""``generate``: HEPMASS-like events at any resonance mass, seeded and reproducible.

Events are simulated in fixed blocks of :data:`BLOCK_SIZE` *generated* events; the random
streams of each block (partons, detector, background masses) come from
``SeedSequence(seed, spawn_key=(process, mass, block))``,
so the output depends only on the seed and the physics options, not on ``chunk_size``
(a cap on the blocks in flight at once) or ``threads``.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from hep_pnn.data.features import FEATURE_NAMES, HEPMASS_MASSES
from hep_pnn.data.generator._scheduler import BlockQueue
from hep_pnn.data.generator.detector import (
    BTAG_WORKING_POINT,
    DetectorEvent,
    empty_detector_event,
    simulate,
)
from hep_pnn.data.generator.processes import (
    BACKGROUNDS,
    PROCESSES,
    WIDTH_FRACTION,
    PartonEvent,
    empty_event,
)
from hep_pnn.data.generator.reconstruction import raw_features
from hep_pnn.data.generator.standardise import standardise
from hep_pnn.data.generator.validation import GeneratorOptions, validate
from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError

__all__ = ["BLOCK_SIZE", "generate", "generate_raw", "iter_generate"]

#: Generated (not selected) events per random block.
BLOCK_SIZE = 4096
#: Blocks in flight per thread (``chunk_size`` may only lower it): with 2 the threads
#: waited for work 5–7 % of the time, whenever the thread that takes the blocks in order
#: was slow to be scheduled; 6 measured 5 % faster (6 of 8 paired runs).
BLOCKS_PER_THREAD = 6
PROCESS_ORDER: tuple[str, ...] = ("signal", *BACKGROUNDS)


@dataclass(frozen=True)
class _Workspace:
    """The arrays one block is simulated in, reused from block to block: allocating them
    afresh costs more than a fifth of the time (the allocator hands memory back to the
    system and takes it again, page by page)."""

    partons: PartonEvent
    detector: DetectorEvent
    features: np.ndarray

    @classmethod
    def create(cls) -> _Workspace:
        features = np.empty((BLOCK_SIZE, len(FEATURE_NAMES)), np.float32)
        return cls(empty_event(BLOCK_SIZE), empty_detector_event(BLOCK_SIZE), features)


class _Workspaces:
    """A pool of :class:`_Workspace`: as many as blocks are in flight at once."""

    def __init__(self) -> None:
        self._free: list[_Workspace] = []
        self._lock = threading.Lock()

    def get(self) -> _Workspace:
        with self._lock:
            return self._free.pop() if self._free else _Workspace.create()

    def release(self, workspace: _Workspace) -> None:
        with self._lock:
            self._free.append(workspace)


#: Processes whose kernels this Python process has run once. A process's first block runs
#: under :data:`_FIRST_BLOCK`, so numba compiles (or loads from its cache) each kernel in
#: one thread at a time: two threads compiling the same kernels at once can fail inside
#: numba's lowering (KeyError in ``get_impl_key``, seen with a fresh cache).
_WARM: set[str] = set()
_FIRST_BLOCK = threading.Lock()


def _block(
    options: GeneratorOptions, name: str, mass: float, index: int, workspace: _Workspace
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Simulate one block in ``workspace``: (features of the selected events, their
    positions, masses); the features are a view of the workspace."""
    if name in _WARM:
        return _simulate_block(options, name, mass, index, workspace)
    with _FIRST_BLOCK:
        result = _simulate_block(options, name, mass, index, workspace)
        _WARM.add(name)
    return result


def _simulate_block(
    options: GeneratorOptions, name: str, mass: float, index: int, workspace: _Workspace
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    key = (PROCESS_ORDER.index(name), round(mass * 1000), index)
    sequence = np.random.SeedSequence(options.seed, spawn_key=key)
    partons_state, detector_state, mass_state = sequence.generate_state(3, np.uint64)
    process = PROCESSES[name]
    partons = process.partons(
        partons_state,
        BLOCK_SIZE,
        mass,
        options.width_fraction,
        out=workspace.partons,
        spin=options.spin,
    )
    event = simulate(
        partons, detector_state, btag_efficiency=options.btag_efficiency, out=workspace.detector
    )
    raw = raw_features(event, out=workspace.features)
    features = raw if options.raw else standardise(raw, out=raw)
    positions = np.flatnonzero(event.selected)
    assigned = None
    if process.label == 0:
        assigned = options.draw_background_masses(mass_state, len(positions))
    return features, positions, assigned


def _fill_sample(
    options: GeneratorOptions,
    sample: tuple[int, str, float, int],
    table: EventTable,
    queue: BlockQueue,
    workspaces: _Workspaces,
    advance: Callable[[int], None],
) -> None:
    """Fill ``table`` (the rows of one sample) from its blocks in order, then set its
    weights; ``sample`` is (position in the queue, process, mass, count). Each block
    comes with its workspace, handed back once its features are copied."""
    position, name, mass, n_events = sample
    filled, done = 0, 0
    while filled < n_events:
        efficiency = filled / (done * BLOCK_SIZE) if done else 1.0
        queue.top_up(position, still_needed=n_events - filled, efficiency=efficiency)
        index, (workspace, (features, positions, assigned)) = queue.take(position)
        done += 1
        take = min(len(positions), n_events - filled)
        table.features[filled : filled + take] = features[:take]
        workspaces.release(workspace)
        if assigned is not None:
            table.mass[filled : filled + take] = assigned[:take]
        filled += take
        advance(take)
    queue.finish(position)
    # The sample ends inside the last block taken, just after its last kept event.
    n_generated = index * BLOCK_SIZE + int(positions[take - 1]) + 1
    cross_section_fb = 1000.0 * PROCESSES[name].cross_section(mass)
    table.weight[:] = cross_section_fb * options.luminosity / n_generated


def _empty_table(samples: list[tuple[str, float, int]]) -> EventTable:
    """An output table for ``samples`` with label, process and signal mass already set."""
    names = [name for name, _, _ in samples]
    counts = [count for _, _, count in samples]
    n = sum(counts)
    return EventTable(
        features=np.empty((n, len(FEATURE_NAMES)), np.float32),
        feature_names=FEATURE_NAMES,
        label=np.repeat([PROCESSES[name].label for name in names], counts),
        mass=np.repeat([mass for _, mass, _ in samples], counts),
        weight=np.empty(n, np.float32),
        process=np.repeat([PROCESS_ORDER.index(name) for name in names], counts),
        process_names=PROCESS_ORDER,
    )


def _iter_tables(options: GeneratorOptions, *, one_table: bool = False) -> Iterator[EventTable]:
    """Yield one table per sample, or one table for all, filled in place without copies."""
    samples = list(options.samples())
    groups = [samples] if one_table else [[sample] for sample in samples]
    progress = options.progress_bar()
    window = max(
        options.threads, min(options.chunk_size // BLOCK_SIZE, BLOCKS_PER_THREAD * options.threads)
    )
    try:
        with ThreadPoolExecutor(max_workers=options.threads) as pool:
            workspaces = _Workspaces()

            def run(
                sample: int, block: int
            ) -> tuple[_Workspace, tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
                workspace = workspaces.get()
                name, mass, _ = samples[sample]
                return workspace, _block(options, name, mass, block, workspace)

            queue = BlockQueue(
                pool,
                run,
                sizes=[count for _, _, count in samples],
                block=BLOCK_SIZE,
                window=window,
                discard=lambda result: workspaces.release(result[0]),
            )
            position = 0
            for group in groups:
                table = _empty_table(group)
                start = 0
                for name, mass, count in group:
                    # Row slices of the table share its memory, so filling them fills it.
                    rows = table.select(slice(start, start + count))
                    sample = (position, name, mass, count)
                    _fill_sample(options, sample, rows, queue, workspaces, progress.advance)
                    start += count
                    position += 1
                yield table
    finally:
        progress.close()


def iter_generate(**options: Any) -> Iterator[EventTable]:
    """Like :func:`generate` (same keyword options) but yields one table per sample.

    A sample is one process at one mass, in output order; memory stays bounded by the
    largest sample, which lets writers stream big productions.

    Example:
        >>> tables = list(iter_generate(masses=[600.0], n_signal_per_mass=50, n_background=60))
        >>> [t.process_names[t.process[0]] for t in tables], [len(t) for t in tables]
        (['signal', 'ttbar', 'wjets'], [50, 54, 6])
    """
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(generate).parameters.items()
    }
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise ConfigError(
            f"unknown generator option(s) {unknown}", fix=f"use one of {sorted(defaults)}"
        )
    return _iter_tables(validate(**{**defaults, **options}))


def generate(
    *,
    masses: Sequence[float] = HEPMASS_MASSES,
    n_signal_per_mass: int | Mapping[float, int] = 10_000,
    n_background: int | Mapping[str, int] = 50_000,
    background_mass: str = "identical",
    seed: int = 0,
    width_fraction: float = WIDTH_FRACTION,
    spin: int = 2,
    btag_efficiency: tuple[float, float, float] = BTAG_WORKING_POINT,
    luminosity: float = 140.0,
    chunk_size: int = 262_144,
    threads: int | None = None,
    raw: bool = False,
    progress: bool = False,
) -> EventTable:
    r"""Generate HEPMASS-like events: X → tt̄ signal at each mass plus SM backgrounds.

    Args:
        masses: signal masses in GeV (any value above the tt̄ threshold, 400–2000 tested).
        n_signal_per_mass: selected signal events per mass, or a ``{mass: count}`` mapping
            (its keys must be ``masses``).
        n_background: selected background events, split between the processes as
            ``ttbar`` 90 % / ``wjets`` 10 %, or a ``{process: count}`` mapping.
        background_mass: ``"identical"`` draws each background event's mass from the
            signal masses in proportion to the signal counts (as HEPMASS does);
            ``"uniform"`` draws it uniformly between the smallest and largest mass.
        seed: the seed; same seed and options give byte-identical events.
        width_fraction: Breit–Wigner width of the resonance as a fraction of its mass.
        spin: spin of the X: 2 (made in gluon fusion like a Randall–Sundrum graviton; its
            tops are central, as HEPMASS's signal) or 0 (a heavy Higgs-like scalar,
            isotropic). docs/generator.md, "Physics".
        btag_efficiency: the probabilities that a b, a c and a light jet within |η| < 2.5
            is tagged (the b-tagging working point; default 70 % / 12 % / 1 %).
        luminosity: integrated luminosity in fb⁻¹; ``weight = σ × L / N_generated``.
        chunk_size: at most this many generated events in flight, in blocks of 4,096
            (memory only; at least one block per thread, and six per thread are enough for
            speed); blocks dropped at the end of a sample may still finish running.
        threads: worker threads (default: up to 2); does not change the output.
        raw: return physical values (GeV, rad, jet count, 0/1 b-tag), not standardised.
        progress: show a progress bar (on runs of 100,000 events or more).

    Returns:
        An :class:`~hep_pnn.data.EventTable` with features ``f0 … f26`` and processes
        ``signal``, ``ttbar``, ``wjets``.

    Example:
        >>> table = generate(masses=[750.0], n_signal_per_mass=100, n_background=100, seed=1)
        >>> len(table), table.signal_masses.tolist(), table.process_names
        (200, [750.0], ('signal', 'ttbar', 'wjets'))
    """
    options = validate(
        masses=masses,
        n_signal_per_mass=n_signal_per_mass,
        n_background=n_background,
        background_mass=background_mass,
        seed=seed,
        width_fraction=width_fraction,
        spin=spin,
        btag_efficiency=btag_efficiency,
        luminosity=luminosity,
        chunk_size=chunk_size,
        threads=threads,
        raw=raw,
        progress=progress,
    )
    return next(_iter_tables(options, one_table=True))


def generate_raw(**kwargs) -> EventTable:
    """:func:`generate` with ``raw=True``: features in GeV and radians.

    Example:
        >>> t = generate_raw(masses=[1000.0], n_signal_per_mass=200, n_background=10)
        >>> 700 < float(np.median(t.signal().column("f26"))) < 1200
        True
    """
    return generate(**kwargs, raw=True)
