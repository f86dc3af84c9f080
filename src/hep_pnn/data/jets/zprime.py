"""Boosted top jets from Z′ → tt̄ at several Z′ masses, and QCD jets at the same boosts.

The data of the parametric constituent tagger: jets labelled 1 (top) or 0 (QCD) and a
jet-level column :data:`MASS_COLUMN` holding the Z′ mass — the one the top came from, or,
for a QCD jet, the mass hypothesis whose pT window it was generated in.

Signal: ``NewGaugeBoson:ffbar2gmZZprime`` with only the Z′ (``Zprime:gmZmode = 3``, no γ*/Z
interference), Z′ → tt̄ only, both W → quarks; Pythia's default Z′ couplings (width ≈ 3 % of
the mass). Background: QCD 2 → 2 (``HardQCD:all``) with p̂T in the same window.

**The pT window.** Tops from a Z′ of mass m have transverse momenta up to ≈ m/2 (the
Jacobian peak), so each mass gets its own window, :func:`pt_window`:
0.35 m < pT < 0.55 m. A fixed window would leave little signal at most masses and let a
tagger separate the masses by pT alone; a window per mass keeps top against QCD at the
same boost, where the Z′ mass changes the substructure (the top's decay products lie
within ΔR ≈ 2 m_t / pT, narrower as m grows). QCD jets are generated in the window of
every mass and carry that mass as their hypothesis, the way the pNN's background gets
the mass of the signal it is compared with (Baldi et al., arXiv:1601.07913).

Jets otherwise as for top tagging (:mod:`hep_pnn.data.jets.generate`): anti-kT R = 0.8,
abs(η) < 2, top jets matched to a hadronic top within ΔR < 0.8 (with its b and W quarks).

References:
    Baldi, Cranmer, Faucett, Sadowski, Whiteson, arXiv:1601.07913 (pNN, mass hypotheses);
    Kasieczka et al., arXiv:1902.09914 (jets, matching); Bierlich et al., arXiv:2203.11601
    (Pythia 8.3).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hep_pnn.data.jets.generate import JET_PROCESSES, JetProcess, generate_jets
from hep_pnn.data.jets.sample import JetSample
from hep_pnn.errors import ConfigError

__all__ = [
    "MASS_COLUMN",
    "PT_WINDOW",
    "generate_zprime_tagging",
    "generate_zprime_tagging_file",
    "pt_window",
    "zprime_processes",
]

MASS_COLUMN = "zprime_mass"
"""Jet-level column with the Z′ mass (GeV): ``data.parameter`` of a parametric tagger."""

PT_WINDOW = (0.35, 0.55)
"""Jet pT window as fractions of the Z′ mass."""

_ZPRIME_SETTINGS = (
    "NewGaugeBoson:ffbar2gmZZprime = on",
    "Zprime:gmZmode = 3",
    "32:onMode = off",
    "32:onIfAny = 6",
    "24:onMode = off",
    "24:onIfAny = 1 2 3 4 5",
)
_SEED_CODES = {"zprime": 101, "qcd": 102}


def pt_window(mass: float) -> tuple[float, float]:
    """The jet pT window (GeV) of Z′ mass ``mass``: 0.35 m < pT < 0.55 m.

    Example:
        >>> pt_window(2000.0)
        (700.0, 1100.0)
    """
    return (round(PT_WINDOW[0] * mass, 6), round(PT_WINDOW[1] * mass, 6))


def _check_masses(masses: Sequence[float]) -> list[float]:
    values = [float(m) for m in masses]
    if not values or len(set(values)) != len(values):
        raise ConfigError(
            f"Z′ masses {values}: need at least one, no repeats",
            where="masses (--masses)",
            fix="e.g. --masses 1000,1500,2000",
        )
    for mass in values:
        if not 400.0 <= mass <= 6000.0 or mass != round(mass):
            raise ConfigError(
                f"Z′ mass {mass:g} GeV outside 400 … 6000 or not whole",
                where="masses (--masses)",
                fix="whole masses in GeV between 400 and 6000, e.g. 1000,1500,2000",
            )
    return values


def zprime_processes(mass: float) -> tuple[JetProcess, JetProcess]:
    """The Z′ → tt̄ signal and the QCD background of Z′ mass ``mass`` (its pT window).

    Example:
        >>> signal, qcd = zprime_processes(1500.0)
        >>> signal.pt_range, signal.pt_hat, qcd.pt_hat, dict(qcd.columns)
        ((525.0, 825.0), False, True, {'zprime_mass': 1500.0})
    """
    window = pt_window(mass)
    column = ((MASS_COLUMN, float(mass)),)
    signal = JetProcess(
        "zprime",
        (*_ZPRIME_SETTINGS, f"32:m0 = {mass:g}"),
        window,
        signal=True,
        pt_hat=False,
        columns=column,
        seed_key=(_SEED_CODES["zprime"], int(mass)),
    )
    qcd = JetProcess(
        "qcd",
        JET_PROCESSES["qcd"],
        window,
        signal=False,
        columns=column,
        seed_key=(_SEED_CODES["qcd"], int(mass)),
    )
    return signal, qcd


def generate_zprime_tagging(
    masses: Sequence[float],
    *,
    n_signal: int,
    n_qcd: int,
    seed: int = 0,
    mpi: bool = True,
    workers: int | None = None,
    chunk_events: int = 300,
    progress: bool = False,
) -> JetSample:
    """``n_signal`` top jets of Z′ → tt̄ and ``n_qcd`` QCD jets at each Z′ mass of ``masses``.

    Jets come mass by mass (signal, then QCD); ``features["zprime_mass"]`` holds the mass.
    Options as for :func:`~hep_pnn.data.jets.generate.generate_top_tagging`; a mass's
    chunks are seeded from ``(seed, process, mass, chunk)``, so adding a mass to the list
    leaves the jets of the others unchanged.

    Example:
        >>> jets = generate_zprime_tagging([1000, 2000], n_signal=5, n_qcd=5)  # doctest: +SKIP
        >>> jets.features["zprime_mass"].unique().tolist()  # doctest: +SKIP
        [1000.0, 2000.0]
    """
    values = _check_masses(masses)
    for name, count in (("n_signal (--signal)", n_signal), ("n_qcd (--background)", n_qcd)):
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ConfigError(f"{count!r} jets is not a count", where=name, fix="e.g. 1000")
    requests = []
    for mass in values:
        signal, qcd = zprime_processes(mass)
        requests += [(signal, n_signal), (qcd, n_qcd)]
    return generate_jets(
        requests,
        seed=seed,
        mpi=mpi,
        workers=workers,
        chunk_events=chunk_events,
        progress=progress,
        where="generate_zprime_tagging",
    )


def generate_zprime_tagging_file(
    output: str | os.PathLike[str],
    *,
    masses: Sequence[float],
    n_signal: int,
    n_qcd: int,
    overwrite: bool = False,
    **options: Any,
) -> tuple[JetSample, Path]:
    """Generate Z′ and QCD jets (:func:`generate_zprime_tagging`) and write them to Parquet
    with the column ``zprime_mass``; the output is checked before generating."""
    from hep_pnn.data.jets.generate import check_jet_output
    from hep_pnn.data.jets.layout import write_jets_parquet

    path = check_jet_output(output, overwrite=overwrite)
    _check_masses(masses)
    jets = generate_zprime_tagging(masses, n_signal=n_signal, n_qcd=n_qcd, **options)
    return jets, write_jets_parquet(jets, path, overwrite=overwrite)
