"""The file and folder names of a run directory and of a saved model, in one place.

Every module that writes or reads a run imports its names from here::

    RUN_DIR/
      config.yaml        CONFIG_FILE
      model/             MODEL_DIR        (best epoch: model.json + model.safetensors)
      last/              LAST_DIR         (last epoch)
      checkpoint/        CHECKPOINT_DIR   (checkpoint.safetensors = CHECKPOINT_FILE)
      history.csv        HISTORY_CSV
      history.json       HISTORY_JSON
      train.log          LOG_FILE
      evaluation/        EVALUATION_DIR   (metrics.json, metrics.md, *.png, report.html)

Example:
    >>> from pathlib import Path
    >>> Path("runs/affine") / MODEL_DIR / MODEL_CONFIG
    PosixPath('runs/affine/model/model.json')
"""

from __future__ import annotations

__all__ = [
    "CHECKPOINT_DIR",
    "CHECKPOINT_FILE",
    "CONFIG_FILE",
    "EVALUATION_DIR",
    "HISTORY_CSV",
    "HISTORY_JSON",
    "LAST_DIR",
    "LOG_FILE",
    "METRICS_JSON",
    "METRICS_MD",
    "MODEL_CONFIG",
    "MODEL_DIR",
    "MODEL_WEIGHTS",
    "REPORT_FILE",
]

#: The resolved experiment config (data, model, training sections).
CONFIG_FILE = "config.yaml"
#: One row per epoch.
HISTORY_CSV = "history.csv"
#: The same records as JSON.
HISTORY_JSON = "history.json"
#: The training log.
LOG_FILE = "train.log"
#: The model of the best epoch (a saved model folder).
MODEL_DIR = "model"
#: The model of the last epoch.
LAST_DIR = "last"
#: Resumable training state.
CHECKPOINT_DIR = "checkpoint"
#: The checkpoint file inside :data:`CHECKPOINT_DIR`.
CHECKPOINT_FILE = "checkpoint.safetensors"
#: Written by ``pnn evaluate``.
EVALUATION_DIR = "evaluation"
#: Metrics of an evaluation, machine-readable.
METRICS_JSON = "metrics.json"
#: Metrics of an evaluation, as a markdown table.
METRICS_MD = "metrics.md"
#: The self-contained HTML report.
REPORT_FILE = "report.html"
#: Description of a saved model folder (config, features, masses, kind).
MODEL_CONFIG = "model.json"
#: Weights and buffers of a saved model folder.
MODEL_WEIGHTS = "model.safetensors"
