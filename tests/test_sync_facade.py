"""The sync facade (apins.sync): complete twins of the async verbs, threads, running loops.

Calling a sync method from inside a running event loop (directly in an ``async def``) does
not deadlock: the work runs on the facade's own background loop thread, and the caller's
loop is simply blocked until it returns (as any blocking call would block it). Async code
should prefer the async Board (``SyncBoard.board``); notebooks, whose loop runs in another
task, use the facade freely.
"""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import apins
from apins import sync
from apins.board import Board
from apins.sync import SyncBoard
from tests._helpers import PYTHON, subprocess_env
from tests.servers import S3Server


def _params(fn: Any) -> list[tuple[str, Any, Any]]:
    sig = inspect.signature(fn)
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


def public_async_methods(cls: type) -> list[str]:
    return sorted(
        name
        for name, fn in inspect.getmembers(cls, inspect.iscoroutinefunction)
        if not name.startswith("_")
    )


def twin_problems(async_cls: type, sync_cls: type) -> list[str]:
    """Every way ``sync_cls`` fails to mirror ``async_cls``'s public coroutine methods."""
    problems = []
    for name in public_async_methods(async_cls):
        twin = getattr(sync_cls, name, None)
        if twin is None:
            problems.append(f"{name}: no sync twin")
            continue
        if inspect.iscoroutinefunction(twin):
            problems.append(f"{name}: the twin is async")
        original = getattr(async_cls, name)
        if _params(twin) != _params(original):
            problems.append(f"{name}: parameters {_params(twin)} != {_params(original)}")
        if twin.__doc__ != original.__doc__:
            problems.append(f"{name}: docstring differs")
    return problems


def test_every_async_board_method_has_a_sync_twin() -> None:
    names = public_async_methods(Board)
    assert {"pin_write", "pin_read", "pin_upload", "write_board_manifest", "aclose"} <= set(names)
    assert twin_problems(Board, SyncBoard) == []


def test_twin_check_catches_missing_and_drifted_methods() -> None:
    class A:
        async def verb(self, x: int, *, y: int = 1) -> None:
            """Doc."""

        async def other(self) -> None:
            """Other."""

    class S:
        def verb(self, x: int, *, y: int = 2) -> None:
            """Doc."""

    problems = twin_problems(A, S)
    assert any(p.startswith("other: no sync twin") for p in problems)
    assert any(p.startswith("verb: parameters") for p in problems)


def test_sync_round_trip(tmp_path: Path) -> None:
    with sync.board_folder(tmp_path / "b") as board:
        assert isinstance(board, SyncBoard)
        meta = board.pin_write(pa.table({"a": [1, 2]}), "t", type="arrow")
        assert board.pin_read("t").equals(pa.table({"a": [1, 2]}))
        assert board.pin_list() == ["t"]
        assert board.pin_exists("t")
        assert [v.version for v in board.pin_versions("t")] == [meta.version]
        assert board.pin_meta("t").pin_hash == meta.pin_hash
        assert "<apins.sync.Board" in repr(board)
        with pytest.raises(apins.PinNotFound):
            board.pin_read("missing")


def test_sync_from_many_threads(tmp_path: Path) -> None:
    board = sync.board_folder(tmp_path / "b")
    board.pin_write({"shared": True}, "shared", type="json")
    start = threading.Barrier(8)

    def work(i: int) -> tuple[Any, Any]:
        start.wait()
        board.pin_write({"i": i}, f"p{i}", type="json")
        return board.pin_read(f"p{i}"), board.pin_read("shared")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    assert results == [({"i": i}, {"shared": True}) for i in range(8)]
    assert board.pin_list() == sorted(["shared", *(f"p{i}" for i in range(8))])
    board.close()


def test_sync_from_a_thread_inside_asyncio_run(tmp_path: Path) -> None:
    board = sync.board_folder(tmp_path / "b")

    async def main() -> Any:
        await asyncio.to_thread(board.pin_write, [1, 2, 3], "x", type="json")
        return await asyncio.to_thread(board.pin_read, "x")

    assert asyncio.run(main()) == [1, 2, 3]
    board.close()


