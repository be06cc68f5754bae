"""Folder boards parse a data.txt once while the file is unchanged (apins._memo.LOCAL_METAS),
and notice any change to it: a same-size edit with its mtime put back included."""

from __future__ import annotations

import os
import time
from pathlib import Path

import apins
from apins import _memo, _stat_stamp


def _settle(path: Path) -> None:
    """Wait (on the clock) until the file's last change is older than the racy window."""
    while not _stat_stamp.settled(os.stat(path).st_ctime_ns, time.time_ns()):
        time.sleep(0.01)


async def test_data_txt_is_parsed_once_and_changes_are_noticed(tmp_path: Path) -> None:
    async with apins.board_folder(tmp_path / "board") as board:
        meta = await board.pin_write({"a": 1}, "p", type="json", title="aaaa")
        data_txt = tmp_path / "board" / "p" / str(meta.version) / "data.txt"
        _settle(data_txt)
        await board.pin_meta("p")  # parsed and remembered
        hits = _memo.LOCAL_METAS.hits
        for _ in range(3):
            got = await board.pin_meta("p")
            assert got.title == "aaaa" and got.local["dir"] == str(data_txt.parent)
            got.title = "changed by the caller"  # callers get copies
        assert _memo.LOCAL_METAS.hits == hits + 3

        # the same size, the mtime put back: only the ctime tells
        st = os.stat(data_txt)
        os.chmod(data_txt, 0o644)
        data_txt.write_bytes(data_txt.read_bytes().replace(b"title: aaaa", b"title: bbbb"))
        os.utime(data_txt, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert os.stat(data_txt).st_size == st.st_size
        assert (await board.pin_meta("p")).title == "bbbb"
        assert (await board.pin_read("p")) == {"a": 1}


async def test_a_file_changed_within_the_racy_window_is_not_remembered(tmp_path: Path) -> None:
    async with apins.board_folder(tmp_path / "board") as board:
        await board.pin_write({"a": 1}, "p", type="json", title="fresh")
        misses = _memo.LOCAL_METAS.misses
        for _ in range(2):
            assert (await board.pin_meta("p")).title == "fresh"
        assert _memo.LOCAL_METAS.misses == misses + 2  # written just now: parsed each time
