"""Jets: the Pythia 8 + FastJet generator, the readers, N-subjettiness and the sanity plots.

One small sample is generated per module (Pythia's start-up costs seconds); MPI is off to
keep it fast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pythia8mc")
pytest.importorskip("fastjet")

from hep_pnn.cli import main
from hep_pnn.data.jets.generate import concatenate_jets, generate_top_tagging
from hep_pnn.data.jets.layout import constituent_columns, write_jets_parquet
from hep_pnn.data.jets.reader import load_jets
from hep_pnn.data.jets.sample import JET_FEATURES, MAX_CONSTITUENTS, JetSample
from hep_pnn.data.jets.substructure import (
    exclusive_kt_subjets,
    jet_features,
    w_candidate_mass,
)
from hep_pnn.errors import DataError, OutputExistsError, PNNError

N_JETS = 40
CHUNK = 20
SEED = 11


@pytest.fixture(scope="module")
def jets() -> JetSample:
    return generate_top_tagging(N_JETS, N_JETS, seed=SEED, mpi=False, workers=2, chunk_events=CHUNK)


def _reference_frame(jets: JetSample) -> pd.DataFrame:
    """Jets as the reference files hold them, truth columns included."""
    flat = jets.constituents.reshape(len(jets), -1)
    frame = pd.DataFrame(flat, columns=constituent_columns())
    for name in ("truthE", "truthPX", "truthPY", "truthPZ", "ttv"):
        frame[name] = 0.0
    frame["is_signal_new"] = jets.labels.astype(np.int64)
    return frame


def test_layout_of_generated_jets(jets: JetSample) -> None:
    assert jets.constituents.shape == (2 * N_JETS, MAX_CONSTITUENTS, 4)
    assert jets.constituents.dtype == np.float32
    assert jets.labels.tolist() == [1] * N_JETS + [0] * N_JETS
    assert list(jets.features.columns) == list(JET_FEATURES)
    assert jets.features["n_constituents"].dtype == np.int32
    pt = np.hypot(jets.constituents[..., 1], jets.constituents[..., 2])
    count = jets.features["n_constituents"].to_numpy()
    for row in range(len(jets)):  # sorted by pT, zero rows after the last constituent
        assert np.all(np.diff(pt[row, : count[row]]) <= 1e-3)
        assert np.all(jets.constituents[row, count[row] :] == 0)
        assert np.all(jets.constituents[row, : count[row], 0] > 0)
    features = jets.features
    assert features["jet_pt"].between(540, 660).all()  # cuts on the jet, up to dropped tails
    assert (features["jet_eta"].abs() < 2.05).all()
    px, py = jets.constituents[..., 1:3].sum(axis=1, dtype=np.float64).T
    np.testing.assert_allclose(features["jet_pt"], np.hypot(px, py), rtol=1e-4)


def test_physics_of_top_and_qcd_jets(jets: JetSample) -> None:
    top, qcd = jets.features[jets.labels == 1], jets.features[jets.labels == 0]
    assert 150 < top["jet_mass"].median() < 195  # m_t = 172.5 GeV
    assert qcd["jet_mass"].median() < 120
    assert top["tau32"].mean() < qcd["tau32"].mean() - 0.15
    assert top["n_constituents"].mean() > qcd["n_constituents"].mean()
    w_mass = w_candidate_mass(exclusive_kt_subjets(jets.constituents[jets.labels == 1], 3))
    assert 65 < np.median(w_mass) < 95  # m_W = 80.4 GeV


def test_same_seed_same_jets_whatever_the_workers(jets: JetSample, capfd) -> None:
    # workers=1 runs Pythia and FastJet in this process: the first use here prints nothing
    again = generate_top_tagging(CHUNK, 0, seed=SEED, mpi=False, workers=1, chunk_events=CHUNK)
    np.testing.assert_array_equal(again.constituents, jets.constituents[:CHUNK])
    printed = capfd.readouterr()
    assert "FastJet" not in printed.out + printed.err
    assert "PYTHIA" not in printed.out.upper()


def test_chunks_without_jets_keep_the_dtypes(jets: JetSample) -> None:
    empty = concatenate_jets([])
    assert empty.constituents.shape == (0, MAX_CONSTITUENTS, 4)
    joined = concatenate_jets([empty, jets, empty], limit=3)
    assert len(joined) == 3 and joined.features["n_constituents"].dtype == np.int32


def test_numpy_nsubjettiness_matches_the_fastjet_axes(jets: JetSample) -> None:
    # the generator takes its axes from FastJet, the readers from the numba clustering
    recomputed = jet_features(jets.constituents)
    for name in JET_FEATURES:
        np.testing.assert_allclose(recomputed[name], jets.features[name], rtol=1e-4, atol=1e-5)


def test_parquet_round_trip_and_no_overwrite(jets: JetSample, tmp_path) -> None:
    path = write_jets_parquet(jets, tmp_path / "jets.parquet")
    back = load_jets(path)
    np.testing.assert_array_equal(back.constituents, jets.constituents)
    np.testing.assert_array_equal(back.labels, jets.labels)
    np.testing.assert_allclose(back.features, jets.features, rtol=1e-6)
    assert len(load_jets(path, max_jets=7)) == 7
    with pytest.raises(OutputExistsError):
        write_jets_parquet(jets, path)


@pytest.mark.parametrize("format", ["fixed", "table"])
def test_reads_the_reference_hdf5_layout(jets: JetSample, tmp_path, format: str) -> None:
    pytest.importorskip("tables")
    path = tmp_path / "test.h5"
    _reference_frame(jets).to_hdf(path, key="table", format=format)
    back = load_jets(path)
    np.testing.assert_array_equal(back.constituents, jets.constituents)
    np.testing.assert_array_equal(back.labels, jets.labels)
    np.testing.assert_allclose(back.features["tau32"], jets.features["tau32"], rtol=1e-4)
    assert load_jets(path, max_jets=5).labels.tolist() == [1] * 5


@pytest.mark.parametrize("suffix", [".parquet", ".h5"])
def test_extra_jet_level_columns_are_read_with_the_jets(jets: JetSample, tmp_path, suffix) -> None:
    if suffix == ".h5":
        pytest.importorskip("tables")
    frame = _reference_frame(jets).assign(zprime_mass=np.arange(len(jets)) * 250.0)
    path = tmp_path / f"jets{suffix}"
    frame.to_parquet(path) if suffix == ".parquet" else frame.to_hdf(path, key="table")
    back = load_jets(path, columns=["zprime_mass", "jet_mass"], max_jets=9)
    assert list(back.features.columns) == [*JET_FEATURES, "zprime_mass"]
    assert back.features["zprime_mass"].tolist() == [250.0 * i for i in range(9)]
    assert list(load_jets(path).features.columns) == list(JET_FEATURES)
    with pytest.raises(DataError, match=r"jets\.(parquet|h5): no jet-level column 'signal_mass'"):
        load_jets(path, columns=["signal_mass"])


def test_reference_file_with_fewer_constituent_columns(jets: JetSample, tmp_path) -> None:
    pytest.importorskip("tables")
    frame = _reference_frame(jets)
    frame = frame.drop(columns=constituent_columns()[4 * 30 :])
    frame.to_hdf(tmp_path / "short.h5", key="table")
    back = load_jets(tmp_path / "short.h5")
    np.testing.assert_array_equal(back.constituents[:, :30], jets.constituents[:, :30])
    assert np.all(back.constituents[:, 30:] == 0)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: f.drop(columns="is_signal_new"), "no is_signal_new column"),
        (lambda f: f.assign(PX_3=np.where(f.index == 2, np.nan, f["PX_3"])), "row 2, column PX_3"),
        (lambda f: f.assign(**{c: 0.0 for c in constituent_columns()}), "row 0"),
        (lambda f: f.assign(is_signal_new=2), "label 2 is not 0 or 1"),
        (lambda f: f[["is_signal_new"]], "no constituent columns"),
    ],
)
def test_bad_jet_files_raise_one_error(jets: JetSample, tmp_path, damage, message) -> None:
    path = tmp_path / "bad.parquet"
    damage(_reference_frame(jets)).to_parquet(path)
    with pytest.raises(DataError, match=message):
        load_jets(path)


def test_missing_extra_says_what_to_install(monkeypatch) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "pythia8mc" else find_spec(name, *a),
    )
    with pytest.raises(PNNError, match=r"needs pythia8mc.*pip install hep-pnn\[jets\]"):
        generate_top_tagging(1, 1)


def test_hdf5_files_in_another_layout_raise_one_line(tmp_path) -> None:
    tables = pytest.importorskip("tables")
    with tables.open_file(tmp_path / "raw.h5", "w") as file:
        file.create_array("/", "jets", np.zeros((3, 4)))
    (tmp_path / "text.h5").write_text("not HDF5")
    for name, message in (("raw.h5", "no pandas frame"), ("text.h5", "not an HDF5 file")):
        with pytest.raises(DataError, match=message) as error:
            load_jets(tmp_path / name)
        assert "\n" not in str(error.value)


def test_unknown_suffix_names_the_readers(tmp_path) -> None:
    (tmp_path / "jets.csv").write_text("E_0\n1\n")
    with pytest.raises(DataError, match=r"\.h5.*\.parquet"):
        load_jets(tmp_path / "jets.csv")


def test_cli_generates_top_tagging_jets(tmp_path, capsys) -> None:
    output = tmp_path / "jets.parquet"
    args = ["generate", "--process", "top-tagging", "--signal", "3", "--background", "2"]
    args += ["--no-mpi", "--threads", "1", "--no-progress", "-o", str(output)]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 0
    assert "wrote 5 jets (3 top, 2 QCD)" in capsys.readouterr().out
    assert load_jets(output).labels.tolist() == [1, 1, 1, 0, 0]
    with pytest.raises(SystemExit) as exit_info:
        main(args)  # exists, no --overwrite
    assert exit_info.value.code == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--signal", "-1"], "is not a count"),
        (["--threads", "0"], "workers"),
        (["-o", "jets.csv"], "Parquet"),
    ],
)
def test_cli_bad_options_exit_2(tmp_path, capsys, options, message) -> None:
    args = ["generate", "--process", "top-tagging", "-o", str(tmp_path / "j.parquet"), *options]
    if options[0] == "-o":
        args[-1] = str(tmp_path / options[1])
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_sanity_plots_draw_both_classes(jets: JetSample) -> None:
    from hep_pnn.data.jets.plots import (
        plot_jet_mass,
        plot_multiplicity,
        plot_tau32,
        plot_w_candidate_mass,
    )

    for plot in (plot_jet_mass, plot_w_candidate_mass, plot_tau32, plot_multiplicity):
        ax = plot(jets)
        assert len(ax.patches) == 2  # one step histogram per class
        labels = [text.get_text() for text in ax.get_legend().get_texts()]
        assert f"top jets ({N_JETS})" in labels and f"QCD jets ({N_JETS})" in labels
