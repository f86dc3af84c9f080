"""What a training run shows: a progress bar per epoch and a one-line summary per epoch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

__all__ = [
    "EpochBar",
    "TensorBoardLog",
    "epoch_bar",
    "epoch_listener",
    "epoch_summary",
    "notify_epoch",
]

#: Redraw the bar at most this often (in batches) so feedback costs nothing measurable.
UPDATE_EVERY = 20


def epoch_summary(row: dict[str, float], *, epochs: int) -> str:
    """One line for a history row: losses, mean validation AUC and AUC per mass.

    Example:
        >>> epoch_summary({"epoch": 2, "train_loss": 0.5, "val_loss": 0.45, "val_auc_mean": 0.9,
        ...                "val_auc_m500": 0.8, "val_auc_m1000": 1.0, "events_per_s": 40000.0,
        ...                "seconds": 3.0}, epochs=25).split("  ")
        ... # doctest: +NORMALIZE_WHITESPACE
        ['epoch 2/25', 'loss 0.5000', 'val_loss 0.4500',
         'val_auc 0.9000 [500: 0.800, 1000: 1.000]', '40.0k ev/s', '3.0 s']
    """
    per_mass = ", ".join(
        f"{key.removeprefix('val_auc_m')}: {value:.3f}"
        for key, value in row.items()
        if key.startswith("val_auc_m") and key != "val_auc_mean"
    )
    return (
        f"epoch {row['epoch']}/{epochs}  loss {row['train_loss']:.4f}  "
        f"val_loss {row['val_loss']:.4f}  val_auc {row['val_auc_mean']:.4f} [{per_mass}]  "
        f"{row['events_per_s'] / 1000:.1f}k ev/s  {row['seconds']:.1f} s"
    )


class _Throughput(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed / 1000:.1f}k ev/s")


@dataclass
class EpochBar:
    """A rich progress display; :meth:`start` gives the per-batch callback of one epoch."""

    progress: Progress

    def start(self, epoch: int, total: int) -> Callable[[int, float], None]:
        task = self.progress.add_task(f"epoch {epoch}", total=total, loss=float("nan"))
        calls = 0

        def update(done: int, loss: float) -> None:
            nonlocal calls
            calls += 1
            if calls % UPDATE_EVERY == 0 or done >= total:
                self.progress.update(task, completed=done, loss=loss)
                if done >= total:
                    self.progress.remove_task(task)

        return update


@contextmanager
def epoch_bar() -> Iterator[EpochBar]:
    """A transient rich progress bar showing events done, loss and events/s."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.4f}"),
        _Throughput(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True) as progress:
        yield EpochBar(progress)


class TensorBoardLog:
    """Writes history rows as TensorBoard scalars when tensorboard is installed, else nothing.

    Example:
        >>> import tempfile
        >>> TensorBoardLog(tempfile.mkdtemp()).write({"epoch": 1, "train_loss": 0.5})
    """

    def __init__(self, directory: str) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional
            self.writer = None
        else:
            self.writer = SummaryWriter(directory)

    def write(self, row: dict[str, float]) -> None:
        if self.writer is None:
            return
        for key, value in row.items():
            if key != "epoch":
                self.writer.add_scalar(key, value, int(row["epoch"]))
        self.writer.flush()


EpochListener = Callable[[dict[str, float]], None]
_LISTENERS: ContextVar[tuple[EpochListener, ...]] = ContextVar("epoch_listeners", default=())


@contextmanager
def epoch_listener(listener: EpochListener) -> Iterator[None]:
    """Call ``listener(row)`` with every history row the networks trained inside the block
    write (after the epoch's checkpoint), e.g. to report the validation AUC to a
    hyper-parameter scan; an exception it raises (a pruned trial) stops the training.

    Example:
        >>> rows = []
        >>> with epoch_listener(rows.append):
        ...     notify_epoch({"epoch": 1, "val_auc_mean": 0.8})
        >>> notify_epoch({"epoch": 2})  # outside the block: nobody listens
        >>> rows
        [{'epoch': 1, 'val_auc_mean': 0.8}]
    """
    token = _LISTENERS.set((*_LISTENERS.get(), listener))
    try:
        yield
    finally:
        _LISTENERS.reset(token)


def notify_epoch(row: dict[str, float]) -> None:
    """Pass a finished epoch's history row to the listeners of :func:`epoch_listener`."""
    for listener in _LISTENERS.get():
        listener(row)
