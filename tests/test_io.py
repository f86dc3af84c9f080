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
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a command that finishes normally after SIGTERM (its SystemExit swallowed) still
    # reports the termination and writes nothing
    from hep_pnn import _io
    from hep_pnn.cli import main

    monkeypatch.setattr(_io, "_TERMINATION", [15])
    with pytest.raises(SystemExit) as stopped:
        main(
            ["generate", "-o", str(tmp_path / "e.parquet"), "--signal", "10", "--background", "10"]
        )
    assert stopped.value.code == 128 + 15
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(SystemExit) as stopped:  # a command that writes nothing
        main(["--version"])
    assert stopped.value.code == 128 + 15


def test_a_lost_exit_prints_no_traceback_but_other_unraisables_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
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
    monkeypatch.setattr(sys, "unraisablehook", _quiet_lost_exit)
    Finalized(SystemExit(143))  # what the SIGTERM handler raises inside a finalizer
    gc.collect()
    assert capsys.readouterr().err == ""
    Finalized(RuntimeError("a real bug in a finalizer"))
    gc.collect()
    assert "a real bug in a finalizer" in capsys.readouterr().err
