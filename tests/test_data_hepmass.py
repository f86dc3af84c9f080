"""HEPMASS and HEPMASS-IMB readers: published layouts and every bad-input case."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from hep_pnn.data import FEATURE_NAMES, read_hepmass, read_hepmass_imb
from hep_pnn.errors import DataError

HEPMASS_HEADER = ",".join(["# label", *FEATURE_NAMES, "mass"])
IMB_HEADER = ",".join(["type", *FEATURE_NAMES, "mass", "name", "weight"])
PUBLISHED_MASSES = np.array([499.999969, 750.0, 1000.0, 1250.0, 1500.0])


def hepmass_lines(n: int, *, seed: int = 0) -> list[str]:
    """Header plus ``n`` rows in the published layout: ``%.6f`` decimals, 500 GeV as 499.999969."""
    rng = np.random.default_rng(seed)
    label = np.arange(n) % 2  # signal, background, signal, ...
    values = np.column_stack([label, rng.normal(size=(n, 27)), PUBLISHED_MASSES[np.arange(n) % 5]])
    return [HEPMASS_HEADER, *(",".join(f"{v:.6f}" for v in row) for row in values)]


def set_field(lines: list[str], row: int, column: str, value: str) -> list[str]:
    """Replace one field; ``row`` is the 1-based data row (line ``row + 1``)."""
    index = lines[0].split(",").index(column)
    fields = lines[row].split(",")
    fields[index] = value
    lines[row] = ",".join(fields)
    return lines


def write_lines(path: Path, lines: list[str]) -> Path:
    text = "\n".join(lines) + "\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def imb_lines(n: int, *, label: int, name: str, seed: int = 0) -> list[str]:
    rows = hepmass_lines(n, seed=seed)[1:]
    weight = np.random.default_rng(seed + 1).normal(0.5, 1.0, n)
    return [
        IMB_HEADER,
        *(
            f"{label}," + ",".join(row.split(",")[1:]) + f",{name},{float(w)!r}"
            for row, w in zip(rows, weight, strict=True)
        ),
    ]


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_read_hepmass_published_layout(tmp_path: Path, suffix: str) -> None:
    lines = hepmass_lines(10)
    table = read_hepmass(write_lines(tmp_path / f"train{suffix}", lines), cache=False)
    assert len(table) == 10
    assert table.feature_names == FEATURE_NAMES
    assert table.label.tolist() == [0, 1] * 5
    # 499.999969 is the published 500 GeV point; everything else stays as written.
    assert table.mass.tolist() == [500.0, 750.0, 1000.0, 1250.0, 1500.0] * 2
    assert table.process_labels.tolist() == ["ttbar", "signal"] * 5
    assert np.all(table.weight == 1)
    expected = np.array([[float(v) for v in line.split(",")[1:28]] for line in lines[1:]])
    np.testing.assert_allclose(table.features, expected, rtol=1e-6)


def test_non_integer_background_masses_are_kept(tmp_path: Path) -> None:
    lines = set_field(hepmass_lines(4), 2, "mass", "812.250000")
    table = read_hepmass(write_lines(tmp_path / "a.csv", lines), cache=False)
    assert table.mass[1] == pytest.approx(812.25)


def test_rows_counted_across_blocks(tmp_path: Path) -> None:
    # 6,000 rows (1.7 MB) span two parse blocks: the reported row must still be exact.
    lines = set_field(hepmass_lines(6000), 5432, "f12", "nan")
    with pytest.raises(DataError, match=r"column f12, row 5432\b"):
        read_hepmass(write_lines(tmp_path / "big.csv", lines), cache=False)


def _without_column(lines: list[str], column: str) -> list[str]:
    index = lines[0].split(",").index(column)
    return [",".join(f for i, f in enumerate(line.split(",")) if i != index) for line in lines]


BAD_INPUTS = {
    "empty file": (lambda lines: [], "file is empty"),
    "header only": (lambda lines: lines[:1], "no events"),
    "missing header": (lambda lines: lines[1:], "line 1: missing header"),
    "missing column": (lambda lines: _without_column(lines, "f13"), "missing column.*f13"),
    "wrong header": (
        lambda lines: [lines[0].replace("# label", "label"), *lines[1:]],
        "missing column.*# label",
    ),
    "extra column": (
        lambda lines: [line + ",0" for line in lines[:1]] + [line + ",0" for line in lines[1:]],
        "line 1: wrong header",
    ),
    "short row": (
        lambda lines: [*lines[:3], ",".join(lines[3].split(",")[:-1]), *lines[4:]],
        r"row 3 \(line 4\): 28 fields where the header has 29",
    ),
    "non-numeric": (
        lambda lines: set_field(lines, 4, "f3", "abc"),
        "column f3, row 4: non-numeric value 'abc'",
    ),
    "nan": (lambda lines: set_field(lines, 2, "f4", "nan"), "column f4, row 2: missing or NaN"),
    "inf": (lambda lines: set_field(lines, 5, "f0", "inf"), "column f0, row 5: infinite value"),
    "empty field": (lambda lines: set_field(lines, 3, "f6", ""), "column f6, row 3: missing"),
    "label 2": (
        lambda lines: set_field(lines, 6, "# label", "2.000000"),
        "column # label, row 6: label 2 is not 0 or 1",
    ),
    "signal without mass": (
        lambda lines: set_field(lines, 4, "mass", ""),
        "column mass, row 4: signal row without a mass",
    ),
    "signal nan mass": (
        lambda lines: set_field(lines, 2, "mass", "nan"),
        "column mass, row 2: signal row without a mass",
    ),
    "negative mass": (
        lambda lines: set_field(lines, 3, "mass", "-500.000000"),
        "column mass, row 3: mass -500 is not a positive",
    ),
    "zero mass": (
        lambda lines: set_field(lines, 5, "mass", "0.000000"),
        "column mass, row 5: mass 0 is not a positive",
    ),
}


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_hepmass_input(tmp_path: Path, case: str, suffix: str) -> None:
    mutate, message = BAD_INPUTS[case]
    path = tmp_path / f"bad{suffix}"
    if case == "empty file":
        path.write_bytes(b"")
    else:
        write_lines(path, mutate(hepmass_lines(8)))
    with pytest.raises(DataError, match=message) as info:
        read_hepmass(path)
    assert str(path) in str(info.value)
    assert info.value.fix
    assert not list(tmp_path.glob("*.pnn-cache.parquet")), "no cache for a bad file"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        read_hepmass(tmp_path / "all_train.csv.gz")


def test_read_hepmass_imb(tmp_path: Path) -> None:
    signal = write_lines(tmp_path / "sig.csv", imb_lines(6, label=1, name="signal"))
    background = write_lines(tmp_path / "bkg.csv", imb_lines(4, label=0, name="ttbar", seed=3))
    table = read_hepmass_imb(signal, background, cache=False)
    assert table.label.tolist() == [1] * 6 + [0] * 4
    assert table.process_labels.tolist() == ["signal"] * 6 + ["ttbar"] * 4
    expected = [float(line.rsplit(",", 1)[1]) for line in imb_lines(6, label=1, name="signal")[1:]]
    np.testing.assert_allclose(table.weight[:6], expected, rtol=1e-6)
    assert table.signal_masses.tolist() == [500.0, 750.0, 1000.0, 1250.0, 1500.0]


def test_imb_bad_weight_and_header(tmp_path: Path) -> None:
    good = write_lines(tmp_path / "bkg.csv", imb_lines(4, label=0, name="ttbar"))
    lines = set_field(imb_lines(5, label=1, name="signal"), 3, "weight", "inf")
    with pytest.raises(DataError, match="column weight, row 3"):
        read_hepmass_imb(write_lines(tmp_path / "sig.csv", lines), good, cache=False)
    with pytest.raises(DataError, match="HEPMASS-IMB"):
        read_hepmass_imb(write_lines(tmp_path / "h.csv", hepmass_lines(3)), good, cache=False)


def test_truncated_gzip(tmp_path: Path) -> None:
    data = gzip.compress(("\n".join(hepmass_lines(3000)) + "\n").encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cut\.csv\.gz: cannot read the file"):
        read_hepmass(path, cache=False)
