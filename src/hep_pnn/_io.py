"""Atomic output: write to a temporary sibling, then rename into place."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hep_pnn.errors import OutputExistsError, PNNError

__all__ = [
    "atomic_dir",
    "atomic_path",
    "check_writable",
    "forget_termination",
    "request_termination",
    "termination",
]

#: Signals that asked the process to stop (the CLI's SIGTERM handler records them here).
_TERMINATION: list[int] = []


def request_termination(signum: int) -> None:
    """Record that the process was asked to stop: no output is committed from now on.

    The CLI's signal handler also raises ``SystemExit``; Python ignores an exception
    raised while a finalizer runs, and this record makes sure the run still ends without
    swapping a result in.
    """
    _TERMINATION.append(signum)


def forget_termination() -> None:
    """Clear the record (a new command in the same process starts afresh)."""
    _TERMINATION.clear()


def termination() -> int | None:
    """The first signal recorded by :func:`request_termination`, or ``None``."""
    return _TERMINATION[0] if _TERMINATION else None


def _refuse_if_terminated() -> None:
    signum = termination()
    if signum is not None:
        raise SystemExit(128 + signum)


def check_writable(
    path: str | os.PathLike[str], *, overwrite: bool, option: str = "output"
) -> Path:
    """Refuse an existing ``path`` unless ``overwrite``; make sure its folder can be written.

    Example:
        >>> check_writable("/tmp/hep-pnn-doctest-new.parquet", overwrite=False).name
        'hep-pnn-doctest-new.parquet'
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(
            f"{path} already exists",
            where=option,
            fix="choose another path or pass --overwrite",
        )
    parent = path.parent if str(path.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise PNNError(
            f"cannot create folder {parent}: {err.strerror}",
            where=option,
            fix="choose a writable path",
        ) from None
    if not os.access(parent, os.W_OK):
        raise PNNError(
            f"folder {parent} is not writable", where=option, fix="choose a writable path"
        )
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(
    path: str | os.PathLike[str], *, overwrite: bool = False, option: str = "output"
) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` when the block succeeds.

    On any exception the temporary file is removed and an existing ``path`` is left
    untouched, so a result is never half-written.

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
        >>> with atomic_path(target) as tmp:
        ...     _ = tmp.write_text("done")
        >>> target.read_text()
        'done'
    """
    path = check_writable(path, overwrite=overwrite, option=option)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates 0600 files; results should follow the user's umask like any other file.
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield tmp
        _refuse_if_terminated()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_dir(
    path: str | os.PathLike[str], *, overwrite: bool = False, option: str = "output"
) -> Iterator[Path]:
    """Like :func:`atomic_path` for a folder: build it under a temporary name, then swap it in."""
    path = check_writable(path, overwrite=overwrite, option=option)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        _refuse_if_terminated()
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
