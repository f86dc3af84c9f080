"""Hyper-parameter scans (``pnn tune``): Optuna's TPE sampler and successive-halving
pruning on the per-epoch validation AUC, trials run locally or through Ray Tune.

Optuna and Ray come with ``pip install hep-pnn[distributed]``; they are imported only
when a scan runs, so this package imports without them.
"""

from hep_pnn.tuning.runner import EXECUTORS, TuneResult, is_scan_folder, run_tune
from hep_pnn.tuning.space import SearchSpace, configure, load_space, parse_space

__all__ = [
    "EXECUTORS",
    "SearchSpace",
    "TuneResult",
    "configure",
    "is_scan_folder",
    "load_space",
    "parse_space",
    "run_tune",
]
