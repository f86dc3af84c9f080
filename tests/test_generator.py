"""The generator API: determinism, counts, weights, background masses, presets, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from hep_pnn.data import FEATURE_NAMES
from hep_pnn.data.generator import (
    BLOCK_SIZE,
    PROCESSES,
    destandardise,
    generate,
    generate_raw,
    iter_generate,
    preset_sizes,
    standardise,
    training_sizes,
)
from hep_pnn.data.generator.api import _block, _Workspace
from hep_pnn.data.generator.processes import WIDTH_FRACTION
from hep_pnn.data.generator.validation import validate
from hep_pnn.errors import ConfigError

SMALL = {"masses": (600.0, 1200.0), "n_signal_per_mass": 300, "n_background": 500}


def _same(a, b) -> bool:
    return (
        all(
            np.array_equal(getattr(a, key), getattr(b, key))
            for key in ("features", "label", "mass", "weight", "process")
        )
        and a.process_names == b.process_names
    )


def test_same_seed_is_byte_identical_whatever_chunk_size_and_threads():
    # Enough events that the signal needs several blocks.
    options = {"masses": (600.0,), "n_signal_per_mass": 7_000, "n_background": 100}
    reference = generate(**options, seed=5, chunk_size=BLOCK_SIZE, threads=1)
    for chunk_size, threads in [(10 * BLOCK_SIZE, 2), (1, 2)]:
        assert _same(reference, generate(**options, seed=5, chunk_size=chunk_size, threads=threads))
    other = generate(**options, seed=6, threads=1)
    assert not np.array_equal(reference.features, other.features)


def test_counts_layout_and_processes():
    table = generate(**SMALL, seed=1)
    assert table.feature_names == FEATURE_NAMES
    assert [len(table.signal(mass=m)) for m in (600.0, 1200.0)] == [300, 300]
    assert len(table.where_process("ttbar")) == 450 and len(table.where_process("wjets")) == 50
    assert table.features.dtype == np.float32 and np.isfinite(table.features).all()
    explicit = generate(**{**SMALL, "n_background": {"wjets": 70}}, seed=1)
    assert list(explicit.processes(label=0)) == ["wjets"] and len(explicit.background()) == 70


def test_iter_generate_yields_the_samples_of_generate():
    tables = list(iter_generate(**SMALL, seed=2))
    assert len(tables) == 4
    whole = generate(**SMALL, seed=2)
    assert np.array_equal(np.concatenate([t.features for t in tables]), whole.features)


def test_background_masses_follow_the_signal_counts():
    table = generate(
        masses=(500.0, 1000.0),
        n_signal_per_mass={500.0: 900, 1000.0: 100},
        n_background=4000,
        seed=3,
    )
    background_mass = table.background().mass
    assert set(np.unique(background_mass)) == {500.0, 1000.0}
    assert np.mean(background_mass == 500.0) == pytest.approx(0.9, abs=0.03)
    uniform = generate(**SMALL, background_mass="uniform", seed=3).background().mass
    assert uniform.min() >= 600 and uniform.max() <= 1200 and len(np.unique(uniform)) > 100


def test_weights_are_cross_section_times_luminosity_over_generated_events():
    n = 200
    table = generate(masses=(800.0,), n_signal_per_mass=n, n_background=n, seed=4, luminosity=10.0)
    options = validate(
        **{
            **dict(masses=(800.0,), n_signal_per_mass=n, n_background=n, seed=4),
            "background_mass": "identical",
            "width_fraction": WIDTH_FRACTION,  # generate's default, as in `table`
            "spin": 2,
            "btag_efficiency": (0.70, 0.12, 0.01),
            "luminosity": 10.0,
            "chunk_size": BLOCK_SIZE,
            "threads": 1,
            "raw": False,
            "progress": False,
        }
    )
    for name, mass in [("signal", 800.0), ("ttbar", 0.0)]:
        count = len(table.where_process(name))
        positions = _block(options, name, mass, 0, _Workspace.create())[1]
        n_generated = int(positions[count - 1]) + 1  # the block holds enough events
        sigma_fb = 1000.0 * PROCESSES[name].cross_section(800.0)
        weights = table.where_process(name).weight
        assert np.allclose(weights, sigma_fb * 10.0 / n_generated, rtol=1e-6)
    doubled = generate(
        masses=(800.0,), n_signal_per_mass=n, n_background=n, seed=4, luminosity=20.0
    )
    assert np.allclose(doubled.weight, 2 * table.weight, rtol=1e-6)


def test_raw_and_standardised_agree():
    raw = generate_raw(**SMALL, seed=8)
    standard = generate(**SMALL, seed=8)
    assert np.allclose(standardise(raw.features), standard.features, atol=1e-4)
    assert np.allclose(destandardise(standard.features), raw.features, rtol=1e-4, atol=1e-3)


def test_presets():
    full = preset_sizes("hepmass")
    total = sum(full["n_signal_per_mass"].values()) + full["n_background"]
    assert total == 10_500_000
    imb = preset_sizes("hepmass-imb", fraction=0.1)
    assert list(imb["n_signal_per_mass"].values()) == [35_000, 14_000, 3_500, 700, 140]
    assert imb["n_background"] == 525_000
    with pytest.raises(ConfigError, match="preset"):
        preset_sizes("hepmass-2")


def test_training_sizes_are_the_published_training_files():
    hepmass = training_sizes("hepmass")
    assert set(hepmass["n_signal_per_mass"].values()) == {700_000}
    assert hepmass["n_background"] == 3_500_000  # 7M training events, as HEPMASS's file
    # HEPMASS-IMB's signal is a training sample: the published runs trained on all of it
    imb = training_sizes("hepmass-imb", fraction=0.1)
    assert list(imb["n_signal_per_mass"].values()) == [35_000, 14_000, 3_500, 700, 140]
    assert imb["n_background"] == 350_000
    with pytest.raises(ConfigError, match="fraction"):
        training_sizes("hepmass-imb", fraction=0.0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"masses": (345.0,)}, "option masses.*threshold"),
        ({"masses": (300.0, 500.0)}, "option masses"),
        ({"masses": ()}, "option masses"),
        ({"masses": (500.0, 500.0)}, "duplicates"),
        ({"n_signal_per_mass": 0}, "option n_signal_per_mass"),
        ({"n_signal_per_mass": {500.0: 10}}, "option n_signal_per_mass"),
        ({"n_background": -3}, "option n_background"),
        ({"n_background": {"qcd": 10}}, "unknown background process"),
        ({"background_mass": "random"}, "option background_mass"),
        ({"width_fraction": 0.0}, "option width_fraction"),
        ({"spin": 1}, "option spin"),
        ({"spin": True}, "option spin"),
        ({"spin": 2.0}, "option spin"),
        ({"spin": "2"}, "option spin"),
        ({"luminosity": -1.0}, "option luminosity"),
        ({"seed": -1}, "option seed"),
        ({"chunk_size": 0}, "option chunk_size"),
        ({"btag_efficiency": (0.7, 0.1)}, "option btag_efficiency"),
        ({"btag_efficiency": (0.7, 0.1, -0.01)}, "option btag_efficiency"),
        ({"btag_efficiency": ("high", 0.1, 0.01)}, "option btag_efficiency"),
        ({"btag_efficiency": 0.7}, "option btag_efficiency"),
        ({"btag_efficiency": "100"}, "option btag_efficiency"),
        ({"btag_efficiency": (True, 0.1, 0.01)}, "option btag_efficiency"),
        ({"btag_efficiency": {"b": 0.7, "c": 0.1, "light": 0.01}}, "option btag_efficiency"),
    ],
)
def test_bad_options_raise_config_error(options, message):
    with pytest.raises(ConfigError, match=message):
        generate(**{**SMALL, **options})


def test_unknown_option_is_named():
    with pytest.raises(ConfigError, match="n_signals"):
        iter_generate(n_signals=5)


def test_btag_efficiency_is_the_tag_probability_of_each_flavour():
    tags, eta = [9, 13, 17, 21], [7, 11, 15, 19]
    default = generate_raw(**SMALL, seed=6)
    explicit = generate_raw(**SMALL, seed=6, btag_efficiency=(0.70, 0.12, 0.01))
    assert np.array_equal(default.features, explicit.features)  # the default working point
    every = generate_raw(**SMALL, seed=6, btag_efficiency=(1.0, 1.0, 1.0)).features
    central = np.abs(every[:, eta]) < 2.5
    assert np.mean(every[:, tags] == central) > 0.999  # within the tracker: every jet
    assert (
        not generate_raw(**SMALL, seed=6, btag_efficiency=(0.0, 0.0, 0.0)).features[:, tags].any()
    )
    only_b = generate_raw(**SMALL, seed=6, btag_efficiency=(1.0, 0.0, 0.0)).features[:, tags]
    assert 1.2 < only_b.sum(axis=1).mean() < 2.0  # the b jets among the four leading
    only_c = generate_raw(**SMALL, seed=6, btag_efficiency=(0.0, 1.0, 0.0)).features[:, tags]
    light = generate_raw(**SMALL, seed=6, btag_efficiency=(0.0, 0.0, 1.0)).features[:, tags]
    # c jets come from W → cs (and W+jets); most of the rest are light
    assert 0.2 < only_c.sum(axis=1).mean() < 0.6 < 1.5 < light.sum(axis=1).mean()
    looser = generate_raw(**SMALL, seed=6, btag_efficiency=(0.85, 0.33, 0.03)).features[:, tags]
    assert looser.mean() > default.features[:, tags].mean() + 0.05


def test_simulate_needs_three_tag_probabilities():
    from hep_pnn.data.generator.detector import simulate

    rng = np.random.default_rng(1)
    partons = PROCESSES["ttbar"].partons(rng, 100, 0.0, 0.0)
    with pytest.raises(ValueError, match="three probabilities"):
        simulate(partons, rng, btag_efficiency=(0.7, 0.1))
