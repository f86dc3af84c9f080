"""The showered (Pythia 8 + FastJet) HEPMASS-like events: selection, physics, seeds, errors."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pythia8mc")
pytest.importorskip("fastjet")

from hep_pnn.data.features import FEATURE_NAMES
from hep_pnn.data.generator import detector
from hep_pnn.data.generator.reconstruction import raw_features
from hep_pnn.data.jets.showered import showered_events, showered_table
from hep_pnn.errors import ConfigError


@pytest.fixture(scope="module")
def ttbar():
    return showered_events("ttbar", n_generated=300, seed=5, chunk_events=150)


def test_selected_events_pass_the_hepmass_selection(ttbar) -> None:
    n = len(ttbar.n_jets)
    assert 25 < n < 90  # 16-19 % of the generated events
    lepton_pt = np.hypot(ttbar.lepton[:, 0], ttbar.lepton[:, 1])
    assert (lepton_pt >= detector.LEPTON_PT_MIN).all()
    assert (np.abs(np.arcsinh(ttbar.lepton[:, 2] / lepton_pt)) <= detector.LEPTON_ETA_MAX).all()
    jet_pt = np.hypot(ttbar.jets[..., 0], ttbar.jets[..., 1])
    assert (jet_pt >= detector.JET_PT_MIN).all()
    assert (np.diff(jet_pt, axis=1) <= 0).all()  # the four leading, by decreasing pT
    assert (np.abs(np.arcsinh(ttbar.jets[..., 2] / jet_pt)) <= detector.JET_ETA_MAX).all()
    assert (ttbar.n_jets >= 4).all() and set(np.unique(ttbar.btag)) <= {0, 1}
    # showered jets have masses (E > |p|), unlike the parametric generator's
    assert (ttbar.jets[..., 3] ** 2 > (ttbar.jets[..., :3] ** 2).sum(-1)).mean() > 0.9


def test_the_top_masses_are_reconstructed(ttbar) -> None:
    raw = raw_features(ttbar)
    assert 60 < np.median(raw[:, 22]) < 110  # m_jj near m_W
    assert 140 < np.median(raw[:, 23]) < 260  # m_jjj near m_t
    assert np.allclose(np.median(raw[:, 24]), 80.4, atol=1.0)  # m_lv pinned by the W constraint


def test_events_do_not_depend_on_the_number_of_workers(ttbar) -> None:
    again = showered_events("ttbar", n_generated=300, seed=5, chunk_events=150, jobs=2)
    assert np.array_equal(again.jets, ttbar.jets) and np.array_equal(again.met, ttbar.met)
    other = showered_events("ttbar", n_generated=150, seed=6, chunk_events=150)
    assert not np.array_equal(other.lepton[:5], ttbar.lepton[:5])


def test_table_holds_a_resonance_at_its_mass() -> None:
    table = showered_table(
        masses=[1000.0], n_generated_signal=250, n_generated_background=1, seed=2
    )
    assert table.feature_names == FEATURE_NAMES
    signal = table.features[table.label == 1]
    assert len(signal) > 25 and np.isfinite(signal).all()
    assert set(np.unique(table.mass[table.label == 1])) == {1000.0}
    # standardised m_WWbb of a 1000 GeV X: the generator's signal peaks at 0.40 (docs/generator.md)
    assert 0.0 < np.median(signal[:, 26]) < 1.0


@pytest.mark.parametrize(
    ("process", "mass", "match"),
    [
        ("wjets", None, "unknown showered process 'wjets'"),
        ("signal", None, "needs a mass"),
        ("ttbar", 500.0, "needs a mass"),
    ],
)
def test_bad_process_or_mass_is_one_clear_error(process, mass, match) -> None:
    with pytest.raises(ConfigError, match=match):
        showered_events(process, n_generated=10, seed=0, mass=mass)
