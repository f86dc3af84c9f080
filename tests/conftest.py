"""Shared test fixtures: small data made by the tests themselves."""

from __future__ import annotations

import numpy as np
import pytest

from hep_pnn.data import EventTable


@pytest.fixture
def small_table() -> EventTable:
    """Twenty events with three features, two signal masses and two backgrounds."""
    rng = np.random.default_rng(0)
    label = np.array([1] * 8 + [0] * 12)
    mass = np.array([500.0] * 4 + [1000.0] * 4 + [500.0, 1000.0] * 6)
    process = ["signal"] * 8 + ["ttbar"] * 8 + ["wjets"] * 4
    return EventTable.from_arrays(
        rng.normal(size=(20, 3)),
        label=label,
        mass=mass,
        weight=rng.uniform(0.5, 1.5, 20),
        process=process,
        feature_names=["a", "b", "c"],
    )
