"""The showered (Pythia 8 + FastJet) HEPMASS-like events: selection, physics, seeds, errors."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pythia8mc")
pytest.importorskip("fastjet")

from hep_pnn.data.features import FEATURE_NAMES
from hep_pnn.data.generator import detector
from hep_pnn.data.generator.kinematics import boost
from hep_pnn.data.generator.processes import BOTTOM, CHARM
from hep_pnn.data.generator.reconstruction import raw_features
from hep_pnn.data.jets._events import delta_r, eta_phi
from hep_pnn.data.jets.generate import pythia_events
from hep_pnn.data.jets.showered import (
    _COMMON,
    _isolated_leptons,
    _measure,
    _process_settings,
    showered_events,
    showered_table,
)
from hep_pnn.errors import ConfigError


@pytest.fixture(scope="module")
def ttbar():
    return showered_events("ttbar", n_generated=300, seed=5, chunk_events=150)


def test_selected_events_pass_the_hepmass_selection(ttbar) -> None:
    n = len(ttbar.n_jets)
    assert 25 < n < 90  # 18-21 % of the generated events
    assert len(ttbar.selected) == 300 and ttbar.selected.sum() == n
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
        ("signal", -500.0, "mass > 0"),
        ("signal", None, "needs a mass"),
        ("ttbar", 500.0, "needs a mass"),
    ],
)
def test_bad_process_or_mass_is_one_clear_error(process, mass, match) -> None:
    with pytest.raises(ConfigError, match=match):
        showered_events(process, n_generated=10, seed=0, mass=mass)


def test_bad_sizes_and_seeds_are_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="n_generated must be at least 1, got 0"):
        showered_events("ttbar", n_generated=0, seed=0)
    with pytest.raises(ConfigError, match="seed must be >= 0"):
        showered_events("ttbar", n_generated=10, seed=-1)


@pytest.mark.parametrize(
    ("process", "mass", "sqrt_s"), [("ttbar", None, 300.0), ("signal", 1500.0, 1000.0)]
)
def test_an_energy_too_low_for_the_process_is_one_clear_error(process, mass, sqrt_s) -> None:
    with pytest.raises(ConfigError, match="cannot produce") as error:
        showered_events(process, n_generated=10, seed=0, mass=mass, sqrt_s=sqrt_s)
    assert error.value.fix


def test_the_beam_energy_bounds_the_visible_energy(ttbar) -> None:
    def visible_energy(event):
        return event.lepton[:, 3] + event.jets[..., 3].sum(axis=1)

    low = showered_events("ttbar", n_generated=300, seed=5, chunk_events=150, sqrt_s=800.0)
    assert len(low.n_jets) > 5
    assert visible_energy(low).max() < 800.0 * 1.1  # jet smearing: σ/E ≈ 15 % at 50 GeV
    assert visible_energy(ttbar).max() > 1000.0


def test_the_lepton_is_not_clustered_into_a_jet(ttbar) -> None:
    lepton_eta, lepton_phi = eta_phi(*ttbar.lepton[:, :3].T)
    jet_eta, jet_phi = eta_phi(*np.moveaxis(ttbar.jets[..., :3], -1, 0))
    assert delta_r(lepton_eta[:, None], lepton_phi[:, None], jet_eta, jet_phi).min() > 0.1


def test_met_points_away_from_the_visible_objects(ttbar) -> None:
    visible = ttbar.lepton[:, :2] + ttbar.jets[:, :, :2].sum(axis=1)
    cosine = (visible * ttbar.met).sum(1) / np.hypot(*visible.T) / np.hypot(*ttbar.met.T)
    assert (cosine < 0).mean() > 0.8


def test_isolation_drops_a_lepton_with_energy_around_it() -> None:
    ak = pytest.importorskip("awkward")
    events = ak.Array([
        [  # a muon with 2 GeV within ΔR < 0.5: isolated (4 % < 10 %)
            {"id": 13, "pt": 50.0, "eta": 0.0, "phi": 0.0},
            {"id": 211, "pt": 2.0, "eta": 0.3, "phi": 0.0},
            {"id": 211, "pt": 30.0, "eta": 0.0, "phi": 2.0},
        ],
        [  # an electron with 10 GeV at ΔR = 0.2: not isolated
            {"id": -11, "pt": 40.0, "eta": 1.0, "phi": 1.0},
            {"id": 22, "pt": 10.0, "eta": 1.2, "phi": 1.0},
        ],
    ])  # fmt: skip
    assert _isolated_leptons(events).to_list() == [[0], []]


def test_measurement_smears_tags_and_balances_like_the_generator() -> None:
    """One fixed event measured 3,000 times: resolutions, b-tag rates and the MET soft term."""
    lepton = {"px": 50.0, "py": 0.0, "pz": 10.0, "e": np.hypot(50.0, 10.0)}
    directions = [(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0)]
    jets = [(100.0 * x, 100.0 * y, 20.0, np.hypot(100.0, 20.0)) for x, y in directions]
    eta = np.arcsinh(0.2)
    quarks = [(5, eta, 0.0), (-4, eta, np.pi / 2)]  # a b quark in jet 1, a c quark in jet 2
    visible = np.array([50.0, 0.0])  # the four jets balance
    rng = np.random.default_rng(0)
    events = [_measure(rng, lepton, jets, quarks, visible, 0.4) for _ in range(3000)]
    assert all(event is not None for event in events)
    tags = np.array([e[2] for e in events if e])
    pts = np.array([np.hypot(e[1][:, 0], e[1][:, 1]) for e in events if e])
    by_direction = [
        np.array([e[2][np.argmax(e[1][:, :2] @ np.array(d))] for e in events if e])
        for d in directions
    ]
    efficiency = detector.BTAG_EFFICIENCY
    assert abs(by_direction[0].mean() - efficiency[BOTTOM]) < 0.03  # the b jet
    assert abs(by_direction[1].mean() - efficiency[CHARM]) < 0.02  # the c jet
    assert by_direction[2].mean() < 0.03 and by_direction[3].mean() < 0.03  # light jets
    noise, stochastic, constant = detector.JET_NOISE, detector.JET_STOCHASTIC, detector.JET_CONSTANT
    sigma = np.sqrt((noise / 100.0) ** 2 + stochastic**2 / 100.0 + constant**2)  # at 100 GeV
    assert abs(pts.std() / 100.0 - sigma) < 0.1 * sigma
    measured = np.array([e[0][:2] + e[1][:, :2].sum(0) for e in events if e])
    residual = np.array([e[4] for e in events if e]) + measured  # MET + measured objects
    sum_et = np.array([np.hypot(*e[0][:2]) for e in events if e]) + pts.sum(1)
    soft = residual / (detector.SOFT_MET_RESOLUTION * np.sqrt(sum_et))[:, None]
    assert np.allclose(soft.mean(0), 0.0, atol=0.1) and np.allclose(soft.std(0), 1.0, atol=0.1)
    assert tags.shape == (3000, 4)


@pytest.mark.parametrize(
    ("spin", "forward_share", "tolerance"), [(0, 0.2, 0.012), (2, 0.082, 0.008)]
)
def test_the_signal_spin_sets_pythias_production_angle(spin, forward_share, tolerance) -> None:
    """Pythia's hard-process tops of a 1 TeV X, in their rest frame: isotropic for the
    spin-0 H2, central for the spin-2 G* (Pythia's 1 − cos⁴θ: 8.2 % beyond
    abs(cos θ) = 0.8; the parametric generator's massive form 7.7 % at β = 0.94).
    10,000 events: statistical spreads 0.004 and 0.003."""
    import awkward as ak

    settings = [
        *_COMMON,
        "PartonLevel:ISR = off",
        "PartonLevel:FSR = off",
        "PartonLevel:MPI = off",
        "HadronLevel:all = off",
        "Random:setSeed = on",
        "Random:seed = 7",
        *_process_settings("signal", 1000.0, spin),
    ]
    particles = pythia_events(settings, 10_000, failure=ConfigError("Pythia did not start"))
    tops = particles[(abs(particles.id) == 6) & (particles.status == -22)].p
    first, second = (
        np.stack([ak.to_numpy(tops[c][:, k]) for c in ("px", "py", "pz", "e")]) for k in (0, 1)
    )
    pair = first + second
    rest = boost(first, -pair[:3] / pair[3])
    cos_theta = rest[2] / np.sqrt((rest[:3] ** 2).sum(axis=0))
    assert abs(np.mean(np.abs(cos_theta) > 0.8) - forward_share) < tolerance


@pytest.mark.parametrize("spin", [1, True, 2.0, [2]])
def test_an_unknown_spin_is_one_clear_error_before_pythia(spin) -> None:
    with pytest.raises(ConfigError, match="no signal model of spin") as error:
        showered_events("signal", n_generated=10, seed=0, mass=500.0, spin=spin)
    assert "0, 2" in error.value.fix
