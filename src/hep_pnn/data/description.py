"""The data description: which columns of a CSV, Parquet or ROOT file mean what.

A description is YAML, for example::

    format: root            # csv | parquet | root: a name in hep_pnn.data.FORMATS
    tree: events            # ROOT only
    features: [lep_pt, lep_eta, met, mjj]
    label_column: is_signal # or `label: 1` for a fixed label for every file
    mass_column: m_x        # optional; background without a mass gets NaN ("unassigned")
    weight_column: w        # optional, default weight 1
    process_column: sample  # or `process: ttbar` for a fixed name
    selection: "met > 20 and n_jets >= 4"
    files:                  # per-file fixed values, keyed by file name
      signal_m500.root: {label: 1, process: signal, mass: 500}
      ttbar.root: {label: 0, process: ttbar}

The selection is evaluated by ``pandas.eval`` (a restricted expression grammar over
the columns: arithmetic, comparisons, ``and``/``or``/``not``), never by Python ``eval``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from hep_pnn.data.formats import FORMATS
from hep_pnn.errors import ConfigError, from_validation_error

__all__ = ["DataDescription", "FileSettings", "load_description"]


class FileSettings(BaseModel):
    """Fixed values for every event of one file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: Literal[0, 1] | None = None
    process: str | None = None
    mass: float | None = Field(default=None, gt=0)


class DataDescription(BaseModel):
    """How to read events from a generic CSV, Parquet or ROOT file.

    Exactly one of ``label_column`` and ``label`` (or a per-file ``label`` under
    ``files``) says which events are signal.

    Example:
        >>> d = DataDescription(features=["a", "b"], label_column="y", mass_column="m")
        >>> d.columns_for("x.csv")
        ['a', 'b', 'y', 'm']
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str | None = None
    tree: str | None = None
    features: list[str] = Field(min_length=1)
    label_column: str | None = None
    label: Literal[0, 1] | None = None
    mass_column: str | None = None
    weight_column: str | None = None
    process_column: str | None = None
    process: str | None = None
    selection: str | None = None
    files: dict[str, FileSettings] = Field(default_factory=dict)
    source: str = Field(default="data description", exclude=True)

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str | None) -> str | None:
        if value is not None and value not in FORMATS:
            raise ValueError(f"unknown format {value!r}; choose one of {', '.join(FORMATS)}")
        return value

    @model_validator(mode="after")
    def _one_label(self) -> DataDescription:
        if self.label_column is not None and self.label is not None:
            raise ValueError("give either label_column or label, not both")
        if self.process_column is not None and self.process is not None:
            raise ValueError("give either process_column or process, not both")
        per_file = self.files and all(s.label is not None for s in self.files.values())
        if self.label_column is None and self.label is None and not per_file:
            raise ValueError("give label_column, a fixed label, or a label for every file")
        return self

    def settings_for(self, path: str | os.PathLike[str]) -> FileSettings:
        """The per-file settings of ``path`` (matched by full path, then by file name)."""
        path = Path(path)
        return self.files.get(str(path)) or self.files.get(path.name) or FileSettings()

    def columns_for(self, path: str | os.PathLike[str]) -> list[str]:
        """The file columns this description reads from ``path`` (selection columns aside)."""
        settings = self.settings_for(path)
        optional = [
            self.label_column if settings.label is None else None,
            self.mass_column if settings.mass is None else None,
            self.weight_column,
            self.process_column if settings.process is None else None,
        ]
        return list(dict.fromkeys([*self.features, *(c for c in optional if c)]))


def load_description(path: str | os.PathLike[str]) -> DataDescription:
    """Load and validate a data description YAML; errors name the file and the key.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "data.yaml"
        >>> _ = path.write_text("features: [a, b]\\nlabel: 1\\nprocess: signal\\n")
        >>> load_description(path).features
        ['a', 'b']
    """
    path = Path(path)
    where = f"data description {path}"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"cannot read it: {err.strerror}", where=where) from None
    except yaml.YAMLError as err:
        raise ConfigError(f"not valid YAML: {err}", where=where, fix="fix the syntax") from None
    if not isinstance(raw, dict):
        raise ConfigError("expected a mapping of keys", where=where, fix="see docs/data.md")
    try:
        return DataDescription.model_validate({**raw, "source": str(path)})
    except ValidationError as err:
        raise from_validation_error(err, where=where, fix="see docs/data.md for the keys") from None
