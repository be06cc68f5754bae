"""pin_download on a folder board hashes an unchanged file once, and still catches changes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import apins
from apins import _hash_memo, _stat_stamp
from apins.errors import HashMismatch


def _wait_out_racy_window(path: Path) -> None:
    """Until the file's ctime is older than the racy window (a clock condition, polled)."""
    while not _stat_stamp.settled(os.stat(path).st_ctime_ns, time.time_ns()):
        time.sleep(0.02)


async def test_unchanged_folder_file_is_not_read_again(tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(1 << 20))
    async with apins.board_folder(tmp_path / "board") as board:
        meta = await board.pin_upload([src], "big")
        [path] = await board.pin_download("big")
        _wait_out_racy_window(Path(path))
        await board.pin_download("big")  # hashed, and now remembered
        before = _hash_memo.hashed
        for _ in range(3):
            assert await board.pin_download("big", hash=meta.pin_hash) == [path]
        assert _hash_memo.hashed == before  # not read again

        # any change to the bytes (same size, even the same mtime) is still caught
        st = os.stat(path)
        os.chmod(path, 0o644)
        with open(path, "r+b") as f:
            f.write(b"\0" * 16)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        with pytest.raises(HashMismatch):
            await board.pin_download("big")
        assert _hash_memo.hashed == before + 1


def test_the_racy_window_follows_the_file_systems_time_resolution(tmp_path: Path) -> None:
    """Whole-second ctimes (FAT, some network file systems) are trusted after 2 s, finer ones
    after 100 ms; this machine's file system keeps finer times, so a fresh file settles soon."""
    second = 1_000_000_000
    assert not _stat_stamp.settled(1_700_000_000 * second, 1_700_000_001 * second)
    assert _stat_stamp.settled(1_700_000_000 * second, 1_700_000_002 * second + 1)
    assert _stat_stamp.settled(1_700_000_000 * second + 7, 1_700_000_000 * second + 200_000_000)
    f = tmp_path / "fresh.bin"
    f.write_bytes(b"x")
    changed = os.stat(f).st_ctime_ns
    assert changed % second != 0
    assert not _stat_stamp.settled(changed, changed + 50_000_000)
    assert _stat_stamp.settled(changed, changed + 150_000_000)
