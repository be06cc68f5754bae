"""WriteBehind (apins._write_behind): batched blocking writes from many tasks, and
Cache.put_many, the batch it runs for a search's data.txt files."""

from __future__ import annotations

import threading
from pathlib import Path

import anyio
import anyio.to_thread

from apins._write_behind import WriteBehind
from apins.cache import Cache


async def test_concurrent_puts_are_written_in_few_batches_before_the_group_ends() -> None:
    written: list[int] = []
    release = threading.Event()

    def write(items: list[int]) -> None:
        release.wait(10)  # the first batch waits until every task has queued its item
        written.extend(items)

    behind = WriteBehind(write)
    queued = 0

    async def one(i: int) -> None:
        nonlocal queued
        queued += 1
        if queued == 50:
            release.set()
        await behind.put(i)

    async with anyio.create_task_group() as tg:
        for i in range(50):
            tg.start_soon(one, i)
    assert sorted(written) == list(range(50))
    assert behind.batches == 2  # the first item alone, then the 49 queued meanwhile


async def test_a_cancelled_writer_still_writes_everything_queued() -> None:
    written: list[str] = []
    in_write = threading.Event()
    release = threading.Event()

    def write(items: list[str]) -> None:
        in_write.set()
        release.wait(10)
        written.extend(items)

    behind = WriteBehind(write)
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(behind.put, "first")  # becomes the writer
            await anyio.to_thread.run_sync(in_write.wait, 10)
            await behind.put("second")  # queued: returns at once
            await behind.put("third")
            scope.cancel()
            release.set()
    assert scope.cancelled_caught
    assert written == ["first", "second", "third"]
    assert behind.batches == 2


def test_put_many_commits_stamped_entries_and_reports_failures(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    ident = "s3:x/b"
    (cache.board_dir(ident) / "blocked").mkdir(parents=True)
    (cache.board_dir(ident) / "blocked" / "v1").write_bytes(b"a file where a folder goes")
    entries = [
        ("p", "v1", "data.txt", b"one"),
        ("blocked", "v1", "data.txt", b"cannot land"),
        ("q", "v2", "data.txt", b"two"),
        ("..", "v1", "data.txt", b"unsafe pin name"),
    ]
    out = cache.put_many(ident, entries)
    assert isinstance(out[1], OSError) and isinstance(out[3], ValueError)
    for i in (0, 2):
        pin, version, name, data = entries[i]
        hit = cache.lookup(ident, pin, version, name)
        assert hit == out[i] and hit is not None and hit.read_bytes() == data
    assert not list((cache.board_dir(ident) / ".tmp").iterdir())  # no temp files left


def _forget_trust() -> None:
    """What a fresh process knows: nothing verified yet (lookups must read the stamps)."""
    from apins import cache as cache_mod

    cache_mod._trusted.clear()


def test_put_many_makes_only_the_pin_and_version_folders(tmp_path: Path) -> None:
    # a folder costs about as much as a file on ext4: a search caching 200 data.txt files
    # spent a third of its file-system time making a stamps folder per version
    cache = Cache(tmp_path)
    ident = "s3:x/b"
    entries = [(f"p{i}", "v1", "data.txt", f"n: {i}\n".encode()) for i in range(3)]
    cache.put_many(ident, entries)
    board = cache.board_dir(ident)
    folders = sorted(
        str(p.relative_to(board)) for p in board.rglob("*") if p.is_dir() and p.name != ".tmp"
    )
    assert folders == ["p0", "p0/v1", "p1", "p1/v1", "p2", "p2/v1"]
    for pin, version, name, _ in entries:
        path = cache.file_path(ident, pin, version, name)
        assert path.stat().st_mode & 0o777 == 0o444  # read-only, as every entry
        _forget_trust()
        assert cache.lookup(ident, pin, version, name) == path  # stamped: trusted unread
    # the stamp still catches a change made through the file system
    victim = cache.file_path(ident, "p1", "v1", "data.txt")
    victim.chmod(0o644)
    victim.write_bytes(b"n: 9\n")
    _forget_trust()
    assert cache.lookup(ident, "p1", "v1", "data.txt") is None
    assert not victim.exists()


def test_an_entry_stamped_in_the_older_stamps_folder_is_still_trusted(tmp_path: Path) -> None:
    import hashlib
    import json
    import os

    cache = Cache(tmp_path)
    ident = "s3:x/b"
    path = cache.file_path(ident, "p", "v1", "data.txt")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"n: 1\n")
    st = os.stat(path)
    old = path.parent / ".stamps" / hashlib.sha256(b"data.txt").hexdigest()[:32]
    old.parent.mkdir()
    stat = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
    import xxhash

    digest = xxhash.xxh64(b"n: 1\n").hexdigest()
    old.write_text(json.dumps({"file": "data.txt", "stat": stat, "xxh64": digest}))
    _forget_trust()
    assert cache.lookup(ident, "p", "v1", "data.txt") == path
    assert path.read_bytes() == b"n: 1\n"
