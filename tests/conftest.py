"""Shared test fixtures: small data made by the tests themselves."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch
from torch import nn

from hep_pnn.data import EventTable
from hep_pnn.models.conditioning import CONDITIONINGS, AffineInMass, Conditioning, Line, linear


@pytest.fixture(scope="session")
def load_script() -> Callable[..., ModuleType]:
    """Import a script outside the package (``benchmarks/``, ``../shared``) as a module.

    Its folder is on ``sys.path`` while it runs (for imports of its siblings) and the module
    is registered in ``sys.modules`` under ``name`` (default: the file's stem), where its
    dataclasses look themselves up.
    """

    def load(path: Path, name: str | None = None) -> ModuleType:
        name = name or path.stem
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None, path
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        sys.path.insert(0, str(path.parent))
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(path.parent))
        return module

    return load


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


# --- conditioning mechanisms defined by a user (pyhf's test_custom_mods habit) ---------


class SoftFilm(Conditioning):
    """``h ⊙ (softplus(a) m + b) + c m``: affine in m, with lines *computed* from its
    parameters (not whole parameters), so the fast paths must carry gradients through."""

    def __init__(self, width: int) -> None:
        super().__init__(width)
        grid = torch.linspace(-0.5, 0.5, width)
        self.a = nn.Parameter(grid.clone())
        self.b = nn.Parameter(1.0 - grid)
        self.c = nn.Parameter(grid.flip(0).clone())

    def modulation(self, mass):
        return nn.functional.softplus(self.a) * mass + self.b, self.c * mass

    def coefficients(self):
        return AffineInMass(Line(nn.functional.softplus(self.a), self.b), Line(self.c))


class Gate(Conditioning):
    """``h ⊙ 2σ(W m + b)``: not affine in m, declares no coefficients."""

    def __init__(self, width: int) -> None:
        super().__init__(width)
        self.gate = linear(1, width)

    def modulation(self, mass):
        return 2.0 * torch.sigmoid(self.gate(mass)), None


#: Mechanisms registered by the tests themselves, next to the built-in ones.
CUSTOM_MECHANISMS: dict[str, type[Conditioning]] = {"user_film": SoftFilm, "user_gate": Gate}
#: Every mechanism the parametrised model tests run over.
ALL_MECHANISMS = [*CONDITIONINGS, *CUSTOM_MECHANISMS]


@pytest.fixture
def custom_mechanisms(monkeypatch) -> dict[str, type[Conditioning]]:
    """Register the user-defined mechanisms for one test (the registry is restored after)."""
    for name, mechanism in CUSTOM_MECHANISMS.items():
        monkeypatch.setitem(CONDITIONINGS, name, mechanism)
    return CUSTOM_MECHANISMS


@pytest.fixture(params=ALL_MECHANISMS)
def mechanism(request, custom_mechanisms) -> str:
    """The name of every registered mechanism in turn, the user-defined ones included."""
    return request.param
