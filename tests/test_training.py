"""Unit tests of the training engine: splits, samplers, background masses, weights, loss."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from hep_pnn.data import EventTable
from hep_pnn.errors import ConfigError, DataError
from hep_pnn.models import build_model, preset
from hep_pnn.training import (
    BackgroundMassConfig,
    BackgroundMasses,
    Population,
    Trainer,
    TrainingConfig,
    load_checkpoint,
    load_experiment,
    plan_epoch,
    save_checkpoint,
    stratified_split,
    training_weights,
    weighted_bce,
)
from hep_pnn.training.checkpoint import optimizer_from_flat, optimizer_to_flat
from hep_pnn.training.config import apply_overrides
from hep_pnn.training.mass_strategies import MASS_STRATEGIES, MassStrategy, register_mass_strategy
from hep_pnn.training.samplers import balanced_items, plain_items
from hep_pnn.training.weights import unit_mean_per_group


def imbalanced_table() -> EventTable:
    """Signal 300/60/6 events at 500/1000/1500 GeV; background 400 ttbar + 40 wjets."""
    n_signal = {500.0: 300, 1000.0: 60, 1500.0: 6}
    signal_mass = np.repeat(list(n_signal), list(n_signal.values()))
    n_background = 440
    rng = np.random.default_rng(3)
    return EventTable.from_arrays(
        rng.normal(size=(len(signal_mass) + n_background, 2)),
        label=[1] * len(signal_mass) + [0] * n_background,
        mass=np.concatenate([signal_mass, np.full(n_background, 500.0)]),
        weight=rng.uniform(0.5, 1.5, len(signal_mass) + n_background),
        process=["signal"] * len(signal_mass) + ["ttbar"] * 400 + ["wjets"] * 40,
    )


def background_masses(table: EventTable, **options: object) -> BackgroundMasses:
    return BackgroundMasses(
        BackgroundMassConfig(**options),
        signal_mass=table.mass[table.is_signal],
        n_events=len(table),
        seed=5,
    )


def test_stratified_split_holds_out_the_fraction_of_every_label_mass_group() -> None:
    table = imbalanced_table()
    kept, held = stratified_split(table, fraction=0.25, seed=1)
    assert len(np.intersect1d(kept, held)) == 0
    assert len(kept) + len(held) == len(table)
    for mass, total in ((500.0, 300), (1000.0, 60), (1500.0, 6)):
        assert (table.mass[held][table.label[held] == 1] == mass).sum() == round(total * 0.25)
    assert (table.label[held] == 0).sum() == 110
    again = stratified_split(table, fraction=0.25, seed=1)[1]
    other = stratified_split(table, fraction=0.25, seed=2)[1]
    assert np.array_equal(held, again) and not np.array_equal(held, other)


def test_balanced_batches_split_signal_by_mass_and_background_by_process() -> None:
    table = imbalanced_table()
    population = Population.from_table(table, np.arange(len(table)))
    batch_size, n_batches = 120, 50
    group, item = balanced_items(
        population,
        batch_size=batch_size,
        epoch_length=batch_size * n_batches,
        rng=np.random.default_rng(0),
    )
    event, _ = population.resolve(group, item)
    label = table.label[event].reshape(n_batches, batch_size)
    assert (label.sum(axis=1) == batch_size // 2).all()
    signal_mass = np.where(table.label[event] == 1, table.mass[event], 0).reshape(n_batches, -1)
    for mass in (500.0, 1000.0, 1500.0):
        assert ((signal_mass == mass).sum(axis=1) == 20).all()
    process = np.asarray(table.process_labels[event]).reshape(n_batches, -1)
    assert ((process == "wjets").sum(axis=1) == 30).all()
    # with replacement: the 6 events at 1500 GeV fill 1000 slots, each of them used
    rare = event[table.mass[event] == 1500.0]
    rare = rare[table.label[rare] == 1]
    assert len(rare) == 1000 and len(np.unique(rare)) == 6


def test_balanced_cut_last_batch_stays_balanced_and_draws_are_seeded() -> None:
    population = Population.from_table(imbalanced_table(), np.arange(806))
    first = balanced_items(
        population, batch_size=64, epoch_length=1000, rng=np.random.default_rng(4)
    )
    second = balanced_items(
        population, batch_size=64, epoch_length=1000, rng=np.random.default_rng(4)
    )
    assert len(first[0]) == 1000
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    signal_share = (first[0] < population.n_signal_groups).mean()
    assert abs(signal_share - 0.5) < 0.02


def test_plain_epoch_is_a_permutation_of_every_item() -> None:
    table = imbalanced_table()
    population = Population.from_table(table, np.arange(0, len(table), 2))
    group, item = plain_items(
        population, epoch_length=population.n_items, rng=np.random.default_rng(1)
    )
    event, _ = population.resolve(group, item)
    assert np.array_equal(np.sort(event), np.arange(0, len(table), 2))
    assert not np.array_equal(event, np.sort(event))


def test_identical_masses_follow_signal_frequencies_or_uniform_set() -> None:
    table = imbalanced_table()
    rng = np.random.default_rng(0)
    draws = background_masses(table).draw(np.zeros(60000, np.int64), rng)
    for mass, n in ((500.0, 300), (1000.0, 60), (1500.0, 6)):
        assert abs((draws == mass).mean() - n / 366) < 0.01
    flat = background_masses(table, identical_weighting="uniform").draw(np.zeros(60000), rng)
    for mass in (500.0, 1000.0, 1500.0):
        assert abs((flat == mass).mean() - 1 / 3) < 0.01


def test_uniform_masses_cover_the_range() -> None:
    table = imbalanced_table()
    draws = background_masses(table, strategy="uniform", range=(600, 900)).draw(
        np.zeros(20000, np.int64), np.random.default_rng(0)
    )
    assert draws.min() >= 600 and draws.max() <= 900
    assert abs(draws.mean() - 750) < 5 and len(np.unique(draws)) > 1000
    default = background_masses(table, strategy="uniform").range
    assert default == (500.0, 1500.0)


@pytest.mark.parametrize("strategy", ["identical", "uniform"])
def test_masses_fixed_once_or_redrawn_every_batch(strategy: str) -> None:
    table = imbalanced_table()
    events = np.arange(366, 806)
    once = background_masses(table, strategy=strategy, redraw="once")
    rng = np.random.default_rng(0)
    assert np.array_equal(once.draw(events, rng), once.draw(events, rng))
    every = background_masses(table, strategy=strategy, redraw="batch")
    assert not np.array_equal(every.draw(events, rng), every.draw(events, rng))


def test_copy_puts_every_background_event_at_every_mass_with_weight_over_k() -> None:
    table = imbalanced_table()
    masses = background_masses(table, strategy="copy")
    population = Population.from_table(table, np.arange(len(table)), background_copies=3)
    plan = plan_epoch(
        population,
        table_mass=table.mass,
        background_masses=masses,
        sampler="plain",
        batch_size=100,
        epoch_length=population.n_items,
        rng=np.random.default_rng(0),
    )
    background = table.label[plan.index] == 0
    assert background.sum() == 3 * 440
    pairs = set(zip(plan.index[background].tolist(), plan.mass[background].tolist(), strict=True))
    assert len(pairs) == 3 * 440
    assert {m for _, m in pairs} == {500.0, 1000.0, 1500.0}
    assert np.allclose(plan.weight_scale[background], 1 / 3)
    assert np.array_equal(plan.mass[~background], table.mass[plan.index[~background]])
    assert np.all(plan.weight_scale[~background] == 1)


def test_weighted_bce_with_negative_weights_matches_hand_computation() -> None:
    logits = torch.tensor([2.0, -1.0, 0.5])
    target = torch.tensor([1.0, 0.0, 1.0])
    weight = torch.tensor([1.0, -0.5, 2.0])

    def sigmoid(z: float) -> float:
        return 1 / (1 + math.exp(-z))

    by_hand = (
        -1.0 * math.log(sigmoid(2.0))
        + 0.5 * math.log(1 - sigmoid(-1.0))
        - 2.0 * math.log(sigmoid(0.5))
    ) / 3
    assert float(weighted_bce(logits, target, weight)) == pytest.approx(by_hand, rel=1e-6)


def test_class_normalisations() -> None:
    table = imbalanced_table()
    train = np.arange(len(table))
    w = training_weights(table, train, normalise="classes")
    assert w[table.is_signal].sum() == pytest.approx(len(table) / 2, rel=1e-5)
    assert w[~table.is_signal].sum() == pytest.approx(len(table) / 2, rel=1e-5)
    per_mass = training_weights(table, train, normalise="classes_per_mass")
    for mass in (500.0, 1000.0, 1500.0):
        at_mass = table.is_signal & (table.mass == mass)
        assert per_mass[at_mass].sum() == pytest.approx(len(table) / 6, rel=1e-5)
    ones = training_weights(table, train, use_event_weights=False)
    assert np.all(ones == 1)


def test_normalisation_refuses_a_non_positive_weight_sum() -> None:
    table = EventTable.from_arrays(np.zeros((3, 1)), label=[1, 0, 0], weight=[1, 1, -2])
    with pytest.raises(DataError, match="sum to"):
        training_weights(table, np.arange(3), normalise="classes")
    with pytest.raises(DataError, match="sampling group 1"):
        unit_mean_per_group(table.weight, [np.array([0]), np.array([1, 2])])


def test_checkpoint_round_trip_keeps_optimizer_and_rng_states(tmp_path) -> None:
    layer = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(layer.parameters(), lr=0.01)
    layer(torch.ones(4, 3)).sum().backward()
    optimizer.step()
    rng = np.random.default_rng(7)
    rng.random(3)
    generator = torch.Generator().manual_seed(9)
    tensors, flat = optimizer_to_flat(optimizer)
    state = {"rng": rng.bit_generator.state, "optimizer": flat}
    tensors["generator"] = generator.get_state()
    save_checkpoint(tmp_path, tensors=tensors, state=state)
    loaded_tensors, loaded_state = load_checkpoint(tmp_path)
    fresh = torch.optim.Adam(layer.parameters(), lr=0.5)
    optimizer_from_flat(fresh, loaded_tensors, loaded_state["optimizer"])
    for key in ("exp_avg", "exp_avg_sq", "step"):
        assert torch.equal(fresh.state[layer.weight][key], optimizer.state[layer.weight][key])
    assert fresh.param_groups[0]["lr"] == 0.01
    restored = np.random.default_rng(0)
    restored.bit_generator.state = loaded_state["rng"]
    assert restored.random() == rng.random()
    other = torch.Generator()
    other.set_state(loaded_tensors["generator"])
    assert torch.equal(torch.rand(3, generator=other), torch.rand(3, generator=generator))
    json.dumps(loaded_state)  # the state is plain JSON, no pickle


def test_overrides_and_config_errors_name_key_and_file(tmp_path) -> None:
    assert apply_overrides({"training": {"seed": 1}}, ["training.epochs=2"]) == {
        "training": {"seed": 1, "epochs": 2}
    }
    path = tmp_path / "exp.yaml"
    path.write_text("training:\n  epochs: -1\n")
    with pytest.raises(ConfigError) as err:
        load_experiment(path)
    assert str(path) in str(err.value) and "key training.epochs" in str(err.value)
    path.write_text("training:\n  epoch: 3\n")
    with pytest.raises(ConfigError, match=r"key training\.epoch\b"):
        load_experiment(path)
    with pytest.raises(ConfigError, match=r"key model\.preset"):
        load_experiment(None, ["model.preset=nope"])
    with pytest.raises(ConfigError, match=r"key model\.options\.hidden"):
        load_experiment(None, ["model.options.hidden=[0]"])
    with pytest.raises(ConfigError, match="--set"):
        load_experiment(None, ["training.epochs"])
    path.write_text("training: [unclosed\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_experiment(path)
    with pytest.raises(ConfigError, match="file not found"):
        load_experiment(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="key data"):
        load_experiment(None, ["data.source=files"])


def test_l2_as_adam_weight_decay_equals_the_l2_loss_term() -> None:
    from hep_pnn.models import build_model, preset
    from hep_pnn.training.loop import l2_parameter_groups

    config = preset("affine", hidden=(8, 4), l2_kernel=0.05, l2_bias=0.01)  # visible effect
    nets = [build_model(config, feature_names=["a", "b"], seed=1) for _ in "ab"]
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    m = torch.full((64,), 750.0)
    y = (torch.arange(64) % 2).float()
    as_loss = torch.optim.Adam(nets[0].parameters(), lr=0.01, foreach=False)
    as_decay = torch.optim.Adam(l2_parameter_groups(nets[1]), lr=0.01, foreach=False)
    for net, optimizer, in_loss in ((nets[0], as_loss, True), (nets[1], as_decay, False)):
        for _ in range(5):
            optimizer.zero_grad()
            net.eval()  # no dropout, so both see the same function
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x, m), y)
            (loss + net.l2_penalty() if in_loss else loss).backward()
            optimizer.step()
    moved = 0.0
    for (name, a), b, start in zip(
        nets[0].named_parameters(),
        nets[1].parameters(),
        build_model(config, feature_names=["a", "b"], seed=1).parameters(),
        strict=True,
    ):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)
        moved = max(moved, float((a - start).detach().abs().max()))
    assert moved > 1e-3


def test_flat_parameters_give_the_same_adam_steps_as_separate_tensors() -> None:
    from hep_pnn.models import build_model, preset
    from hep_pnn.training.flat import FlatParameters
    from hep_pnn.training.loop import l2_parameter_groups

    config = preset("affine", hidden=(8, 4), dropout=0.0, l2_kernel=0.05, l2_bias=0.01)
    nets = [build_model(config, feature_names=["a", "b"], seed=1) for _ in "ab"]
    flat = FlatParameters(nets[1])
    optimizers = [
        torch.optim.Adam(l2_parameter_groups(nets[0]), lr=0.01, fused=True),
        torch.optim.Adam(flat.param_groups(), lr=0.01, fused=True),
    ]
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    m, y = torch.full((64,), 750.0), (torch.arange(64) % 2).float()
    for _ in range(4):
        for net, optimizer in zip(nets, optimizers, strict=True):
            if net is nets[1]:
                flat.zero_grad()
            else:
                optimizer.zero_grad()
            torch.nn.functional.binary_cross_entropy_with_logits(net(x, m), y).backward()
            optimizer.step()
    for (name, a), b in zip(nets[0].named_parameters(), nets[1].parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7, msg=name)  # SIMD tails differ
    assert flat.l2_value() == pytest.approx(nets[1].l2_penalty().item(), rel=1e-5)
    assert sum(p.numel() for p in flat.parameters) == sum(p.numel() for p in nets[1].parameters())


def test_balanced_background_follows_process_weight_shares() -> None:
    # ttbar 400 events, wjets 40 events with 5× the weight: shares 400 : 200 -> 2/3 : 1/3
    table = imbalanced_table()
    weight = np.where(table.process_labels == "wjets", 5.0, 1.0)
    population = Population.from_table(table, np.arange(len(table)))
    shared = population.with_background_shares(weight)
    assert shared.shares[population.n_signal_groups :].tolist() == pytest.approx([2 / 3, 1 / 3])
    batch_size, n_batches = 120, 50
    group, item = balanced_items(
        shared, batch_size=batch_size, epoch_length=batch_size * n_batches,
        rng=np.random.default_rng(0),
    )  # fmt: skip
    event, _ = shared.resolve(group, item)
    process = np.asarray(table.process_labels[event]).reshape(n_batches, -1)
    assert (np.abs((process == "wjets").sum(axis=1) - 20) <= 1).all()  # 60 × 1/3 per batch
    assert (process == "wjets").sum() == 20 * n_batches
    signal_mass = np.where(table.label[event] == 1, table.mass[event], 0).reshape(n_batches, -1)
    assert ((signal_mass == 1500.0).sum(axis=1) == 20).all()  # signal masses stay equal
    with pytest.raises(DataError, match="background_share"):
        population.with_background_shares(np.where(table.label == 1, 1.0, 0.0))


def trainer_for(table: EventTable, **training: object) -> Trainer:
    net = build_model(preset("affine", hidden=(4,)), feature_names=table.feature_names)
    config = TrainingConfig(epochs=1, batch_size=64, **training)
    return Trainer(net, table, config, generators={"dropout": net.generator}, log=lambda _: None)


def test_background_masses_follow_the_signal_masses_as_the_sampler_feeds_them() -> None:
    # imbalanced signal (300/60/6): balanced batches feed every mass equally, so background
    # masses must be uniform over them, or the mass alone would tell signal from background
    table = imbalanced_table()
    balanced = trainer_for(table).background_masses.probabilities
    assert balanced.tolist() == pytest.approx([1 / 3] * 3)
    plan = plan_epoch(
        trainer_for(table).population, table_mass=table.mass,
        background_masses=trainer_for(table).background_masses, sampler="balanced",
        batch_size=64, epoch_length=30000, rng=np.random.default_rng(0),
    )  # fmt: skip
    background = table.label[plan.index] == 0
    for mass in (500.0, 1000.0, 1500.0):
        signal_share = (plan.mass[~background] == mass).mean()
        assert abs((plan.mass[background] == mass).mean() - signal_share) < 0.01
    # plain batches with per-mass normalisation (the default): every mass weighs the same
    plain = trainer_for(table, sampler="plain").background_masses.probabilities
    assert plain.tolist() == pytest.approx([1 / 3] * 3)
    # plain batches without weights: the masses come as often as in the file
    raw = trainer_for(
        table, sampler="plain", weights={"use_event_weights": False, "normalise": "none"}
    ).background_masses.probabilities
    signal_mass = table.mass[table.is_signal]
    assert raw.tolist() == pytest.approx(
        [np.mean(signal_mass == m) for m in (500.0, 1000.0, 1500.0)], abs=0.02
    )
    forced = trainer_for(table, background_mass={"identical_weighting": "frequency"})
    assert forced.background_masses.probabilities[0] > 0.75


DENORMAL_CHECK = """
import numpy as np, torch
torch.set_num_threads(2)
from hep_pnn._denormals import denormals_flushed
from hep_pnn.data import EventTable
from hep_pnn.models import build_model, preset
from hep_pnn.training import Trainer, TrainingConfig
before = denormals_flushed()  # the pool's threads exist now, without the flag
x = np.random.default_rng(0).normal(size=(400, 2))
table = EventTable.from_arrays(x, label=[1, 0] * 200, mass=[500.0] * 400)
net = build_model(preset("affine", hidden=(4,)), feature_names=table.feature_names)
trainer = Trainer(net, table, TrainingConfig(epochs=1, batch_size=64), log=lambda _: None,
                  generators={"dropout": net.generator})
