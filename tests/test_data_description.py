"""Generic CSV / Parquet / ROOT files read through a YAML data description."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hep_pnn.data import load_description, read_events
from hep_pnn.errors import ConfigError, DataError


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 40
    return pd.DataFrame(
        {
            "lep_pt": rng.uniform(10, 100, n),
            "met": rng.uniform(0, 80, n),
            "n_jets": rng.integers(3, 7, n),
            "is_sig": np.arange(n) % 2,
            "m_x": np.where(np.arange(n) % 2 == 1, 500.0, np.nan),
            "w": rng.normal(1, 0.3, n),
            "sample": np.where(np.arange(n) % 2 == 1, "zprime", "ttbar"),
        }
    )


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


DESCRIPTION = """
features: [lep_pt, met, n_jets]
label_column: is_sig
mass_column: m_x
weight_column: w
process_column: sample
selection: "met > 20 and n_jets >= 4"
"""


def write_frame(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        import uproot

        with uproot.recreate(path) as file:
            numeric = frame.drop(columns="sample")
            file.mktree("tree", {c: numeric[c].dtype for c in numeric})
            file["tree"].extend({c: numeric[c].to_numpy() for c in numeric})
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".root"])
def test_described_file(tmp_path: Path, frame: pd.DataFrame, suffix: str) -> None:
    text = DESCRIPTION
    if suffix == ".root":  # ROOT files here carry no string branch: a fixed process name.
        text = text.replace("process_column: sample", "tree: tree")
    description = load_description(write_yaml(tmp_path / "d.yaml", text))
    table = read_events(write_frame(frame, tmp_path / f"x{suffix}"), description=description)
    kept = frame.query("met > 20 and n_jets >= 4")
    assert table.feature_names == ("lep_pt", "met", "n_jets")
    np.testing.assert_allclose(table.features, kept[["lep_pt", "met", "n_jets"]], rtol=1e-6)
    np.testing.assert_array_equal(table.label, kept["is_sig"])
    np.testing.assert_allclose(table.weight, kept["w"], rtol=1e-6)
    np.testing.assert_array_equal(np.isnan(table.mass), kept["is_sig"] == 0)
    expected = (
        kept["sample"] if suffix != ".root" else np.where(kept["is_sig"], "signal", "background")
    )
    np.testing.assert_array_equal(table.process_labels, expected)


def test_fixed_label_per_file(tmp_path: Path, frame: pd.DataFrame) -> None:
    description = load_description(
        write_yaml(
            tmp_path / "d.yaml",
            "features: [lep_pt, met]\nfiles:\n"
            "  sig.parquet: {label: 1, process: zprime, mass: 750}\n"
            "  bkg.parquet: {label: 0, process: ttbar}\n",
        )
    )
    paths = [write_frame(frame[:10], tmp_path / "sig.parquet")]
    paths.append(write_frame(frame[10:], tmp_path / "bkg.parquet"))
    table = read_events(paths, description=description)
    assert table.label.tolist() == [1] * 10 + [0] * 30
    assert table.signal_masses.tolist() == [750.0]
    assert np.isnan(table.background().mass).all()
    assert table.processes() == ["zprime", "ttbar"]


def test_bad_value_row_counts_rows_before_selection(tmp_path: Path, frame: pd.DataFrame) -> None:
    frame = frame.assign(met=frame["met"].clip(lower=30))
    frame.loc[12, ["lep_pt", "n_jets"]] = [np.inf, 5]  # data row 13, passes the selection
    frame.loc[3, ["lep_pt", "n_jets"]] = [np.inf, 3]  # fails the selection: not reported
    description = load_description(write_yaml(tmp_path / "d.yaml", DESCRIPTION))
    with pytest.raises(DataError, match=r"column lep_pt, row 13: infinite"):
        read_events(write_frame(frame, tmp_path / "x.parquet"), description=description)


def test_missing_columns_and_label_errors(tmp_path: Path, frame: pd.DataFrame) -> None:
    description = load_description(write_yaml(tmp_path / "d.yaml", DESCRIPTION))
    path = write_frame(frame.drop(columns="w"), tmp_path / "x.parquet")
    with pytest.raises(DataError, match=r"missing column\(s\) w.*fix the column names in .*d.yaml"):
        read_events(path, description=description)
    frame = frame.assign(is_sig=frame["is_sig"] * 3)
    kept = frame.query("met > 20 and n_jets >= 4")
    row = kept.index[kept["is_sig"] == 3][0] + 1  # first selected signal, 1-based
    path = write_frame(frame, tmp_path / "y.parquet")
    with pytest.raises(DataError, match=f"column is_sig, row {row}: label 3 is not 0 or 1"):
        read_events(path, description=description)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("label: 1\n", r"key features: Field required"),
        ("features: [a]\n", "key \\(top level\\).*label"),
        ("features: [a]\nlabel: 1\nlabel_column: y\n", "either label_column or label"),
        ("features: [a]\nlabel: 2\n", "key label"),
        ("features: [a]\nlabel: 1\ncolour: red\n", "key colour"),
        ("features: [a\n", "not valid YAML"),
    ],
)
def test_bad_description(tmp_path: Path, text: str, message: str) -> None:
    path = write_yaml(tmp_path / "data.yaml", text)
    with pytest.raises(ConfigError, match=message) as info:
        load_description(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("selection", ["met >", "__import__('os')", "met + 1"])
def test_bad_selection(tmp_path: Path, frame: pd.DataFrame, selection: str) -> None:
    text = DESCRIPTION.replace('"met > 20 and n_jets >= 4"', repr(selection))
    description = load_description(write_yaml(tmp_path / "d.yaml", text))
    with pytest.raises(ConfigError, match=r"d\.yaml, key selection"):
        read_events(write_frame(frame, tmp_path / "x.parquet"), description=description)
