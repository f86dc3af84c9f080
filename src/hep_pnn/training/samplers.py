"""Vectorised, seeded index sampling: plain shuffled epochs and balanced mini-batches."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from hep_pnn.data.table import EventTable
from hep_pnn.errors import DataError
from hep_pnn.training.background_mass import BackgroundMasses

__all__ = ["EpochPlan", "Population", "balanced_items", "plain_items", "plan_epoch"]


@dataclass(frozen=True)
class Population:
    r"""Training events in groups: one per signal mass, then one per background process.

    Group ``g`` holds ``sizes[g] * copies[g]`` items; item ``u`` is event
    ``members[offsets[g] + u % sizes[g]]`` in copy ``u // sizes[g]`` (copies exist for the
    ``copy`` background-mass strategy: one per signal mass). ``shares[g]`` is the fraction
    of its class's half of a balanced batch that group ``g`` fills (see
    :meth:`with_background_shares`); by default the groups of a class share it equally.

    Example:
        >>> import numpy as np
        >>> t = EventTable.from_arrays(np.zeros((5, 1)), label=[1, 1, 0, 0, 0],
        ...                            mass=[500, 1000, 0, 0, 0], process=["s", "s", "a", "b", "b"])
        >>> p = Population.from_table(t, np.arange(5), background_copies=2)
        >>> p.sizes.tolist(), p.copies.tolist(), p.n_signal_groups
        ([1, 1, 1, 2], [1, 1, 2, 2], 2)
    """

    members: np.ndarray
    sizes: np.ndarray
    copies: np.ndarray
    n_signal_groups: int
    shares: np.ndarray | None = None

    @classmethod
    def from_table(
        cls, table: EventTable, index: np.ndarray, *, background_copies: int = 1
    ) -> Population:
        """Group the events ``index`` of ``table`` by signal mass and background process."""
        index = np.asarray(index, dtype=np.int64)
        signal = table.label[index] == 1
        mass, process = table.mass[index], table.process[index]
        groups = [index[signal & (mass == m)] for m in np.unique(mass[signal])]
        n_signal_groups = len(groups)
        groups += [index[~signal & (process == p)] for p in np.unique(process[~signal])]
        sizes = np.array([len(g) for g in groups], dtype=np.int64)
        copies = np.where(np.arange(len(sizes)) < n_signal_groups, 1, background_copies)
        members = np.concatenate(groups) if groups else index
        return cls(members, sizes, copies.astype(np.int64), n_signal_groups)

    def with_background_shares(self, weight: np.ndarray) -> Population:
        """The same groups, background processes sharing their half of a balanced batch in
        proportion to their total ``weight`` (indexed by event; signal masses stay equal).

        Example:
            >>> import numpy as np
            >>> t = EventTable.from_arrays(np.zeros((5, 1)), label=[1, 0, 0, 0, 0],
            ...                            mass=[500, 0, 0, 0, 0], process=list("sabbb"))
            >>> p = Population.from_table(t, np.arange(5))
            >>> p.with_background_shares(np.array([1.0, 1, 1, 1, 1])).shares.tolist()
            [1.0, 0.25, 0.75]
        """
        totals = np.array([weight[g].sum(dtype=np.float64) for g in self.groups()])
        background = totals[self.n_signal_groups :]
        if len(background) and (background <= 0).any():
            raise DataError(
                "a background process has a total training weight ≤ 0",
                where="training.background_share: weight",
                fix="check the event weights or set training.background_share: equal",
            )
        shares = np.concatenate(
            [
                np.full(self.n_signal_groups, 1 / max(self.n_signal_groups, 1)),
                background / background.sum() if len(background) else background,
            ]
        )
        return replace(self, shares=shares)

    def groups(self) -> list[np.ndarray]:
        """The event indices of every group."""
        return np.split(self.members, np.cumsum(self.sizes)[:-1])

    @property
    def n_items(self) -> int:
        return int((self.sizes * self.copies).sum())

    def resolve(self, group: np.ndarray, item: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Event index and copy number of ``item`` in ``group`` (arrays of equal length)."""
        offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]])
        size = self.sizes[group]
        return self.members[offsets[group] + item % size], item // size


