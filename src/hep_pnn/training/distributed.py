"""Data-parallel training (``torchrun``): each rank trains on its share of every global batch.

All ranks draw the epoch plan from the same seeded stream, so they agree on every global
batch of ``batch_size`` events; rank ``r`` of ``N`` trains on rows ``[n r / N, n (r+1) / N)``
of it. The loss is a mean over the batch, so the global gradient is the event-count
weighted mean of the ranks' gradients: one all-reduce of the (flat) gradient buffers and
the loss/accuracy sums per step, after which every rank takes the same Adam step. N
processes with global batch B therefore follow one process with batch B up to float
rounding, dropout masks excepted (each rank draws its own). Only rank 0 writes the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = [
    "DataParallel",
    "data_parallel",
    "init_from_environment",
    "is_writer",
    "launch_torchrun",
]


@dataclass(frozen=True)
class DataParallel:
    """This process's place among ``world`` data-parallel ranks.

    Example:
        >>> DataParallel(rank=1, world=2).shard(0, 5)
        slice(2, 5, None)
    """

    rank: int
    world: int

    def shard(self, start: int, stop: int) -> slice:
        """This rank's rows of the global batch ``[start, stop)``."""
        n = stop - start
        return slice(start + n * self.rank // self.world, start + n * (self.rank + 1) // self.world)

    def all_reduce(
        self, grads: Sequence[torch.Tensor], *, value: float, right: float, total: float, rows: int
    ) -> tuple[float, float, float]:
        """Turn this rank's gradients (means over its ``rows``) into the global batch's, in
        place, and return the global loss and accuracy sums."""
        stats = torch.tensor([value * rows, right, total, rows], dtype=grads[0].dtype)
        flat = torch.cat([*(g.reshape(-1) * rows for g in grads), stats])
        dist.all_reduce(flat)
        n = float(flat[-1])
        offset = 0
        for grad in grads:
            size = grad.numel()
            grad.copy_(flat[offset : offset + size].view_as(grad)).div_(n)
            offset += size
        return float(flat[-4]) / n, float(flat[-3]), float(flat[-2])


def data_parallel() -> DataParallel | None:
    """The data-parallel context of this process, or None when it trains alone."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return None
    return DataParallel(rank=dist.get_rank(), world=dist.get_world_size())


def init_from_environment() -> bool:
    """Join the process group ``torchrun`` describes (gloo on CPU); False outside torchrun."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    if not dist.is_initialized():
        dist.init_process_group("gloo")
    return True


def is_writer() -> bool:
    """Whether this process writes outputs: always, except ranks other than 0 (also after
    the process group is gone, from torchrun's ``RANK``)."""
    if dist.is_available() and dist.is_initialized():
        return bool(dist.get_rank() == 0)
    return int(os.environ.get("RANK", "0")) == 0


def launch_torchrun(nproc: int, arguments: Sequence[str]) -> int:
    """Run ``torchrun --standalone --nproc-per-node NPROC -m hep_pnn ARGUMENTS``; its exit code.

    ``pnn train --nproc N`` is this shortcut; the ranks find each other on this machine.
    """
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += [f"--nproc-per-node={nproc}", "-m", "hep_pnn", *arguments]
    return subprocess.run(command, check=False).returncode
