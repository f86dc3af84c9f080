"""Training-step and inference throughput of the pNN models on the CPU.

Every figure is also given as a ratio to a plain float32 matmul chain with the same
layer shapes (forward and backward products only), timed in the same run: absolute
times vary a lot on shared machines, ratios much less.

Run: ``.venv/bin/python benchmarks/bench_models.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from hep_pnn._memory import keep_freed_memory
from hep_pnn.models import build_model, preset
from hep_pnn.models.direct import DirectStep
from hep_pnn.training.flat import FlatParameters

N_FEATURES = 27
HIDDEN = (300, 150, 100, 50)


def _best_rates(
    steps: dict[str, Callable[[], object]],
    *,
    batch: int,
    steps_per_round: int,
    rounds: int,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Best events/s of each step over ``rounds`` interleaved timings of ``steps_per_round`` calls.

    Interleaving spreads the load of other processes over all candidates, and the best
    round is the one least disturbed by them.
    """
    for step in steps.values():
        for _ in range(3):
            step()
    best = dict.fromkeys(steps, 0.0)
    for _ in range(rounds):
        for name, step in steps.items():
            start = clock()
            for _ in range(steps_per_round):
                step()
            rate = batch * steps_per_round / (clock() - start)
            best[name] = max(best[name], rate)
    return best


def matmul_roofline(batch: int, widths: tuple[int, ...]) -> Callable[[], object]:
    """Forward ``x @ Wᵀ`` and backward ``g @ W``, ``gᵀ @ x`` products of an MLP, nothing else."""
    generator = torch.Generator().manual_seed(0)
    weights = [
        torch.randn(n_out, n_in, generator=generator) * 0.05
        for n_in, n_out in itertools.pairwise(widths)
    ]
    x0 = torch.randn(batch, widths[0], generator=generator)

    def step() -> None:
        activations = [x0]
        for weight in weights:
            activations.append(activations[-1] @ weight.T)
        grad = torch.ones_like(activations[-1])
        for index in range(len(weights) - 1, -1, -1):
            _ = grad.T @ activations[index]
            if index:
                grad = grad @ weights[index]

    return step


class StraightforwardAffine(nn.Module):
    """The "straightforward" AffinePNN: nn.Linear, ReLU, affine, Bernoulli dropout."""

    def __init__(self, generator: torch.Generator) -> None:
        super().__init__()
        widths = (N_FEATURES, *HIDDEN)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, HIDDEN, strict=False))
        self.scales = nn.ModuleList(nn.Linear(1, b) for b in HIDDEN)
        self.shifts = nn.ModuleList(nn.Linear(1, b) for b in HIDDEN)
        self.output = nn.Linear(HIDDEN[-1], 1)
        self.generator = generator

    def forward(self, x: torch.Tensor, mass: torch.Tensor) -> torch.Tensor:
        m = (mass / 1000).unsqueeze(1)
        for layer, scale, shift in zip(self.layers, self.scales, self.shifts, strict=True):
            h = torch.relu(layer(x)) * scale(m) + shift(m)
            keep = torch.bernoulli(torch.full_like(h, 0.75), generator=self.generator)
            x = h * keep / 0.75
        return self.output(x).squeeze(1)

    def l2_penalty(self) -> torch.Tensor:
        return sum(p.square().sum() for p in self.parameters()) * 1e-5


