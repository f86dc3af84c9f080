"""Z′ → tt̄ top jets and QCD jets per Z′ mass window, and the parametric tagger's data path.

One small sample per module (Pythia's start-up costs a fraction of a second per chunk),
MPI off.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml

pytest.importorskip("pythia8mc")
pytest.importorskip("fastjet")

from hep_pnn.cli import main
from hep_pnn.data.jets.layout import write_jets_parquet
from hep_pnn.data.jets.reader import load_jets
from hep_pnn.data.jets.sample import JetSample
from hep_pnn.data.jets.zprime import MASS_COLUMN, generate_zprime_tagging, pt_window
from hep_pnn.errors import ConfigError
from hep_pnn.evaluation.jet_runs import score_jets
from hep_pnn.models.jets import build_tagger
from hep_pnn.training import load_experiment
from hep_pnn.training.jet_data import load_labelled_jets

MASSES = (1000.0, 2000.0)
N_JETS = 24
SEED = 5


@pytest.fixture(scope="module")
def jets() -> JetSample:
    return generate_zprime_tagging(
        MASSES, n_signal=N_JETS, n_qcd=N_JETS, seed=SEED, mpi=False, workers=1, chunk_events=40
    )


def test_each_mass_has_top_and_qcd_jets_in_its_pt_window(jets: JetSample) -> None:
    features = jets.features
    assert len(jets) == 2 * N_JETS * len(MASSES)
    blocks = np.repeat(np.arange(2 * len(MASSES)), N_JETS)
    assert (jets.labels == (blocks % 2 == 0)).all()  # per mass: signal, then QCD
    assert (features[MASS_COLUMN].to_numpy() == np.repeat(MASSES, 2 * N_JETS)).all()
    for mass in MASSES:
        low, high = pt_window(mass)
        here = features[MASS_COLUMN] == mass
        # pT of the kept constituents: the jet's, up to constituents beyond the 200 kept
        assert features.loc[here, "jet_pt"].between(0.98 * low, high).all()
        top, qcd = here & (jets.labels == 1), here & (jets.labels == 0)
        assert 150 < features.loc[top, "jet_mass"].median() < 210  # the top-quark peak
        assert features.loc[qcd, "jet_mass"].median() < 130
        assert features.loc[top, "tau32"].median() < features.loc[qcd, "tau32"].median()


def test_a_mass_gives_the_same_jets_alone_and_in_a_list(jets: JetSample) -> None:
    alone = generate_zprime_tagging(
        [2000.0], n_signal=4, n_qcd=0, seed=SEED, mpi=False, workers=1, chunk_events=40
    )
    first = np.flatnonzero(jets.features[MASS_COLUMN].to_numpy() == 2000.0)[:4]
    np.testing.assert_array_equal(alone.constituents, jets.constituents[first])


def test_background_keeps_its_mass_in_training_and_evaluation(jets: JetSample, tmp_path) -> None:
    write_jets_parquet(jets, tmp_path / "jets.parquet")
    assert load_jets(tmp_path / "jets.parquet").labels.tolist() == jets.labels.tolist()
    config = {
        "data": {
            "source": "jets",
            "paths": [str(tmp_path / "jets.parquet")],
            "parameter": MASS_COLUMN,
            "signal_parameters": [1000],
        },
        "model": {"preset": "parametric_particlenet", "options": {}},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    data = load_experiment(tmp_path / "config.yaml").data
    train = load_labelled_jets(data, test=False)
    assert train.own_background
    # the held-out mass is gone from training, QCD of its window included
    assert set(train.parameter.tolist()) == {1000.0}
    assert np.array_equal(train.parameter, train.jets.features[MASS_COLUMN].to_numpy())
    test = load_labelled_jets(data, test=True)
    assert np.array_equal(test.parameter, test.jets.features[MASS_COLUMN].to_numpy())
    options = {"n_particles": 16, "edge_convs": [{"k": 3, "channels": [4]}], "fc": [4]}
    tagger = build_tagger("parametric_particlenet", options, seed=0)
    metrics, _ = score_jets(tagger, test)
    assert list(metrics.index) == ["parameter 1000", "parameter 2000"]
    for mass in MASSES:  # each mass: its own signal against the QCD of its own window
        here = test.parameter == mass
        row = metrics.loc[f"parameter {mass:g}"]
        assert row["n_signal"] == (here & (test.jets.labels == 1)).sum()
        assert row["n_background"] == (here & (test.jets.labels == 0)).sum()


def test_cli_generates_zprime_jets_and_refuses_bad_masses(tmp_path, capsys) -> None:
    output = tmp_path / "zp.parquet"
    args = ["generate", "--process", "zprime-tagging", "--masses", "1500", "--signal", "2"]
    args += ["--background", "1", "--no-mpi", "--threads", "1", "--no-progress", "-o", output]
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    assert exit_info.value.code == 0
    assert "wrote 3 jets (2 Z′ top, 1 QCD)" in capsys.readouterr().out
    for masses, message in (("1500,1500", "more than once"), ("100", "outside 400")):
        bad = [*map(str, args[:4]), masses, "-o", str(tmp_path / "bad.parquet")]
        with pytest.raises(SystemExit) as exit_info:
            main(bad)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1
    with pytest.raises(ConfigError, match="at least one"):
        generate_zprime_tagging([], n_signal=1, n_qcd=1)