seen = [denormals_flushed()]  # before any numba kernel has (re)started pool threads
trainer.train_epoch(on_batch=lambda *_: seen.append(denormals_flushed()))
print(before, len(seen) > 0 and all(seen))
"""


def test_training_runs_with_denormals_flushed_in_every_thread() -> None:
    # In a fresh process: a torch multiply split over the 2-thread pool keeps denormals
    # before training, and turns them into zeros in every thread once the trainer exists
    # (setting the flag in the calling thread only fails this) and while it runs.
    result = subprocess.run(
        [sys.executable, "-c", DENORMAL_CHECK], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True"]


def test_validation_scores_a_foldable_network_folded_with_the_same_results() -> None:
    from hep_pnn.training.validation import validate

    table = imbalanced_table()
    trainer = trainer_for(table)
    trainer.train_epoch()
    net = trainer.model

    class Unfoldable(torch.nn.Module):  # the same network without the folded() capability
        def __init__(self) -> None:
            super().__init__()
            self.net = net  # a submodule: validate's eval() reaches it

        def forward(self, x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
            return self.net(x, m)

    arguments = {
        "features": torch.from_numpy(table.features), "label": table.label,
        "mass": table.mass, "weight": table.weight, "index": trainer.val_index,
    }  # fmt: skip
    calls = []
    folded_method = net.folded
    net.folded = lambda mass: calls.append(mass) or folded_method(mass)  # type: ignore[method-assign]
    fast, plain = validate(net, **arguments), validate(Unfoldable(), **arguments)
    assert sorted(set(calls)) == [500.0, 1000.0, 1500.0]  # the folded path was taken
    assert fast.auc == pytest.approx(plain.auc, abs=1e-6)
    assert fast.loss == pytest.approx(plain.loss, rel=1e-5)
    assert fast.accuracy == pytest.approx(plain.accuracy, rel=1e-5)


def test_plain_batches_train_with_a_background_process_of_negative_total_weight() -> None:
    # process shares only matter for balanced batches; plain ones must not ask for them
    table = imbalanced_table()
    weight = np.where(table.process_labels == "wjets", -1.0, table.weight)
    table = table.with_weight(weight)
    trainer = trainer_for(table, sampler="plain", weights={"normalise": "none"})
    assert math.isfinite(trainer.train_epoch())
    with pytest.raises(DataError, match="background_share"):
        trainer_for(table, weights={"normalise": "none"})  # balanced: a clear error


class Lowest(MassStrategy):
    """A user-defined strategy: every background event at the smallest signal mass."""

    def fresh(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.full(n, self.values.min(), np.float32)


@pytest.fixture
def with_lowest():
    register_mass_strategy("lowest", Lowest)
    yield
    del MASS_STRATEGIES["lowest"]


@pytest.mark.parametrize("strategy", ["identical", "uniform", "copy", "lowest"])
def test_every_registered_background_mass_strategy_trains(strategy: str, with_lowest) -> None:
    table = imbalanced_table()
    trainer = trainer_for(table, background_mass={"strategy": strategy})
    masses = trainer.background_masses
    assert masses.copies == (3 if MASS_STRATEGIES[strategy].one_copy_per_mass else 1)
    plan = plan_epoch(
        trainer.population, table_mass=table.mass, background_masses=masses,
        sampler="balanced", batch_size=64, epoch_length=4000, rng=np.random.default_rng(0),
    )  # fmt: skip
    background = plan.mass[table.label[plan.index] == 0]
    assert background.min() >= 500 and background.max() <= 1500
    if strategy == "lowest":
        assert (background == 500).all()  # the user's strategy is the one that ran
    assert math.isfinite(trainer.train_epoch())


def test_an_unknown_background_mass_strategy_is_one_clear_error(tmp_path) -> None:
    path = tmp_path / "experiment.yaml"
    path.write_text("training:\n  background_mass:\n    strategy: nearest\n")
    with pytest.raises(ConfigError, match=r"background_mass\.strategy.*unknown strategy 'nearest'"):
        load_experiment(path)


def test_resuming_a_checkpoint_of_another_model_layout_is_one_error() -> None:
    # e.g. a bias-conditioned run saved before bias conditioning had an intercept
    from hep_pnn.errors import ModelError

    table = imbalanced_table()
    trainer = trainer_for(table)
    tensors, state = trainer.state()
    trainer.load_state(tensors, state)  # its own state loads
    older = {k: v for k, v in tensors.items() if k != "model.hidden.0.conditioning.shift.bias"}
    with pytest.raises(ModelError, match="the checkpoint does not fit this model") as error:
        trainer_for(table).load_state(older, state)
    assert "shift.bias" in str(error.value) and "--overwrite" in str(error.value)
