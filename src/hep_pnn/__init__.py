"""hep-pnn: parametric neural networks for high-energy physics."""

# first: chooses how OpenMP threads wait, before anything imports torch (hep_pnn._threads)
import hep_pnn._threads  # noqa: F401
from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError, DataError, ModelError, OutputExistsError, PNNError

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "EventTable",
    "ModelError",
    "OutputExistsError",
    "PNNError",
    "__version__",
]
