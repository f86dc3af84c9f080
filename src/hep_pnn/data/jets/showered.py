"""HEPMASS-like ℓ + jets events from Pythia 8 and FastJet: a showered, hadronised
counterpart of the parametric generator, to check what the parton shower changes.

The parametric generator (:mod:`hep_pnn.data.generator`) has no parton shower: a top's
decay quarks become one jet each, and extra jets are drawn as initial-state radiation.
This module makes the same HEPMASS events from full Pythia 8 events — parton showers,
multi-parton interactions and hadronisation on, √s = 13 TeV by default like the generator — with
everything after the particle level taken from hep-pnn's generator, so that apart from
the jets' directions and masses (set by the shower) only the physics before the detector
differs:

- *Processes*: ``"ttbar"`` (``Top:gg2ttbar``, ``Top:qqbar2ttbar``) and ``"signal"``, an
  X → tt̄ from gluon fusion with Γ/m = 5 % truncated at ±10 Γ, as the generator's: spin 2
  by default (``spin=2``: Pythia's Randall–Sundrum graviton ``ExtraDimensionsG*:gg2G*``,
  whose decay angle follows 1 − cos⁴θ) or spin 0 (``spin=0``: ``HiggsBSM:gg2H2``). W
  decays restricted to e ν, μ ν and the hadronic channels with a u, d, s or c quark;
  events without exactly one isolated lepton are dropped.
- *Lepton*: final-state e or μ with pT ≥ 10 GeV and abs(η) ≤ 2.5, isolated when the
  visible particles above 0.5 GeV within ΔR < 0.5 carry less than 10 % of its pT (Delphes
  3's method with one threshold for both flavours; its ATLAS card has 12 % for electrons
  and 25 % for muons); its energy smeared with the generator's lepton resolution.
- *Jets*: anti-kT (R = 0.4 by default) on every visible final-state particle within
  abs(η) < 4.9 but the isolated lepton, above 15 GeV; the jet four-momentum scaled by the
  generator's jet energy resolution (not its 0.02 angular smearing: the shower gives the
  jets their directions and masses). Flavour: b (c) if a b (c) quark of the event record
  above 5 GeV lies within ΔR < R; b-tagged with the generator's efficiencies.
- *MET*: minus the visible particles' transverse momentum, with the jets' and lepton's
  mismeasurement and the generator's soft term.
- *Selection and features*: the generator's (exactly one lepton, ≥ 4 jets of pT ≥ 20 GeV
  within abs(η) ≤ 3), reconstruction (:func:`~hep_pnn.data.generator.reconstruction.raw_features`)
  and standardisation constants.

About 80 generated events per second per core (AMD EPYC); 18–21 % pass the selection.
The realism check that uses it: ``benchmarks/realism_showered.py`` (docs/generator.md).

Imports Pythia 8 and FastJet (GPL) only inside the functions that run them, like
:mod:`hep_pnn.data.jets.generate`.

References:
    Bierlich et al., "A comprehensive guide to the physics and usage of PYTHIA 8.3",
    arXiv:2203.11601; Cacciari, Salam & Soyez, "FastJet user manual", arXiv:1111.6097;
    de Favereau et al., "DELPHES 3", arXiv:1307.6346 (lepton isolation);
    Baldi et al., arXiv:1601.07913 (HEPMASS).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from hep_pnn.data.features import FEATURE_NAMES
from hep_pnn.data.generator import detector
from hep_pnn.data.generator.detector import DetectorEvent
from hep_pnn.data.generator.processes import BOTTOM, CHARM, TTBAR_THRESHOLD, WIDTH_FRACTION
from hep_pnn.data.generator.production import is_signal_spin
from hep_pnn.data.generator.reconstruction import raw_features
from hep_pnn.data.generator.standardise import standardise
from hep_pnn.data.jets._events import delta_r, fastjet_inputs, pt_eta_phi, visible_final
from hep_pnn.data.jets.generate import (
    _missing_extra,
    _quiet_stdout,
    _require_extras,
    pythia_events,
    pythia_seed,
)
from hep_pnn.data.table import EventTable
from hep_pnn.errors import ConfigError

__all__ = [
    "SHOWERED_PROCESSES",
    "SIGNAL_MODELS",
    "pythia_settings",
    "showered_events",
    "showered_table",
]

SHOWERED_PROCESSES = ("ttbar", "signal")
"""Process names, also the ``process_names`` of :func:`showered_table`'s table."""

