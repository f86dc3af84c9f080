"""Optional extras, imported only where they are used, with an error that says how to get them."""

from __future__ import annotations

import importlib
from types import ModuleType

from hep_pnn.errors import ConfigError

__all__ = ["require"]

#: The ``pip install hep-pnn[EXTRA]`` that brings each optional top-level package.
EXTRA_OF: dict[str, str] = {"optuna": "distributed", "ray": "distributed"}


def require(module: str, *, feature: str) -> ModuleType:
    """Import ``module`` (e.g. ``"optuna"``, ``"ray.tune"``) or raise a ConfigError naming the
    extra that installs it.

    Example:
        >>> require("json", feature="doctest").__name__
        'json'
        >>> try:
        ...     require("ray_not_installed_x", feature="pnn tune --executor ray")
        ... except ConfigError as err:
        ...     print(err.fix)
        pip install hep-pnn[distributed]
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        extra = EXTRA_OF.get(top, "distributed")
        raise ConfigError(
            f"{feature} needs the optional package {top!r}, which is not installed",
            where=feature,
            fix=f"pip install hep-pnn[{extra}]",
        ) from None
