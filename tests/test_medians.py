"""``benchmarks/medians.py``: generated medians against HEPMASS's, and the median shifts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hep_pnn.data.generator import generate

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def medians(load_script):
    return load_script(REPO / "benchmarks" / "medians.py")


@pytest.fixture(scope="module")
def table():
    return generate(n_signal_per_mass=400, n_background=2000, seed=31)


def test_median_shift_puts_each_group_on_hepmass_median_and_nothing_else_moves(medians, table):
    moved = medians.median_shifted(table, features=[23, 25])
    for feature in (23, 25):
        # every group (background, each signal mass) on its own HEPMASS median
        ours = medians.generated_medians(moved, feature=feature)
        assert np.allclose(ours, medians.HEPMASS_MEDIANS[feature], atol=1e-5), (feature, ours)
        # a shift within each group: the spread inside the group is unchanged
        for rows in medians.groups(table).values():
            spread = np.subtract(*np.quantile(table.features[rows, feature], [0.75, 0.25]))
            assert np.quantile(moved.features[rows, feature], 0.75) - np.quantile(
                moved.features[rows, feature], 0.25
            ) == pytest.approx(spread, abs=1e-5)
    others = np.setdiff1d(np.arange(27), [23, 25])
    assert np.array_equal(moved.features[:, others], table.features[:, others])
    assert np.array_equal(moved.label, table.label) and np.array_equal(moved.mass, table.mass)
    assert not np.shares_memory(moved.features, table.features)


def test_medians_table_prints_every_feature_and_the_btag_rates(medians, table, capsys):
    medians.print_medians(table)
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line.startswith("| f") and "HEPMASS" not in line]
    assert len(rows) == len(medians.HEPMASS_MEDIANS)
    for row, (feature, real) in zip(rows, medians.HEPMASS_MEDIANS.items(), strict=True):
        _, name, printed_real, printed_ours, printed_difference, _ = row.split("|")
        assert name.split()[0] == f"f{feature}"
        assert [float(v) for v in printed_real.split(",")] == pytest.approx(real)
        ours = medians.generated_medians(table, feature=feature)
        assert [float(v) for v in printed_ours.split(",")] == pytest.approx(ours, abs=0.005)
        difference = [float(v) for v in printed_difference.split(",")]
        assert difference == pytest.approx(ours - np.asarray(real), abs=0.005)
    at = next(i for i, line in enumerate(lines) if line.startswith("b-tag rate of jets 1-4"))
    assert "(HEPMASS's rates: 1.87)" in lines[at]
    # b-tag rates of jets 1-4 between 10 and 50 %, about 1.2 tags per event
    rates = lines[at].split(":")[1].split(";")[0].split("/")
    assert all(0.1 < float(rate) < 0.5 for rate in rates), lines[at]
    assert 0.9 < float(lines[at].split("tags per event")[1].split()[0]) < 1.5, lines[at]
    # then one line per group, each its own rows' rates
    tags = table.features[:, medians.BTAG_COLUMNS] > 0
    group_lines = lines[at + 1 :]
    assert len(group_lines) == len(medians.groups(table))
    for line, (name, rows) in zip(group_lines, medians.groups(table).items(), strict=True):
        assert line.strip().startswith(f"{name}:")
        printed = [float(v) for v in line.split(":")[1].split(";")[0].split("/")]
        assert printed == pytest.approx(tags[rows].mean(axis=0), abs=6e-4), line


def test_btag_units_change_the_values_not_which_jets_are_tagged(medians, table):
    columns = list(medians.BTAG_COLUMNS)
    tagged = table.features[:, columns] > 0
    # the generated table carries HEPMASS's units: re-expressing it at HEPMASS's rates is
    # the identity
    same = medians.btag_units(table, rates=medians.BTAG_VARIANTS["HEPMASS's rates (as generated)"])
    assert np.allclose(same.features, table.features, atol=1e-6)
    # at the file's own rates each flag has mean 0 and unit variance (version 7's units)
    own = medians.btag_units(table, rates="generated").features
    assert np.array_equal(own[:, columns] > 0, tagged)
    assert np.allclose(own[:, columns[:3]].mean(axis=0), 0.0, atol=1e-5)
    assert np.allclose(own[:, columns[:3]].std(axis=0), 1.0, atol=1e-5)
    untagged = medians.btag_units(table, rates="untagged").features
    assert not (untagged[:, columns] > 0).any()
    assert np.array_equal(
        np.delete(untagged, columns, axis=1), np.delete(table.features, columns, axis=1)
    )
