"""The one exception family of hep-pnn.

Every problem a user can fix (a bad file, a wrong option, a bad config key)
raises a :class:`PNNError` whose message says *what* is wrong, *where* (file,
column, row, option or config key) and *how* to fix it. The CLI prints that
message as one line on stderr and exits with code 2.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigError",
    "DataError",
    "ModelError",
    "OutputExistsError",
    "PNNError",
    "from_validation_error",
]


class PNNError(Exception):
    """Base class of every user-facing hep-pnn error.

    Args:
        what: what is wrong, e.g. ``"non-numeric value 'abc'"``.
        where: where it is, e.g. ``"file train.csv, column f3, row 17"``.
        fix: how to fix it, e.g. ``"remove the row or fix the value"``.

    Example:
        >>> str(PNNError("label 2 is not 0 or 1", where="a.csv, row 3", fix="use 0 or 1"))
        'a.csv, row 3: label 2 is not 0 or 1 (use 0 or 1)'
    """

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self._format())

    def _format(self) -> str:
        text = f"{self.where}: {self.what}" if self.where else self.what
        if self.fix:
            text += f" ({self.fix})"
        return text


class DataError(PNNError):
    """Input data that cannot be read or used as it is."""


class ConfigError(PNNError):
    """A configuration file, key or command-line option with a bad value."""


class ModelError(PNNError):
    """A saved model that cannot be loaded or does not fit the data."""


class OutputExistsError(PNNError):
    """An output that already exists and would be overwritten."""


def from_validation_error(
    error: Any, *, where: str, fix: str, prefix: tuple[str, ...] = ()
) -> ConfigError:
    """A :class:`ConfigError` for the first problem of a pydantic ``ValidationError``.

    ``where`` names the file (or option); the failing key, dotted, is appended to it.

    Example:
        >>> from pydantic import BaseModel, ValidationError
        >>> class Options(BaseModel):
        ...     epochs: int
        >>> try:
        ...     Options.model_validate({"epochs": "many"})
        ... except ValidationError as err:
        ...     print(from_validation_error(err, where="run.yaml", fix="use a number").where)
        run.yaml, key epochs
    """
    first = error.errors()[0]
    key = ".".join([*prefix, *(str(part) for part in first["loc"])]) or "(top level)"
    more = f" and {error.error_count() - 1} more problem(s)" if error.error_count() > 1 else ""
    return ConfigError(f"{first['msg']}{more}", where=f"{where}, key {key}", fix=fix)
