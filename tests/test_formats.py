"""Every registered file format, plus one a user defines here, through the same round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hep_pnn._io import atomic_path
from hep_pnn.apply import apply_scores
from hep_pnn.apply.writers import ScoreWriter, output_format
from hep_pnn.data import (
    FEATURE_NAMES,
    FORMATS,
    DataDescription,
    EventTable,
    FileFormat,
    iter_columns,
    read_events,
    write_events,
)
from hep_pnn.data.formats import detect_format, format_for_writing, format_of
from hep_pnn.data.generator.output import generate_to_file
from hep_pnn.errors import ConfigError, DataError


class NpzFormat(FileFormat):
    """A user-defined format: numpy ``.npz`` archives, one array per column."""

    name = "npz"
    suffixes = (".npz",)
    table_suffixes = (".npz",)
    score_suffixes = (".npz",)

    def columns(self, path, *, tree=None):
        with np.load(path) as archive:
            return list(archive.files)

    def chunks(self, path, columns, *, tree=None, chunk_size):
        with np.load(path) as archive:
            arrays = {name: archive[name] for name in columns}
        size = len(next(iter(arrays.values())))
        for start in range(0, size, chunk_size):
            yield {name: values[start : start + chunk_size] for name, values in arrays.items()}

    def write_table(self, table, path, *, overwrite):
        arrays = {name: table.column(name) for name in table.feature_names}
        arrays.update(label=table.label, mass=table.mass, weight=table.weight)
        with atomic_path(path, overwrite=overwrite) as tmp, open(tmp, "wb") as stream:
            np.savez(stream, **arrays)
        return Path(path)

    def column_writer(self, path, columns, *, tree="pnn_scores"):
        class Writer:
            def __init__(self):
                self.parts = {name: [] for name in columns}

            def write(self, arrays):
                for name in columns:
                    self.parts[name].append(arrays[name])

            def close(self):
                with open(path, "wb") as stream:
                    np.savez(stream, **{k: np.concatenate(v) for k, v in self.parts.items()})

        return Writer()


@pytest.fixture
def user_format(monkeypatch) -> FileFormat:
    """Register the ``npz`` format for one test (the registry is restored afterwards)."""
    monkeypatch.setitem(FORMATS, "npz", NpzFormat())
    return FORMATS["npz"]


@pytest.fixture(params=[*FORMATS, "npz"])
def file_format(request, user_format) -> FileFormat:
    """Every registered format in turn, the user-defined one included."""
    return FORMATS[request.param]


@pytest.fixture
def table() -> EventTable:
    """Forty HEPMASS-shaped events (every format writes them), two signal masses."""
    rng = np.random.default_rng(3)
    label = np.array([1] * 16 + [0] * 24)
    return EventTable.from_arrays(
        rng.normal(size=(40, 27)).astype(np.float32),
        label=label,
        mass=np.array([500.0, 1000.0] * 8 + [750.0] * 24),
        feature_names=FEATURE_NAMES,
    )


def test_tables_round_trip_through_every_format(tmp_path, file_format, table) -> None:
    for ending in file_format.table_suffixes:
        path = tmp_path / f"events{ending}"
        assert format_for_writing(path) is file_format
        write_events(table, path)
        assert format_of(path) is file_format
        read = read_events(path, cache=False)
        assert read.feature_names == table.feature_names
        np.testing.assert_allclose(read.features, table.features, atol=1e-6, rtol=0)
        np.testing.assert_array_equal(read.label, table.label)
        np.testing.assert_allclose(read.mass, table.mass)
        chunks = list(iter_columns(path, ["f3", "mass"], chunk_size=15))
        assert [len(chunk["f3"]) for chunk in chunks] == [15, 15, 10]
        streamed = np.concatenate([chunk["f3"] for chunk in chunks])
        np.testing.assert_allclose(streamed, table.column("f3"), atol=1e-6, rtol=0)


def test_scores_round_trip_through_every_format(tmp_path, file_format) -> None:
    for ending in file_format.score_suffixes:
        path = tmp_path / f"scores{ending}"
        assert output_format(path) == file_format.name
        with ScoreWriter(path, ["a", "b"], format=file_format.name) as writer:
            writer.write({"a": np.array([0.25, 0.5]), "b": np.array([1.0, 0.0])})
            writer.write({"a": np.array([0.75]), "b": np.array([0.5])})
        assert writer.rows == 3
        kwargs = {"tree": "pnn_scores"} if file_format.name == "root" else {}
        (chunk,) = iter_columns(path, ["a", "b"], **kwargs)
        np.testing.assert_array_equal(chunk["a"], np.float32([0.25, 0.5, 0.75]))


def test_a_user_format_is_one_class_everywhere(tmp_path, user_format, table) -> None:
    """Registered once, the format is read, written, described, generated to and applied."""
    path = tmp_path / "events.npz"
    write_events(table, path)
    assert detect_format(path) == "npz"
    description = DataDescription(
        features=["f0", "f1"], label_column="label", mass_column="mass", format="npz"
    )
    assert len(read_events(path, description=description)) == 40
    generated, written = generate_to_file(
        tmp_path / "generated.npz", masses=[500.0], n_signal_per_mass=20, n_background=20, seed=1
    )
    assert written == [tmp_path / "generated.npz"]
    assert len(read_events(written[0], cache=False)) == len(generated)

    class Scorer:
        feature_names = FEATURE_NAMES
        training_masses = (500.0, 1000.0)

        def predict(self, features, mass, *, batch_size=None):
            return np.full(len(features), mass / 2000)

    apply_scores(Scorer(), path, masses="500,1000", output=tmp_path / "scores.npz")
    with np.load(tmp_path / "scores.npz") as scores:
        assert scores["score_m1000"].tolist() == [0.5] * 40


def test_unknown_suffixes_and_names_are_one_clear_error(tmp_path, user_format, table) -> None:
    with pytest.raises(DataError, match=r"unknown file type '\.xyz'.*\.npz.*'format'"):
        detect_format(tmp_path / "a.xyz")
    with pytest.raises(ConfigError, match=r"cannot tell the output format.*\.npz suffix"):
        write_events(table, tmp_path / "a.txt")
    with pytest.raises(ConfigError, match=r"unknown output type '\.gz'.*\.npz"):
        output_format(tmp_path / "s.csv.gz")
    with pytest.raises(ValueError, match="unknown format 'hdf5'; choose one of parquet, csv, root"):
        DataDescription(features=["f0"], label_column="label", format="hdf5")


def test_messages_list_the_built_in_formats() -> None:
    with pytest.raises(ConfigError, match=r"name the output \.parquet, \.csv or \.root\)"):
        output_format("s.txt")
    with pytest.raises(DataError, match=r"use \.parquet, \.csv, \.csv\.gz or \.root, or set"):
        detect_format("a.xyz")
    assert list(FORMATS) == ["parquet", "csv", "root"]