SQRT_S = 13_000.0
"""Default centre-of-mass energy, GeV: the parametric generator's."""
_COMMON = (
    "Print:quiet = on",
    "Next:numberCount = 0",
    "24:onMode = off",
    "24:onIfAny = 1 2 3 4 11 13",
)
LEPTON_CANDIDATE_PT = 10.0
ISOLATION_RADIUS, ISOLATION_PT_MIN, ISOLATION_RATIO = 0.5, 0.5, 0.1
JET_INPUT_PT = 15.0
FLAVOUR_QUARK_PT = 5.0
_Measured = tuple[np.ndarray, np.ndarray, list[bool], int, np.ndarray]
"""One selected event: lepton, the four leading jets, their b-tags, the jet count, MET."""
_TAG_EFFICIENCY = {5: detector.BTAG_EFFICIENCY[BOTTOM], 4: detector.BTAG_EFFICIENCY[CHARM]}


#: The X of each spin: Pythia's process switches and the X's particle code.
SIGNAL_MODELS: dict[int, tuple[tuple[str, ...], int]] = {
    0: (("Higgs:useBSM = on", "HiggsBSM:gg2H2 = on"), 35),
    2: (("ExtraDimensionsG*:gg2G* = on",), 5100039),
}


def _process_settings(process: str, mass: float | None, spin: int) -> list[str]:
    if process == "ttbar":
        return ["Top:gg2ttbar = on", "Top:qqbar2ttbar = on"]
    assert mass is not None
    width = WIDTH_FRACTION * mass
    switches, code = SIGNAL_MODELS[int(spin)]
    return [
        *switches,
        f"{code}:m0 = {mass:g}",
        f"{code}:mWidth = {width:g}",
        f"{code}:doForceWidth = on",
        f"{code}:mMin = {mass - 10 * width:g}",
        f"{code}:mMax = {mass + 10 * width:g}",
        f"{code}:onMode = off",
        f"{code}:onIfMatch = 6 -6",
    ]


def pythia_settings(
    process: str,
    mass: float | None,
    *,
    seed: int,
    spin: int = 2,
    sqrt_s: float = SQRT_S,
    mpi: bool = True,
    settings: Sequence[str] = (),
) -> list[str]:
    """Pythia's settings for ``process`` (``"ttbar"``, or ``"signal"`` at ``mass`` GeV with
    ``spin``) as :func:`showered_events` runs it: leptonic and hadronic W decays, the beam
    energy, Pythia's random seed, multi-parton interactions, then ``settings``."""
    return [
        *_COMMON,
        f"Beams:eCM = {sqrt_s:.10g}",
        "Random:setSeed = on",
        f"Random:seed = {seed}",
        f"PartonLevel:MPI = {'on' if mpi else 'off'}",
        *_process_settings(process, mass, spin),
        *settings,
    ]


def _check_energy(sqrt_s: float, masses: Sequence[float], process: str, where: str) -> None:
    if not sqrt_s > max(*masses, TTBAR_THRESHOLD):
        raise ConfigError(
            f"sqrt_s = {sqrt_s:.10g} GeV cannot produce {process}"
            + (f" at {max(masses):g} GeV" if max(masses) > 0 else ""),
            where=where,
            fix="give sqrt_s (GeV) above the tt̄ threshold and the X mass, e.g. 8000 or 13000",
        )


def _check_spin(spin: int, where: str) -> None:
    if not is_signal_spin(spin):
        raise ConfigError(
            f"no signal model of spin {spin!r}",
            where=where,
            fix=f"give spin as one of {', '.join(map(str, SIGNAL_MODELS))}",
        )


def _with_pt_eta_phi(particles: Any) -> Any:
    import awkward as ak

    pt, eta, phi = pt_eta_phi(particles.p)
    return ak.with_field(ak.with_field(ak.with_field(particles, pt, "pt"), eta, "eta"), phi, "phi")