def test_sync_directly_inside_async_def_does_not_deadlock(tmp_path: Path) -> None:
    board = sync.board_folder(tmp_path / "b")

    async def main() -> tuple[Any, bool]:
        ran = asyncio.Event()
        task = asyncio.create_task(_set(ran))
        board.pin_write({"v": 1}, "x", type="json")  # blocks this loop, not the facade's
        value = board.pin_read("x")
        blocked = not ran.is_set()  # the task could not run during the blocking calls
        await task
        return value, blocked

    value, blocked = asyncio.run(main())
    assert value == {"v": 1}
    assert blocked
    board.close()


async def _set(ev: asyncio.Event) -> None:
    ev.set()


async def test_sync_inside_pytest_asyncio_loop(tmp_path: Path) -> None:
    board = sync.board_folder(tmp_path / "b")
    board.pin_write([1], "x", type="json")
    assert board.pin_read("x") == [1]
    async with apins.board_folder(tmp_path / "b") as async_board:  # same folder, async side
        assert await async_board.pin_read("x") == [1]
    board.close()


def test_constructors_do_no_io(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "not" / "yet"
    local = tmp_path / "local-data"
    monkeypatch.setenv("PINS_DATA_DIR", str(local))
    boards = [
        sync.board_folder(target),
        sync.board_local(),
        apins.board_folder(target),
        apins.board_local(),
    ]
    temp = sync.board_temp()
    temp_dir = Path(temp.board_deparse().split("'")[1])
    assert not target.exists()
    assert not local.exists()
    assert not temp_dir.exists()
    with pytest.raises(apins.BoardNotFound):
        boards[0].pin_list()
    assert boards[1].pin_list() == []  # the user's own board is empty until written
    assert not target.exists()  # reading an absent board creates nothing either
    assert not local.exists()
    boards[0].pin_write([1], "first", type="json")
    assert (target / "first").is_dir()
    boards[1].pin_write([1], "first", type="json")
    assert (local / "first").is_dir()
    temp.pin_write([1], "t", type="json")
    assert temp_dir.is_dir()
    temp.close()
    assert not temp_dir.exists()


def test_clean_shutdown_at_exit(tmp_path: Path) -> None:
    script = (
        "from apins import sync\n"
        "b = sync.board_temp()\n"
        "b.pin_write({'a': 1}, 'x', type='json')\n"
        'print(b.board_deparse().split("\'")[1])\n'
        "print(b.pin_read('x'))\n"
    )
    proc = subprocess.run(
        [PYTHON, "-c", script], capture_output=True, text=True, env=subprocess_env(), timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    folder, value = proc.stdout.strip().splitlines()
    assert value == "{'a': 1}"
    assert "Traceback" not in proc.stderr
    assert not Path(folder).exists()  # the temp board was closed at exit


def test_unclosed_sync_boards_release_connections(seaweed: S3Server) -> None:
    """A sync S3 board dropped without close(), and one still alive at exit: neither leaves
    an unclosed aiohttp session or connector behind (no warning, even with -W default)."""
    bucket = seaweed.make_bucket()
    script = (
        "import gc\n"
        "from apins import sync\n"
        "def board():\n"
        f"    return sync.board_s3({bucket + '/x'!r}, endpoint_url={seaweed.endpoint_url!r},\n"
        f"        access_key={seaweed.access_key!r}, secret_key={seaweed.secret_key!r})\n"
        "b = board()\n"
        "b.pin_write({'a': 1}, 'x', type='json')\n"
        "print(b.pin_read('x'))\n"
        "del b\n"
        "gc.collect()\n"
        "kept = board()\n"
        "print(kept.pin_list())\n"
    )
    proc = subprocess.run(
        [PYTHON, "-W", "default", "-X", "dev", "-c", script],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["{'a': 1}", "['x']"]
    assert "Unclosed" not in proc.stderr
    assert "ResourceWarning" not in proc.stderr
