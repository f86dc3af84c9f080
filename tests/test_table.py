from __future__ import annotations

import numpy as np
import pytest

from hep_pnn.data import EventTable


def test_dtypes_and_layout(small_table: EventTable) -> None:
    assert small_table.features.dtype == np.float32
    assert small_table.features.flags.c_contiguous
    assert small_table.label.dtype == np.int8
    assert small_table.mass.dtype == np.float32
    assert small_table.weight.dtype == np.float32
    assert small_table.n_features == 3


def test_selections(small_table: EventTable) -> None:
    assert small_table.signal_masses.tolist() == [500.0, 1000.0]
    assert len(small_table.signal(500)) == 4
    assert len(small_table.signal()) == 8
    assert len(small_table.background()) == 12
    assert small_table.processes(label=0) == ["ttbar", "wjets"]
    wjets = small_table.where_process("wjets")
    assert len(wjets) == 4 and set(wjets.process_labels) == {"wjets"}
    with pytest.raises(KeyError, match="unknown process"):
        small_table.where_process("zjets")


def test_with_mass_does_not_modify_original(small_table: EventTable) -> None:
    moved = small_table.background().with_mass(750.0)
    assert np.all(moved.mass == 750.0)
    assert not np.any(small_table.mass == 750.0)


def test_concat_merges_process_codes(small_table: EventTable) -> None:
    other = EventTable.from_arrays(
        np.ones((2, 3)), label=[0, 0], process=["diboson", "ttbar"], feature_names=["a", "b", "c"]
    )
    both = EventTable.concat([small_table, other])
    assert len(both) == 22
    assert list(both.process_labels[-2:]) == ["diboson", "ttbar"]
    assert list(both.process_labels[:8]) == ["signal"] * 8
    with pytest.raises(ValueError, match="different feature names"):
        EventTable.concat(
            [
                small_table,
                other.select(slice(0, 1)).__class__.from_arrays(
                    np.ones((1, 3)), label=[0], feature_names=["x", "y", "z"]
                ),
            ]
        )


def test_pandas_round_trip(small_table: EventTable) -> None:
    back = EventTable.from_pandas(small_table.to_pandas())
    np.testing.assert_array_equal(back.features, small_table.features)
    np.testing.assert_array_equal(back.process_labels, small_table.process_labels)
    np.testing.assert_array_equal(back.weight, small_table.weight)


def test_shape_mismatch_rejected() -> None:
    with pytest.raises(ValueError, match="expected"):
        EventTable.from_arrays(np.zeros((3, 2)), label=[1, 0])
    with pytest.raises(ValueError, match="feature names"):
        EventTable.from_arrays(np.zeros((2, 2)), label=[1, 0], feature_names=["a"])