def _isolated_leptons(visible: Any) -> Any:
    """Per event, the local indices (in ``visible``) of the isolated e and μ candidates."""
    import awkward as ak

    kind = abs(visible.id)
    candidate = ((kind == 11) | (kind == 13)) & (visible.pt >= LEPTON_CANDIDATE_PT)
    candidate = candidate & (abs(visible.eta) <= detector.LEPTON_ETA_MAX)
    leptons = visible[candidate]
    others = visible[visible.pt > ISOLATION_PT_MIN]
    pairs = ak.cartesian([leptons, others], nested=True)
    near = delta_r(pairs["0"].eta, pairs["0"].phi, pairs["1"].eta, pairs["1"].phi)
    around = ak.sum(ak.where(near < ISOLATION_RADIUS, pairs["1"].pt, 0.0), axis=2) - leptons.pt
    return ak.local_index(visible)[candidate][around < ISOLATION_RATIO * leptons.pt]


def _measure(
    rng: np.random.Generator, lepton: Any, jets: Any, quarks: Any, visible_sum: Any, radius: float
) -> _Measured | None:
    """One event through the generator's detector: ``(lepton, jets 4×4, btag, n_jets, met)``
    of the selected event, or None."""
    true_l = np.array([lepton["px"], lepton["py"], lepton["pz"], lepton["e"]])
    true_pt = np.hypot(true_l[0], true_l[1])
    linear = detector.LEPTON_LINEAR * true_pt
    measured_l = true_l * (1 + np.hypot(detector.LEPTON_STOCHASTIC, linear) * rng.standard_normal())
    lepton_pt = np.hypot(measured_l[0], measured_l[1])
    if lepton_pt < detector.LEPTON_PT_MIN or abs(measured_l[2]) > lepton_pt * np.sinh(
        detector.LEPTON_ETA_MAX
    ):
        return None
    shift = measured_l[:2] - true_l[:2]
    sum_et = lepton_pt
    selected = []
    for px, py, pz, energy in jets:
        pt = np.hypot(px, py)
        sigma = np.sqrt(
            (detector.JET_NOISE / pt) ** 2
            + detector.JET_STOCHASTIC**2 / pt
            + detector.JET_CONSTANT**2
        )
        response = max(1 + sigma * rng.standard_normal(), 0.0)
        jet = np.array([px, py, pz, energy]) * response
        shift += jet[:2] - (px, py)
        sum_et += pt * response
        eta, phi = np.arcsinh(pz / pt), np.arctan2(py, px)
        if pt * response < detector.JET_PT_MIN or abs(eta) > detector.JET_ETA_MAX:
            continue
        flavour = max(
            (abs(q[0]) for q in quarks if delta_r(eta, phi, q[1], q[2]) < radius), default=0
        )
        efficiency = _TAG_EFFICIENCY.get(flavour, detector.BTAG_LIGHT_MISTAG)
        tagged = rng.random() < efficiency and abs(eta) < detector.BTAG_ETA
        selected.append((pt * response, jet, tagged))
    if len(selected) < detector.N_JETS_MIN:
        return None
    selected.sort(key=lambda item: -item[0])
    soft = detector.SOFT_MET_RESOLUTION * np.sqrt(sum_et) * rng.standard_normal(2)
    met = -(np.asarray(visible_sum) + shift) + soft
    four = np.stack([jet for _, jet, _ in selected[:4]])
    return measured_l, four, [tag for _, _, tag in selected[:4]], len(selected), met


