"""Speed and memory of scoring: PyTorch vs onnxruntime, and ``pnn apply`` on a large file.

Prints a Markdown report (figures go into docs/benchmarks.md):

1. Throughput per mass hypothesis of the AffinePNN (76,151 parameters, 27 features) on
   2 threads: PyTorch ``predict`` (folded at the mass, and the full network), the bare
   matmul chain of the same shapes (what no scorer can beat in float32) and onnxruntime
   (:class:`OnnxScorer`), best of a few repeats. Ratios are taken against PyTorch
   measured in the same run, because absolute times on a shared machine are noisy.
2. ``apply_scores`` end to end (Parquet in, Parquet out) against bare ONNX scoring: the
   cost of reading, checking and writing.
3. Peak memory of ``pnn apply`` run in a child process on a Parquet file, for two file
   sizes and two chunk sizes. The reference is a child that scores a tiny file (imports,
   model and one chunk): memory above it must scale with the chunk, not with the file.

Run: ``.venv/bin/python benchmarks/bench_apply.py [--events 200000] [--big-rows 2000000]``
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from hep_pnn.apply import apply_scores
from hep_pnn.data import FEATURE_NAMES
from hep_pnn.models import build_model, fold_at_mass, preset
from hep_pnn.models.folding import FOLDED_BATCH
from hep_pnn.models.onnx import OnnxScorer, export_onnx

# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the (large) parent process.
MEASURE_CHILD = """
import sys
from pathlib import Path
from hep_pnn.cli import main
try:
    main(sys.argv[1:])
except SystemExit as done:
    if done.code:
        raise
status = Path("/proc/self/status").read_text()
print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")),
      file=sys.stderr)
"""


def _events(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, len(FEATURE_NAMES))).astype(np.float32), np.full(
        n, 1000.0, np.float32
    )


def _best_rates(function, n: int, repeats: int) -> tuple[float, float]:
    """Events per wall second and per CPU second (all threads) of the fastest repeat.

    On a shared machine the wall rate depends on the other jobs; the CPU rate does much
    less, and twice it estimates the rate of 2 idle cores.
    """
    function()
    timings = [_timed(function) for _ in range(repeats)]
    wall, cpu = min(timings)
    return n / wall, n / cpu


def _timed(function) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def _matmul_chain(features: np.ndarray, shapes: list) -> object:
    """Products ``h @ Wᵀ`` of the layer shapes alone, in the folded network's batches."""
    weights = [torch.full(shape, 0.01) for shape in shapes]
    x = torch.from_numpy(features)

    def run() -> None:
        with torch.inference_mode():
            for start in range(0, len(x), FOLDED_BATCH):
                h = x[start : start + FOLDED_BATCH]
                for weight in weights:
                    h = h @ weight.T

    return run


def _write_parquet(path: Path, rows: int, *, seed: int, group: int = 250_000) -> None:
    rng = np.random.default_rng(seed)
    schema = pa.schema([(name, pa.float32()) for name in FEATURE_NAMES])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, group):
            n = min(group, rows - start)
            block = rng.normal(size=(n, len(FEATURE_NAMES))).astype(np.float32)
            writer.write_table(pa.Table.from_arrays(list(block.T), schema=schema))


def _peak_rss_mb(model: Path, data: Path, output: Path, chunk: int) -> float:
    command = [
        sys.executable, "-c", MEASURE_CHILD, "apply", str(model), str(data),
        "--masses", "500,1000", "-o", str(output), "--chunk-size", str(chunk),
        "--no-progress", "--overwrite",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return int(result.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--big-rows", type=int, default=2_000_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-apply-"))

    net = build_model(preset("affine"), feature_names=FEATURE_NAMES, seed=0)
    features, mass = _events(args.events, seed=1)
    net.fit_preprocessing(features, mass)
    net.training_masses = (500.0, 750.0, 1000.0, 1250.0, 1500.0)
    n_params = sum(p.numel() for p in net.parameters())
    onnx_path = export_onnx(net, folder / "affine.onnx")
    scorer = OnnxScorer(onnx_path, threads=2)

    torch_rate, torch_cpu = _best_rates(
        lambda: net.predict(features, mass), args.events, args.repeats
    )
    unfolded_rate, unfolded_cpu = _best_rates(
        lambda: net.predict(features, mass, batch_size=16_384, fold=False),
        args.events,
        args.repeats,
    )
    roofline_rate, roofline_cpu = _best_rates(
        _matmul_chain(features, [w.shape for w in fold_at_mass(net, 1000.0).weights]),
        args.events,
        args.repeats,
    )
    onnx_rate, onnx_cpu = _best_rates(
        lambda: scorer.predict(features, mass), args.events, args.repeats
    )

    _write_parquet(folder / "in.parquet", args.events, seed=2)

    def end_to_end(model: object) -> Callable[[], object]:
        def run() -> None:
            apply_scores(
                model, folder / "in.parquet", masses=[1000.0], output=folder / "s.parquet",
                overwrite=True,
            )  # fmt: skip

        return run

    apply_rate, apply_cpu = _best_rates(end_to_end(scorer), args.events, args.repeats)
    apply_torch_rate, apply_torch_cpu = _best_rates(end_to_end(net), args.events, args.repeats)

    print(f"## Scoring throughput ({args.events:,} events, AffinePNN {n_params:,} parameters)")
    print("| path | events/s per mass (wall) | ratio to PyTorch | events per CPU-second |")
    print("|---|---|---|---|")
    for name, rate, cpu_rate in (
        ("PyTorch predict, folded at the mass (default, 2 threads)", torch_rate, torch_cpu),
        ("PyTorch predict, full network (`fold=False`)", unfolded_rate, unfolded_cpu),
        ("bare matmul chain of the same shapes (roofline)", roofline_rate, roofline_cpu),
        ("onnxruntime (2 intra-op threads)", onnx_rate, onnx_cpu),
        ("apply_scores, ONNX, Parquet → Parquet", apply_rate, apply_cpu),
        ("apply_scores, PyTorch model, Parquet → Parquet", apply_torch_rate, apply_torch_cpu),
    ):
        print(f"| {name} | {rate:,.0f} | {rate / torch_rate:.2f} | {cpu_rate:,.0f} |")

    tiny = folder / "tiny.parquet"
    _write_parquet(tiny, 1_000, seed=3)
    print("\n## Peak memory of `pnn apply` (ONNX model, 2 masses, child process)")
    print("| file rows | file in memory (MB) | chunk | peak RSS (MB) | above reference (MB) |")
    print("|---|---|---|---|---|")
    reference = _peak_rss_mb(onnx_path, tiny, folder / "o.parquet", 1_000)
    print(f"| 1,000 (reference) | 0.1 | 1,000 | {reference:.0f} | 0 |")
    for rows in (args.big_rows // 4, args.big_rows):
        data = folder / f"big{rows}.parquet"
        _write_parquet(data, rows, seed=4)
        size_mb = rows * len(FEATURE_NAMES) * 4 / 2**20
        for chunk in (50_000, 200_000):
            peak = _peak_rss_mb(onnx_path, data, folder / "o.parquet", chunk)
            print(f"| {rows:,} | {size_mb:.0f} | {chunk:,} | {peak:.0f} | {peak - reference:.0f} |")
        data.unlink()
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
