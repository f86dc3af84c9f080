from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hep_pnn._io import atomic_dir, atomic_path
from hep_pnn.errors import OutputExistsError


def test_atomic_path_leaves_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "result.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target, overwrite=True) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash while writing")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.txt"]


def test_atomic_path_refuses_existing_without_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "result.txt"
    target.write_text("old")
    with pytest.raises(OutputExistsError, match="--overwrite"), atomic_path(target):
        pass
    with atomic_path(target, overwrite=True) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"


def test_atomic_dir_swaps_in_whole_folder(tmp_path: Path) -> None:
    target = tmp_path / "run"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("1")
    assert (target / "a.txt").read_text() == "1"
    with pytest.raises(RuntimeError), atomic_dir(target, overwrite=True) as tmp:
        (tmp / "b.txt").write_text("2")
        raise RuntimeError("crash")
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_outputs_follow_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "f.txt") as tmp:
            tmp.write_text("x")
        with atomic_dir(tmp_path / "d"):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755


def test_nothing_is_committed_after_a_termination_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the SystemExit of a SIGTERM handler is lost if it lands in a finalizer: the request
    # recorded beside it still stops every commit
    from hep_pnn import _io

    monkeypatch.setattr(_io, "_TERMINATION", [])
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "kept.txt").write_text("old")
    _io.request_termination(15)
    assert _io.termination() == 15
    with pytest.raises(SystemExit) as stopped, atomic_dir(tmp_path / "old", overwrite=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert stopped.value.code == 128 + 15
    with pytest.raises(SystemExit), atomic_path(tmp_path / "file.txt") as tmp:
        tmp.write_text("new")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["kept.txt", "old"]


def test_cli_exits_143_when_the_handlers_exit_was_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a command that finishes normally after SIGTERM (the handler's SystemExit swallowed
    # by a finalizer) still reports the termination and commits nothing
    import signal
    import sys

    from hep_pnn import _io, cli

    def command_with_lost_exit(args: list[str], standalone_mode: bool) -> None:
        _io.request_termination(signal.SIGTERM)  # what the handler records before raising
        with atomic_path(tmp_path / "result.txt") as tmp:
            tmp.write_text("written after SIGTERM")

    def finished_command(args: list[str], standalone_mode: bool) -> None:
        _io.request_termination(signal.SIGTERM)
        raise SystemExit(0)  # how click ends a command that succeeded

    hook, handler = sys.unraisablehook, signal.getsignal(signal.SIGTERM)
    for command in (command_with_lost_exit, finished_command):
        monkeypatch.setattr(cli, "app", command)
        with pytest.raises(SystemExit) as stopped:
            cli.main([])
        assert stopped.value.code == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []
    # the caller's process is left as it was: no record, its own hook and handler
    assert _io.termination() is None
    assert sys.unraisablehook is hook and signal.getsignal(signal.SIGTERM) is handler
    with atomic_path(tmp_path / "later.txt") as tmp:
        tmp.write_text("a later write commits")
    assert (tmp_path / "later.txt").read_text() == "a later write commits"


def test_a_lost_exit_prints_no_traceback_but_other_unraisables_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import functools
    import gc
    import sys

    from hep_pnn import _io
    from hep_pnn.cli import _quiet_lost_exit

    class Finalized:
        def __init__(self, error: BaseException) -> None:
            self.error = error

        def __del__(self) -> None:
            raise self.error

    monkeypatch.setattr(_io, "_TERMINATION", [15])
    previous: list[object] = []  # the hook that was there before sees the other errors
    monkeypatch.setattr(
        sys, "unraisablehook", functools.partial(_quiet_lost_exit, previous=previous.append)
    )
    Finalized(SystemExit(143))  # what the SIGTERM handler raises inside a finalizer
    gc.collect()
    assert capsys.readouterr().err == ""
    assert previous == []
    Finalized(RuntimeError("a real bug in a finalizer"))
    gc.collect()
    assert [str(u.exc_value) for u in previous] == ["a real bug in a finalizer"]
