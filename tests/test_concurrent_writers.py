"""Several real processes on one folder board: no lost versions, no torn reads, crash safety."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import xxhash

import apins
from apins.meta import Meta
from apins.stores.folder import STAGING_SUFFIX, TMP_PREFIX
from tests._helpers import HELPERS, file_size, list_files, subprocess_env
from tests._helpers.workers import Proc, WorkerPool, expect_line

WORKER = str(HELPERS / "pin_worker.py")
WRITERS = 4
WRITES_EACH = 5


def spawn(*args: str, tmpdir: Path | None = None) -> Proc:
    """Start the worker; ``tmpdir`` keeps its scratch files (TMPDIR) inside the test."""
    env = subprocess_env(**({"TMPDIR": str(tmpdir)} if tmpdir else {}))
    return WorkerPool(WORKER, env).spawn(*args)


def hidden_entries(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".")]


def staging_of(root: Path) -> Path:
    """Where a folder board stages its writes: a hidden sibling of the board folder."""
    return root.parent / f".{root.name}{STAGING_SUFFIX}"


def assert_pins_python_sees(root: Path, expected: dict[str, list[str]]) -> None:
    """pins-python 0.9.2 lists exactly these pins and versions, and reads and searches."""
    import pins

    board = pins.board_folder(str(root), allow_pickle_read=True)
    assert sorted(board.pin_list()) == sorted(expected)
    for pin, versions in expected.items():
        assert list(board.pin_versions(pin)["version"]) == versions
        board.pin_read(pin)
    assert len(board.pin_search()) == len(expected)


async def assert_every_version_complete(board: apins.Board, pin: str, root: Path) -> list[Meta]:
    """Each listed version reads, and its files hash to its data.txt's pin_hash."""
    metas = []
    for v in await board.pin_versions(pin):
        meta = await board.pin_meta(pin, v.version)
        assert isinstance(meta, Meta)
        data = (root / pin / v.version / meta.files[0]).read_bytes()
        assert xxhash.xxh64(data).hexdigest() == meta.pin_hash
        assert v.version.endswith((meta.pin_hash or "")[:5])
        assert await board.pin_read(pin, v.version) == json.loads(data)
        metas.append(meta)
    return metas


async def test_concurrent_writers_lose_nothing_and_reader_sees_no_torn_version(
    tmp_path: Path,
) -> None:
    root = tmp_path / "board"
    pin = "shared"
    async with apins.board_folder(root) as board:
        await board.pin_write({"writer": -1, "i": -1}, pin, type="json")
    stop = tmp_path / "stop-reading"
    with WorkerPool(WORKER, subprocess_env()) as pool:
        reader = pool.spawn("read", str(root), pin, str(stop))
        writers = [
            pool.spawn("write", str(root), pin, str(w), str(WRITES_EACH)) for w in range(WRITERS)
        ]
        pool.ready(reader, *writers)
        pool.go(*writers)  # release them together
        reported: dict[str, tuple[int, int]] = {}
        for lines in pool.collect(*writers, timeout=120):
            assert lines[-1] == "done", lines
            for line in lines[:-1]:
                rec = json.loads(line)
                reported[rec["version"]] = (rec["writer"], rec["i"])
        stop.touch()
        result = json.loads(pool.collect(reader, timeout=120)[0][-1])

    assert result["errors"] == []
    assert result["reads"] >= 1
    assert len(reported) == WRITERS * WRITES_EACH  # every write got its own version name
    async with apins.board_folder(root) as board:
        listed = [v.version for v in await board.pin_versions(pin)]
        assert len(listed) == WRITERS * WRITES_EACH + 1
        assert set(reported) <= set(listed)
        metas = await assert_every_version_complete(board, pin, root)
        contents = {
            (v["writer"], v["i"]) for v in [await board.pin_read(pin, m.version) for m in metas]
        }
        assert contents == {(w, i) for w in range(WRITERS) for i in range(WRITES_EACH)} | {(-1, -1)}
        # each writer's own versions are in its write order
        for w in range(WRITERS):
            mine = [reported[v][1] for v in listed if v in reported and reported[v][0] == w]
            assert mine == list(range(WRITES_EACH))
    assert hidden_entries(root) == []


async def test_killed_while_serialising_leaves_no_version(tmp_path: Path) -> None:
    root = tmp_path / "board"
    async with apins.board_folder(root) as board:
        before = await board.pin_write({"ok": True}, "big", type="json")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proc = spawn("crash-serialise", str(root), "big", tmpdir=scratch)
    try:
        expect_line(proc, "serialising")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert list_files(scratch) == []  # nothing is staged in the system temp folder
    # the half-written data file sits in the board's staging folder, beside the board
    assert hidden_entries(root) == []
    hidden = [p for p in staging_of(root).iterdir() if p.name.startswith(TMP_PREFIX)]
    assert len(hidden) == 1
    partial = list_files(hidden[0])
    assert [p.name for p in partial] == ["big.joblib"]
    assert file_size(partial[0]) > 2_000_000
    async with apins.board_folder(root) as board:
        assert await board.pin_list() == ["big"]
        assert [v.version for v in await board.pin_versions("big")] == [before.version]
        assert await board.pin_read("big") == {"ok": True}
    assert sorted(p.name for p in (root / "big").iterdir()) == [before.version]
    assert_pins_python_sees(root, {"big": [before.version]})


async def test_killed_while_committing_leaves_only_a_hidden_folder(tmp_path: Path) -> None:
    root = tmp_path / "board"
    source = tmp_path / "big.bin"
    with source.open("wb") as f:  # several copy chunks (8 MiB each)
        for i in range(24):
            f.write(bytes([i]) * (1024 * 1024))
    async with apins.board_folder(root) as board:
        before = await board.pin_write({"ok": True}, "up", type="json")
    proc = spawn("crash-commit", str(root), "up", str(source))
    try:
        expect_line(proc, "copying")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert hidden_entries(root) == []
    leftovers = [p for p in staging_of(root).iterdir() if p.name.startswith(TMP_PREFIX)]
    assert len(leftovers) == 1  # the half-copied version, outside the board
    partial = list(leftovers[0].rglob("big.bin"))
    assert partial and 0 < partial[0].stat().st_size < source.stat().st_size
    async with apins.board_folder(root) as board:
        assert await board.pin_list() == ["up"]
        assert [v.version for v in await board.pin_versions("up")] == [before.version]
        assert await board.pin_read("up") == {"ok": True}
        assert_pins_python_sees(root, {"up": [before.version]})
        # the board stays writable after the crash
        after = await board.pin_upload(source, "up")
        assert [v.version for v in await board.pin_versions("up")] == [
            before.version,
            after.version,
        ]
        (path,) = await board.pin_download("up")
        assert file_size(path) == file_size(source)