def plain_items(
    population: Population, *, epoch_length: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(group, item) of a shuffled pass over every item, repeated or cut to ``epoch_length``."""
    n_items = population.n_items
    passes = -(-epoch_length // n_items)
    flat = np.concatenate([rng.permutation(n_items) for _ in range(passes)])[:epoch_length]
    ends = np.cumsum(population.sizes * population.copies)
    group = np.searchsorted(ends, flat, side="right")
    return group, flat - (ends - population.sizes * population.copies)[group]


def balanced_items(
    population: Population, *, batch_size: int, epoch_length: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(group, item) of balanced batches drawn with replacement.

    Every batch is half signal and half background; the signal half is split equally across
    signal masses and the background half across background processes by
    ``population.shares`` (equally by default), each group's slots spread evenly over the
    epoch (equal shares: exactly balanced in every batch).
    """
    n_signal = population.n_signal_groups
    n_background = len(population.sizes) - n_signal
    if n_signal == 0 or n_background == 0:
        raise ValueError("balanced batches need signal and background events")
    n_batches = -(-epoch_length // batch_size)
    half = batch_size // 2
    shares = population.shares
    if shares is None:
        shares = np.r_[np.full(n_signal, 1 / n_signal), np.full(n_background, 1 / n_background)]
    signal_slots = _interleaved(shares[:n_signal], n_batches * half)
    background_slots = n_signal + _interleaved(shares[n_signal:], n_batches * (batch_size - half))
    # then each batch is shuffled so a cut last batch stays balanced
    group = rng.permuted(
        np.hstack([signal_slots.reshape(n_batches, -1), background_slots.reshape(n_batches, -1)]),
        axis=1,
    ).reshape(-1)
    group = group[:epoch_length]
    n_items = population.sizes * population.copies
    item = (rng.random(len(group)) * n_items[group]).astype(np.int64)
    return group, np.minimum(item, n_items[group] - 1)


def _interleaved(shares: np.ndarray, n: int) -> np.ndarray:
    """``n`` group numbers, group ``g`` ``≈ shares[g]·n`` times, spread evenly over the run.

    Counts by largest remainder; group ``g``'s ``j``-th slot sits at ``(j + ½)/count[g]`` of
    the run, so every stretch of slots (a batch) holds each group roughly in proportion
    (within one or two slots). Equal shares give the cycle ``0, 1, …, k-1, 0, 1, …``.

    Example:
        >>> _interleaved(np.array([0.5, 0.25, 0.25]), 8).tolist()
        [0, 1, 2, 0, 0, 1, 2, 0]
    """
    exact = shares * n
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    group = np.repeat(np.arange(len(shares)), counts)
    position = (np.concatenate([np.arange(c) for c in counts]) + 0.5) / np.repeat(counts, counts)
    return group[np.argsort(position, kind="stable")]


@dataclass(frozen=True)
class EpochPlan:
    """What one epoch feeds the network, slot by slot (already in batch order)."""

    index: np.ndarray  # int64 event indices into the table
    mass: np.ndarray  # float32 mass fed with each event
    weight_scale: np.ndarray  # float32 factor on each event's weight (1 / copies)


def plan_epoch(
    population: Population,
    *,
    table_mass: np.ndarray,
    background_masses: BackgroundMasses,
    sampler: str,
    batch_size: int,
    epoch_length: int,
    rng: np.random.Generator,
) -> EpochPlan:
    """Draw the events, masses and weight factors of one epoch.

    Example:
        >>> import numpy as np
        >>> from hep_pnn.training.config import BackgroundMassConfig
        >>> t = EventTable.from_arrays(np.zeros((4, 1)), label=[1, 1, 0, 0],
        ...                            mass=[500, 1000, 0, 0])
        >>> bkg = BackgroundMasses(BackgroundMassConfig(strategy="copy"),
        ...                        signal_mass=np.array([500.0, 1000]), n_events=4, seed=0)
        >>> pop = Population.from_table(t, np.arange(4), background_copies=bkg.copies)
        >>> plan = plan_epoch(pop, table_mass=t.mass, background_masses=bkg, sampler="plain",
        ...                   batch_size=2, epoch_length=6, rng=np.random.default_rng(0))
        >>> for row in sorted(zip(plan.index.tolist(), plan.mass.tolist(),
        ...                       plan.weight_scale.tolist())):
        ...     print(row)
        (0, 500.0, 1.0)
        (1, 1000.0, 1.0)
        (2, 500.0, 0.5)
        (2, 1000.0, 0.5)
        (3, 500.0, 0.5)
        (3, 1000.0, 0.5)
    """
    if sampler == "balanced":
        group, item = balanced_items(
            population, batch_size=batch_size, epoch_length=epoch_length, rng=rng
        )
    else:
        group, item = plain_items(population, epoch_length=epoch_length, rng=rng)
    event, copy = population.resolve(group, item)
    mass = table_mass[event].copy()
    background = group >= population.n_signal_groups
    mass[background] = background_masses.draw(event[background], rng, copy=copy[background])
    weight_scale = (1.0 / population.copies[group]).astype(np.float32)
    return EpochPlan(event, mass, weight_scale)