def _chunk(
    process: str,
    mass: float | None,
    n_generated: int,
    seed: Sequence[int],
    radius: float,
    mpi: bool,
    sqrt_s: float,
    spin: int,
    settings: Sequence[str],
) -> tuple[list[_Measured], np.ndarray]:
    """Generate ``n_generated`` Pythia events: the selected ones, measured, and which of the
    generated events they are (worker process)."""
    import awkward as ak

    try:
        import fastjet
    except ImportError:
        raise _missing_extra("fastjet") from None
    sequence = np.random.SeedSequence(seed)
    config = pythia_settings(
        process,
        mass,
        seed=pythia_seed(sequence),
        spin=spin,
        sqrt_s=sqrt_s,
        mpi=mpi,
        settings=settings,
    )
    failure = ConfigError(
        f"Pythia failed to initialise {process} (mass {mass})",
        where="showered_events",
        fix="give a signal mass above the tt̄ threshold, 2 m_t = 345 GeV",
    )
    rng = np.random.default_rng(sequence.spawn(1)[0])
    particles = pythia_events(config, n_generated, failure=failure)
    visible = _with_pt_eta_phi(visible_final(particles))
    visible = visible[abs(visible.eta) < detector.CALORIMETER_ETA]
    isolated = _isolated_leptons(visible)
    one = ak.to_numpy(ak.num(isolated) == 1)
    lepton_index = ak.fill_none(ak.firsts(isolated), -1)
    inputs = visible[ak.local_index(visible) != lepton_index]
    momenta = fastjet_inputs(inputs)
    with _quiet_stdout():
        definition = fastjet.JetDefinition(fastjet.antikt_algorithm, radius)
        jets = fastjet.ClusterSequence(momenta, definition).inclusive_jets(min_pt=JET_INPUT_PT)
    heavy = _with_pt_eta_phi(particles[(abs(particles.id) == 4) | (abs(particles.id) == 5)])
    heavy = heavy[heavy.pt > FLAVOUR_QUARK_PT]
    jet_lists = ak.to_list(ak.zip([jets.px, jets.py, jets.pz, jets.E]))
    quark_lists = ak.to_list(ak.zip([heavy.id, heavy.eta, heavy.phi]))
    leptons = ak.to_list(ak.firsts(visible[isolated].p))
    visible_sum = np.stack([ak.to_numpy(ak.sum(visible.p[c], axis=1)) for c in ("px", "py")], 1)
    events = []
    selected = np.zeros(len(particles), np.bool_)
    for i in np.flatnonzero(one):
        event = _measure(rng, leptons[i], jet_lists[i], quark_lists[i], visible_sum[i], radius)
        if event is not None:
            events.append(event)
            selected[i] = True
    return events, selected


def showered_events(
    process: str,
    *,
    n_generated: int,
    seed: int,
    mass: float | None = None,
    radius: float = 0.4,
    mpi: bool = True,
    sqrt_s: float = SQRT_S,
    spin: int = 2,
    settings: Sequence[str] = (),
    chunk_events: int = 2_000,
    jobs: int = 1,
) -> DetectorEvent:
    """The selected events among ``n_generated`` Pythia events of ``process``.

    Args:
        process: ``"ttbar"`` or ``"signal"`` (then ``mass``, the X mass in GeV, is needed).
        n_generated: Pythia events to generate (18–21 % are selected).
        seed: chunk ``k`` uses ``SeedSequence([seed, process, mass, k])`` for Pythia and
            the detector, so the events do not depend on ``jobs``.
        radius: anti-kT radius.
        mpi: multi-parton interactions on.
        sqrt_s: pp centre-of-mass energy, GeV.
        spin: the signal X's spin, 0 or 2 (:data:`SIGNAL_MODELS`).
        settings: more Pythia settings, read last (e.g. ``"PartonLevel:ISR = off"``).
        chunk_events: events per chunk (one Pythia run each).
        jobs: worker processes.

    Returns:
        A :class:`~hep_pnn.data.generator.detector.DetectorEvent` of the selected events;
        its ``selected`` has one entry per generated event.

    Example (needs the ``jets`` extra; a few seconds):
        >>> event = showered_events("ttbar", n_generated=200, seed=1)  # doctest: +SKIP
        >>> event.jets.shape[1:], len(event.selected)  # doctest: +SKIP
        ((4, 4), 200)
    """
    if process not in SHOWERED_PROCESSES:
        raise ConfigError(
            f"unknown showered process {process!r}",
            where="showered_events",
            fix=f"use one of {', '.join(SHOWERED_PROCESSES)}",
        )
    if (process == "signal") != (mass is not None):
        raise ConfigError(
            "a signal needs a mass, tt̄ takes none",
            where="showered_events",
            fix="pass mass= (GeV) with process='signal' only",
        )
    for name, value in (("n_generated", n_generated), ("chunk_events", chunk_events)):
        if value < 1:
            raise ConfigError(f"{name} must be at least 1, got {value}", where="showered_events")
    if seed < 0 or (mass is not None and not mass > 0):
        raise ConfigError(
            f"seed must be >= 0 and mass > 0, got seed {seed}, mass {mass}",
            where="showered_events",
        )
    _check_energy(sqrt_s, [mass or 0.0], process, "showered_events")
    _check_spin(spin, "showered_events")
    _require_extras()
    key = [SHOWERED_PROCESSES.index(process), round(1000 * (mass or 0.0))]
    sizes = [
        min(chunk_events, n_generated - start) for start in range(0, n_generated, chunk_events)
    ]
    tasks = [
        (process, mass, size, [seed, *key, k], radius, mpi, sqrt_s, spin, tuple(settings))
        for k, size in enumerate(sizes)
    ]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            results = list(pool.map(_chunk_task, tasks))
    else:
        results = [_chunk_task(task) for task in tasks]
    events = [event for chunk, _ in results for event in chunk]
    n = len(events)
    return DetectorEvent(
        np.array([e[0] for e in events], np.float32).reshape(n, 4),
        np.array([e[1] for e in events], np.float32).reshape(n, 4, 4),
        np.array([e[2] for e in events], np.int8).reshape(n, 4),
        np.array([e[3] for e in events], np.int64),
        np.array([e[4] for e in events], np.float32).reshape(n, 2),
        np.concatenate([selected for _, selected in results]),
    )


