"""The published pNN studies, each one command: ``pnn study NAME``."""

from hep_pnn.studies.config import SIZES, StudyConfig, find_study, list_studies, load_study
from hep_pnn.studies.runner import RunSpec, plan_runs, prepare_data, run_study
from hep_pnn.studies.summary import auc_table, format_table, summarise_study

__all__ = [
    "SIZES",
    "RunSpec",
    "StudyConfig",
    "auc_table",
    "find_study",
    "format_table",
    "list_studies",
    "load_study",
    "plan_runs",
    "prepare_data",
    "run_study",
    "summarise_study",
]
