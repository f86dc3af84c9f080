"""Jet generator: events/s of Pythia 8 + FastJet, and the sanity figures of docs/jets.md.

    python benchmarks/jets.py --throughput --events 300
    python benchmarks/jets.py --figures docs/figures --jets jets.parquet

``--throughput`` times one chunk per process and MPI setting in this process (one core,
Pythia start-up included); ``--figures`` reads a jet file (``pnn generate --process
top-tagging``) and writes docs/figures/jets-*.png.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from hep_pnn.data.jets.generate import generate_chunk
from hep_pnn.data.jets.plots import (
    plot_jet_mass,
    plot_multiplicity,
    plot_tau32,
    plot_w_candidate_mass,
)
from hep_pnn.data.jets.reader import load_jets
from hep_pnn.evaluation.plots import figure_png, new_axes
from machine import cpu_model

FIGURES = {
    "mass": plot_jet_mass,
    "w-mass": plot_w_candidate_mass,
    "tau32": plot_tau32,
    "multiplicity": plot_multiplicity,
}


def throughput(events: int, seed: int) -> None:
    print(f"CPU: {cpu_model()}; {events} events per chunk, one process")
    print("(per CPU second: less sensitive to other processes on the machine than wall time)")
    print("| process | MPI | events/s (wall) | events per CPU s | jets/event |")
    print("| --- | --- | ---: | ---: | ---: |")
    for process in ("top", "qcd"):
        for mpi in (True, False):
            start, cpu = time.perf_counter(), time.process_time()
            jets = generate_chunk(process, mpi=mpi, seed=seed, n_events=events)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            label = "on" if mpi else "off"
            rates = f"{events / wall:.0f} | {events / cpu:.0f}"
            print(f"| {process} | {label} | {rates} | {len(jets) / events:.2f} |")


def figures(jets_file: Path, folder: Path) -> None:
    jets = load_jets(jets_file)
    folder.mkdir(parents=True, exist_ok=True)
    for name, plot in FIGURES.items():
        ax = plot(jets, ax=new_axes(size=(7.0, 5.0)))
        path = folder / f"jets-{name}.png"
        path.write_bytes(figure_png(ax, dpi=70))
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} kB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--throughput", action="store_true", help="time one chunk per setting")
    parser.add_argument("--events", type=int, default=300, help="events per timed chunk")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--figures", type=Path, default=None, help="write jets-*.png here")
    parser.add_argument("--jets", type=Path, default=None, help="jet file for --figures")
    args = parser.parse_args()
    if args.throughput:
        throughput(args.events, args.seed)
    if args.figures is not None:
        if args.jets is None:
            parser.error("--figures needs --jets FILE")
        figures(args.jets, args.figures)


if __name__ == "__main__":
    main()