def training_step(
    net: nn.Module, *, batch: int, optimizer: str, decay: bool = False, direct: bool = False
) -> Callable[[], object]:
    """One BCE + L2 forward/backward/Adam step on a fixed random batch.

    ``decay``: as the trainer does for networks with ``l2_groups()``: parameters in two
    flat buffers, the L2 term as Adam's (coupled) weight decay, its value still computed.
    ``direct`` (with ``decay``): loss and gradients from :class:`DirectStep` (no autograd),
    as the trainer does for the networks it covers.
    """
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(batch, N_FEATURES, generator=generator)
    mass = torch.tensor([500.0, 750.0, 1000.0, 1250.0, 1500.0])[torch.arange(batch) % 5]
    y = (torch.arange(batch) % 2).float()
    options = {"foreach": {"foreach": True}, "fused": {"fused": True}, "loop": {"foreach": False}}
    flat = FlatParameters(net) if decay else None
    groups = net.parameters() if flat is None else flat.param_groups()
    adam = torch.optim.Adam(groups, lr=1e-3, **options[optimizer])
    loss_fn = nn.BCEWithLogitsLoss()
    net.train()
    direct_step = DirectStep(net) if direct else None
    ones = torch.ones(batch)

    def step() -> None:
        if direct_step is not None:
            result = direct_step(x, mass, y, ones)
            _ = result.loss + flat.l2_value()
            adam.step()
            return
        if flat is not None:
            flat.zero_grad()
            loss = loss_fn(net(x, mass), y)
            _ = loss.item() + flat.l2_value()
        else:
            adam.zero_grad(set_to_none=True)
            loss = loss_fn(net(x, mass), y) + net.l2_penalty()
        loss.backward()
        adam.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=10, help="steps per timing round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="cpu: events per second of this process's CPU time (steadier on a busy machine)",
    )
    parser.add_argument("--only", default="", help="run only rows whose label contains this")
    parser.add_argument(
        "--default-malloc",
        action="store_true",
        help="keep glibc's default malloc thresholds (the trainer raises them)",
    )
    args = parser.parse_args()
    if not args.default_malloc:
        keep_freed_memory()
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    torch.set_num_threads(args.threads)
    names = [f"f{i}" for i in range(N_FEATURES)]

    def model_step(
        name: str, *, fused: bool, optimizer: str, decay: bool = False, direct: bool = False
    ) -> Callable[[], object]:
        net = build_model(preset(name), feature_names=names, seed=0)
        net.fused = fused
        return training_step(net, batch=args.batch, optimizer=optimizer, decay=decay, direct=direct)

    roofline = "matmul chain, same shapes (roofline)"
    steps = {
        roofline: matmul_roofline(args.batch, (N_FEATURES, *HIDDEN, 1)),
        "affine, fused kernels, direct step (no autograd), as the trainer": model_step(
            "affine", fused=True, optimizer="fused", decay=True, direct=True
        ),
        "affine, fused kernels, Adam fused": model_step("affine", fused=True, optimizer="fused"),
        "affine, fused kernels, Adam fused, autograd, flat, L2 as decay": model_step(
            "affine", fused=True, optimizer="fused", decay=True
        ),
        "affine, fused kernels, Adam foreach": model_step(
            "affine", fused=True, optimizer="foreach"
        ),
        "affine, fused kernels, Adam single-tensor": model_step(
            "affine", fused=True, optimizer="loop"
        ),
        "affine, reference kernels, Adam fused": model_step(
            "affine", fused=False, optimizer="fused"
        ),
        "affine, straightforward torch (Bernoulli dropout), Adam foreach": training_step(
            StraightforwardAffine(torch.Generator().manual_seed(0)),
            batch=args.batch,
            optimizer="foreach",
        ),
        "pnn, fused kernels, direct step (no autograd), as the trainer": model_step(
            "pnn", fused=True, optimizer="fused", decay=True, direct=True
        ),
        "pnn, fused kernels, Adam fused": model_step("pnn", fused=True, optimizer="fused"),
        "pnn, fused kernels, Adam fused, autograd, flat, L2 as decay": model_step(
            "pnn", fused=True, optimizer="fused", decay=True
        ),
        "pnn, fused kernels, Adam foreach": model_step("pnn", fused=True, optimizer="foreach"),
    }
    steps = {k: v for k, v in steps.items() if k == roofline or args.only in k}
    rates = _best_rates(
        steps, batch=args.batch, steps_per_round=args.steps, rounds=args.rounds, clock=clock
    )
    print(
        f"training step (forward, backward, Adam), batch {args.batch}, {args.threads} threads, "
        f"{args.clock} clock"
    )
    print("| what | events/s | ratio to roofline |")
    print("|---|---|---|")
    for label, rate in rates.items():
        print(f"| {label} | {rate:,.0f} | {rate / rates[roofline]:.2f} |")

    rng = np.random.default_rng(0)
    n_events = 4 * 65536
    features = rng.normal(size=(n_events, N_FEATURES)).astype(np.float32)
    mass = rng.choice([500.0, 1000.0, 1500.0], size=n_events).astype(np.float32)
    nets = {name: build_model(preset(name), feature_names=names) for name in ("affine", "pnn")}
    rates = _best_rates(
        {name: (lambda net=net: net.predict(features, mass)) for name, net in nets.items()},
        batch=n_events,
        steps_per_round=1,
        rounds=3,
        clock=clock,
    )
    print(f"\ninference, predict(batch_size=65536) on {n_events:,} events, {args.threads} threads")
    print("| model | events/s |")
    print("|---|---|")
    for name, rate in rates.items():
        print(f"| {name} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
