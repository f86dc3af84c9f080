"""What reproducibility means across CPUs: within a stated tolerance, not bit for bit.

The same seed gives bit-identical data and weights on one machine (see
``test_same_seed_is_byte_identical_whatever_chunk_size_and_threads`` and
``test_same_seed_gives_bit_identical_weights``). Another CPU kind takes other SIMD paths in
PyTorch (ATen's AVX-512 / AVX2 / default kernels), MKL and numpy, which round differently,
so its numbers differ in the last bits and the difference grows with training. Here the
same short experiment runs in two fresh processes, one on this CPU's native paths and one
forced onto the oldest paths every library offers, and the results are compared.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

# Environment variables that pick a library's SIMD path; the native run has none of them.
OLDEST_PATHS = {
    "ATEN_CPU_CAPABILITY": "default",  # PyTorch's non-vectorised ATen kernels
    "MKL_CBWR": "COMPATIBLE",  # MKL's conditional-reproducibility branch (SSE2 kernels)
    "ONEDNN_MAX_CPU_ISA": "SSE41",
    "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",  # numpy's baseline
    "NUMBA_CPU_NAME": "x86-64",  # the numba kernels compiled for a generic x86-64 CPU
}

EXPERIMENT = {
    "data": {
        "source": "generate",
        "masses": [500.0, 1000.0],
        "n_signal_per_mass": 2000,
        "n_background": 4000,
        "seed": 3,
    },
    "model": {"preset": "affine", "options": {"hidden": [32, 32]}},
    "training": {"epochs": 3, "batch_size": 256, "threads": 1},
}

CHILD = """
import sys
from pathlib import Path

import numpy as np
import torch

from hep_pnn.training import load_experiment, train_experiment

config, run_dir = Path(sys.argv[1]), Path(sys.argv[2])
run = train_experiment(load_experiment(config), run_dir, progress=False)
test = run.load_test_data()
np.savez(
    run_dir / "result.npz",
    features=test.features,
    score=run.model.predict(test.features, test.mass),
    auc=run.history["val_auc_mean"].to_numpy(),
    capability=torch.backends.cpu.get_cpu_capability(),
)
"""


def _run(config: Path, run_dir: Path, forced: dict[str, str]) -> dict[str, np.ndarray]:
    env = {k: v for k, v in os.environ.items() if k not in OLDEST_PATHS} | forced
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(config), str(run_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    with np.load(run_dir / "result.npz") as saved:
        return dict(saved)


@pytest.mark.slow
def test_training_on_the_oldest_simd_paths_agrees_within_tolerance(tmp_path: Path) -> None:
    config = tmp_path / "experiment.yaml"
    config.write_text(yaml.safe_dump(EXPERIMENT))
    native = _run(config, tmp_path / "native", {})
    oldest = _run(config, tmp_path / "oldest", OLDEST_PATHS)
    assert str(oldest["capability"]) == "DEFAULT"  # the variables took effect
    # The generator's numba kernels are plain IEEE arithmetic (no fastmath) and glibc's
    # libm is correctly rounded or nearly so: its events agree to a float32 ulp or two.
    np.testing.assert_allclose(oldest["features"], native["features"], rtol=1e-6, atol=1e-6)
    # Three epochs of ~24 steps: rounding differences of ~1e-7 per operation grow to
    # 1.2e-7 in the scores here (AMD EPYC, AVX-512 against the default kernels). 1e-5
    # leaves two orders of magnitude for other CPUs and is far below any physics effect;
    # the validation AUCs (ranks of these scores) then agree to 1e-4. Longer trainings
    # drift further, so results are promised bit-identical only on one CPU kind.
    np.testing.assert_allclose(oldest["score"], native["score"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(oldest["auc"], native["auc"], rtol=0, atol=1e-4)
