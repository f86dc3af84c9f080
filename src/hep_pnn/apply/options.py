r"""Options of ``pnn apply`` as data: mass hypotheses, score column names, feature mapping.

Score columns are named ``score_m<mass>``: the mass in GeV without a trailing ``.0``,
with the decimal point written ``p`` so the name is a valid identifier in ROOT, pandas
and C++ (``score_m500``, ``score_m812p5``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import yaml

from hep_pnn.errors import ConfigError, DataError

__all__ = [
    "NAN_POLICIES",
    "NanPolicy",
    "check_feature_map",
    "missing_columns_error",
    "parse_feature_map",
    "score_column",
]

NanPolicy = Literal["error", "skip", "fill"]
#: What to do with NaN or infinite feature values: stop, leave the row unscored (NaN
#: scores, the row is kept so outputs stay aligned with the input), or replace the value.
NAN_POLICIES: tuple[str, ...] = ("error", "skip", "fill")


def score_column(mass: float) -> str:
    """The output column holding the scores at hypothesis ``mass`` (GeV).

    Example:
        >>> score_column(500.0), score_column(812.5), score_column(1e4)
        ('score_m500', 'score_m812p5', 'score_m10000')
    """
    text = np.format_float_positional(float(mass), trim="-")
    return "score_m" + text.replace(".", "p")


def _map_from_text(text: str, option: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        model_name, sep, column = (part.strip() for part in item.partition("="))
        if not sep or not model_name or not column:
            raise ConfigError(
                f"cannot read {item!r} as MODEL_FEATURE=INPUT_COLUMN",
                where=option,
                fix="write e.g. f0=lep_pt,f1=lep_eta, or give a YAML file",
            )
        mapping[model_name] = column
    return mapping


def _map_from_yaml(path: Path) -> dict[str, str]:
    try:
        content = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(
            f"cannot read the feature map: {err}", where=f"file {path}", fix="check the YAML"
        ) from None
    if not isinstance(content, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in content.items()
    ):
        raise ConfigError(
            "the feature map must be a YAML mapping of model feature names to column names",
            where=f"file {path}",
            fix="write lines like 'f0: lep_pt'",
        )
    return dict(content)


def parse_feature_map(
    spec: str | Path | Mapping[str, str] | None, *, option: str = "--map"
) -> dict[str, str]:
    """``{model feature: input column}`` from ``"f0=lep_pt,f1=lep_eta"``, a YAML file or a dict.

    Example:
        >>> parse_feature_map("f0=lep_pt, f1 = lep_eta")
        {'f0': 'lep_pt', 'f1': 'lep_eta'}
    """
    if spec is None:
        return {}
    if isinstance(spec, Mapping):
        return {str(key): str(value) for key, value in spec.items()}
    path = Path(spec)
    if path.suffix.lower() in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise ConfigError("feature map file not found", where=f"{option} {path}")
        return _map_from_yaml(path)
    return _map_from_text(str(spec), option)


def _closest(name: str, candidates: Sequence[str]) -> str:
    # Case-blind, since "Lep_PT" versus "lep_pt" is the most common misnaming.
    lowered = {candidate.lower(): candidate for candidate in candidates}
    close = [
        lowered[match]
        for match in difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.5)
    ]
    return f"{name} (closest: {', '.join(close)})" if close else f"{name} (no similar name)"


def check_feature_map(
    mapping: Mapping[str, str], feature_names: Sequence[str], *, option: str = "--map"
) -> None:
    """Refuse a mapping whose keys are not features of the model.

    Example:
        >>> check_feature_map({"f9": "x"}, ["f0", "g1"])
        Traceback (most recent call last):
        ...
        hep_pnn.errors.ConfigError: --map: f9 (closest: f0) is not a feature of the model \
(map the model's features f0, g1 to input columns)
    """
    unknown = [name for name in mapping if name not in feature_names]
    if unknown:
        listed = "; ".join(_closest(name, feature_names) for name in unknown)
        raise ConfigError(
            f"{listed} {'is' if len(unknown) == 1 else 'are'} not a feature of the model",
            where=option,
            fix=f"map the model's features {', '.join(feature_names)} to input columns",
        )


def missing_columns_error(
    missing: Sequence[str], available: Sequence[str], *, where: str
) -> DataError:
    """The error for feature columns absent from an input, with the closest names found.

    Example:
        >>> print(missing_columns_error(["lep_pt"], ["lept_pt", "met"], where="file a.root"))
        file a.root: missing feature column(s) lep_pt (closest: lept_pt) (rename them, or \
map model features to your columns with --map f0=lep_pt,...)
    """
    listed = "; ".join(_closest(name, available) for name in missing)
    return DataError(
        f"missing feature column(s) {listed}",
        where=where,
        fix="rename them, or map model features to your columns with --map f0=lep_pt,...",
    )
