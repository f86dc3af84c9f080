"""Writers and readers round trips, the Parquet cache and chunk iteration."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest

import hep_pnn.data.hepmass as hepmass_module
import hep_pnn.data.writers as writers
from hep_pnn.data import (
    FEATURE_NAMES,
    EventTable,
    iter_columns,
    read_events,
    read_hepmass,
    read_hepmass_imb,
    write_events,
    write_hepmass_csv,
    write_hepmass_imb,
    write_parquet,
    write_root,
)
from hep_pnn.data._csv import format_rows
from hep_pnn.data.cache import cache_path
from hep_pnn.errors import ConfigError, DataError, OutputExistsError
from test_data_hepmass import hepmass_lines, write_lines


@pytest.fixture
def hepmass_table() -> EventTable:
    """Thirty events in HEPMASS form: two masses, two backgrounds, real weights, NaN mass."""
    rng = np.random.default_rng(7)
    label = np.array([1] * 12 + [0] * 18)
    mass = np.array([500.0, 1000.0] * 6 + [750.0] * 17 + [np.nan])
    return EventTable.from_arrays(
        rng.normal(size=(30, 27)),
        label=label,
        mass=mass,
        weight=rng.normal(1.0, 0.5, 30),
        process=["signal"] * 12 + ["ttbar"] * 10 + ["wjets"] * 8,
        feature_names=FEATURE_NAMES,
    )


def assert_same(read: EventTable, written: EventTable, *, atol: float = 0.0) -> None:
    assert read.feature_names == written.feature_names
    np.testing.assert_allclose(read.features, written.features, atol=atol, rtol=0)
    np.testing.assert_array_equal(read.label, written.label)
    np.testing.assert_allclose(read.mass, written.mass, atol=atol, rtol=0)
    np.testing.assert_array_equal(read.process_labels, written.process_labels)


@pytest.mark.parametrize("writer", [write_parquet, write_root])
def test_native_round_trip(tmp_path: Path, hepmass_table: EventTable, writer) -> None:
    suffix = ".parquet" if writer is write_parquet else ".root"
    path = writer(hepmass_table, tmp_path / f"events{suffix}")
    read = read_events(path)
    assert_same(read, hepmass_table)
    np.testing.assert_array_equal(read.weight, hepmass_table.weight)
    assert np.isnan(read.mass[-1]), "an unassigned background mass stays NaN"


@pytest.mark.parametrize("name", ["train.csv", "train.csv.gz"])
def test_hepmass_csv_round_trip(tmp_path: Path, hepmass_table: EventTable, name: str) -> None:
    table = hepmass_table.where_process("signal", "ttbar")
    path = write_hepmass_csv(table, tmp_path / name)
    text = path.read_bytes()
    if name.endswith(".gz"):
        import gzip

        text = gzip.decompress(text)
    lines = text.decode().splitlines()
    assert lines[0] == hepmass_lines(0)[0]
    assert lines[1].startswith("1.000000,") and lines[1].endswith(",500.000000")
    read = read_hepmass(path, cache=False)
    assert_same(read, table, atol=5e-7)
    assert np.all(read.weight == 1)


def test_hepmass_imb_round_trip(tmp_path: Path, hepmass_table: EventTable) -> None:
    signal, background = write_hepmass_imb(
        hepmass_table, tmp_path / "imbalanced_signal.csv", tmp_path / "imbalanced_background.csv"
    )
    assert signal.read_text().splitlines()[0].startswith("type,f0,f1,")
    read = read_hepmass_imb(signal, background, cache=False)
    assert_same(read, hepmass_table)
    np.testing.assert_array_equal(read.weight, hepmass_table.weight)


def test_writers_refuse_to_overwrite(tmp_path: Path, hepmass_table: EventTable) -> None:
    for name in ["a.parquet", "a.root", "a.csv.gz"]:
        path = write_events(hepmass_table, tmp_path / name)
        before = path.read_bytes()
        with pytest.raises(OutputExistsError, match="already exists"):
            write_events(hepmass_table.select(slice(0, 3)), path)
        assert path.read_bytes() == before
        write_events(hepmass_table.select(slice(0, 3)), path, overwrite=True)
        assert len(read_events(path, cache=False)) == 3
    with pytest.raises(ConfigError, match="output format"):
        write_events(hepmass_table, tmp_path / "a.txt")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_csv_rows_are_byte_identical_to_savetxt(dtype) -> None:
    """The fast ``%.6f`` formatter writes exactly what ``np.savetxt`` writes: float32 blocks
    through the kernel (signs, -0, NaN, exact decimal ties, 1e-9..1e11), others through
    ``np.savetxt`` itself."""
    rng = np.random.default_rng(3)
    values = rng.standard_normal((3000, 29)) * 10.0 ** rng.integers(-9, 12, (3000, 29))
    values[:40] = rng.integers(-5000, 5000, (40, 29)) / 128.0  # x.5 at the 6th decimal
    values[40, :6] = [-0.0, np.nan, 5e-7, -5e-7, 4.9e-7, 0.0]
    block = values.astype(dtype).astype(np.float64)
    expected = io.StringIO()
    np.savetxt(expected, block, fmt="%.6f", delimiter=",")
    assert format_rows(block) == expected.getvalue()


def test_failed_write_leaves_old_file(
    tmp_path: Path, hepmass_table: EventTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_hepmass_csv(hepmass_table, tmp_path / "a.csv")
    before = path.read_bytes()

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(writers, "format_rows", broken)
    with pytest.raises(OSError, match="disk full"):
        write_hepmass_csv(hepmass_table, path, overwrite=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]


# cache ------------------------------------------------------------------------------------------


def test_cache_hit_does_not_parse_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_lines(tmp_path / "train.csv.gz", hepmass_lines(20))
    first = read_hepmass(path)
    assert cache_path(path) == tmp_path / "train.csv.gz.pnn-cache.parquet"
    assert cache_path(path).is_file()

    def no_parsing(*args: object) -> None:
        raise AssertionError("the CSV was parsed again")

    monkeypatch.setattr(hepmass_module, "_read_layout", no_parsing)
    second = read_hepmass(path)
    assert_same(second, first)


def test_cache_invalidated_when_source_changes(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "train.csv", hepmass_lines(20))
    assert len(read_hepmass(path)) == 20
    write_lines(path, hepmass_lines(25, seed=1))
    assert len(read_hepmass(path)) == 25
    # Same size, new modification time: still re-read.
    write_lines(path, hepmass_lines(25, seed=2))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    expected = read_hepmass(path, cache=False)
    assert_same(read_hepmass(path), expected)


def test_corrupt_cache_is_rebuilt(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "train.csv", hepmass_lines(10))
    expected = read_hepmass(path)
    cache_path(path).write_bytes(b"PAR1 this is not parquet")
    assert_same(read_hepmass(path), expected)
    assert cache_path(path).read_bytes()[:4] == b"PAR1" and cache_path(path).stat().st_size > 100


def test_no_cache_when_disabled(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "train.csv", hepmass_lines(5))
    read_hepmass(path, cache=False)
    assert not cache_path(path).exists()


def test_cache_goes_to_cache_dir_if_folder_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEP_PNN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("hep_pnn.data.cache.os.access", lambda *args: False)
    location = cache_path(tmp_path / "data" / "train.csv")
    assert location.parent == tmp_path / "cache"
    assert location.name.endswith("-train.csv.pnn-cache.parquet")


# chunks -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".parquet", ".root", ".csv"])
def test_chunks_reproduce_full_read(tmp_path: Path, hepmass_table: EventTable, suffix: str) -> None:
    path = tmp_path / f"events{suffix}"
    table = hepmass_table
    if suffix == ".csv":
        table = hepmass_table.where_process("signal", "ttbar").with_mass(750.0)
        write_hepmass_csv(table, path)
    else:
        write_events(table, path)
    columns = ["# label" if suffix == ".csv" else "label", "f3", "mass"]
    chunks = list(iter_columns(path, columns, chunk_size=7))
    assert [len(c["f3"]) for c in chunks[:-1]] == [7] * (len(chunks) - 1)
    assert 0 < len(chunks[-1]["f3"]) <= 7
    joined = {name: np.concatenate([c[name] for c in chunks]) for name in columns}
    np.testing.assert_allclose(joined["f3"], table.column("f3"), atol=5e-7)
    np.testing.assert_array_equal(joined[columns[0]], table.label)
    np.testing.assert_allclose(joined["mass"], table.mass)


def test_chunks_missing_column(tmp_path: Path, hepmass_table: EventTable) -> None:
    path = write_parquet(hepmass_table, tmp_path / "a.parquet")
    with pytest.raises(DataError, match=r"missing column\(s\) \['f99'\]"):
        next(iter_columns(path, ["f1", "f99"]))


# detection --------------------------------------------------------------------------------------


def test_read_events_detects_layouts(tmp_path: Path, hepmass_table: EventTable) -> None:
    hepmass = write_lines(tmp_path / "h.csv", hepmass_lines(6))
    assert sorted(read_events(hepmass, cache=False).processes()) == ["signal", "ttbar"]
    signal, background = write_hepmass_imb(hepmass_table, tmp_path / "s.csv", tmp_path / "b.csv")
    both = read_events([signal, background], cache=False)
    assert_same(both, hepmass_table)
    with pytest.raises(DataError, match=r"unknown layout.*data description"):
        read_events(write_lines(tmp_path / "odd.csv", ["a,b", "1,2"]), cache=False)


def test_chunks_of_header_only_csv(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "a.csv", ["a,b"])
    assert list(iter_columns(path, ["b"])) == []


def test_stopping_early_ends_the_reader_thread(tmp_path: Path) -> None:
    import threading

    path = write_lines(tmp_path / "a.csv", hepmass_lines(8000))
    before = threading.active_count()
    chunks = iter_columns(path, ["f0"], chunk_size=10)
    assert len(next(chunks)["f0"]) == 10
    chunks.close()
    assert threading.active_count() == before