def _chunk_task(task: tuple[Any, ...]) -> tuple[list[_Measured], np.ndarray]:
    return _chunk(*task)


def showered_table(
    *,
    masses: Sequence[float],
    n_generated_signal: int,
    n_generated_background: int,
    seed: int,
    radius: float = 0.4,
    mpi: bool = True,
    sqrt_s: float = SQRT_S,
    spin: int = 2,
    settings: Sequence[str] = (),
    jobs: int = 1,
) -> EventTable:
    """Showered tt̄ and X → tt̄ at each mass, as a standardised HEPMASS-like table.

    Each background row carries a mass drawn uniformly from ``masses`` (HEPMASS's
    convention; seeded by ``seed``); weights are 1. The other options are
    :func:`showered_events`'s.

    Example (needs the ``jets`` extra; about 10 s):
        >>> table = showered_table(masses=[500.0], n_generated_signal=500,
        ...                        n_generated_background=500, seed=1)  # doctest: +SKIP
        >>> table.process_names  # doctest: +SKIP
        ('signal', 'ttbar')
    """
    if not masses:
        raise ConfigError(
            "no signal mass", where="showered_table", fix="give at least one mass (GeV)"
        )
    _check_energy(sqrt_s, masses, "the signal", "showered_table")
    _check_spin(spin, "showered_table")
    samples: list[tuple[str, float | None, int]] = [("ttbar", None, n_generated_background)]
    samples += [("signal", float(m), n_generated_signal) for m in masses]
    parts = []
    for process, mass, n_generated in samples:
        event = showered_events(
            process,
            n_generated=n_generated,
            seed=seed,
            mass=mass,
            radius=radius,
            mpi=mpi,
            sqrt_s=sqrt_s,
            spin=spin,
            settings=settings,
            jobs=jobs,
        )
        parts.append((process, mass, standardise(raw_features(event))))
    counts = [len(features) for _, _, features in parts]
    # one past the last process index: never the start of a chunk's seed words
    rng = np.random.default_rng(np.random.SeedSequence([seed, len(SHOWERED_PROCESSES)]))
    background_mass = rng.choice(np.asarray(masses, np.float64), size=counts[0])
    return EventTable.from_arrays(
        np.concatenate([features for _, _, features in parts]),
        label=np.repeat([int(p == "signal") for p, _, _ in parts], counts),
        mass=np.concatenate([background_mass, np.repeat([m for _, m, _ in parts[1:]], counts[1:])]),
        process=np.repeat([p for p, _, _ in parts], counts),
        feature_names=FEATURE_NAMES,
    )
