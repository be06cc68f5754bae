"""No data-loss traps (issue 9, item 3): a missing folder board is an error, not an empty
board; mirror --delete refuses to empty a target from an empty source; a failed write leaves
no trace on the board."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import apins
from apins import PinsError
from apins._mirror import VersionRef
from tests.mirror_support import APINS, cli_env


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(APINS), *args], env=cli_env(), capture_output=True, text=True, timeout=120
    )


async def _board_with_pins(path: Path, *names: str) -> None:
    async with apins.board_folder(path) as b:
        for n in names:
            await b.pin_write({"pin": n}, n, type="json")


def _tree(path: Path) -> list[str]:
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*"))


# -- a missing folder board --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "file"])
async def test_reading_a_missing_folder_board_raises(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "nonexistent"
    if kind == "file":
        path.write_text("not a board")
    async with apins.board_folder(path) as b:
        for call in (
            b.pin_list,
            lambda: b.pin_versions("p"),
            lambda: b.pin_read("p"),
            lambda: b.pin_meta("p", "20240101T000000Z-abcde"),
            lambda: b.pin_search(),
        ):
            with pytest.raises(apins.BoardNotFound, match="nonexistent"):
                await call()
    assert path.exists() == (kind == "file")  # reading created nothing


def test_cli_list_of_a_missing_board_is_one_line_exit_3(tmp_path: Path) -> None:
    done = _cli("list", str(tmp_path / "nonexistent"))
    assert done.returncode == 3
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("apins: error: ") and "nonexistent" in lines[0]


async def test_writing_creates_the_board(tmp_path: Path) -> None:
    path = tmp_path / "new" / "board"
    f = tmp_path / "f.txt"
    f.write_text("x")
    async with apins.board_folder(path) as b:
        await b.pin_upload(f, "uploaded")
    async with apins.board_folder(tmp_path / "other") as b:
        await b.pin_write({"a": 1}, "written", type="json")
    import pins

    assert pins.board_folder(str(path)).pin_list() == ["uploaded"]
    assert pins.board_folder(str(tmp_path / "other")).pin_read("written") == {"a": 1}


# -- mirror --delete ---------------------------------------------------------------------------


def test_cli_mirror_delete_from_a_missing_source_deletes_nothing(tmp_path: Path) -> None:
    import asyncio

    target = tmp_path / "target"
    asyncio.run(_board_with_pins(target, "aaa", "bbb"))
    before = _tree(target)
    done = _cli("mirror", str(tmp_path / "typo-src"), str(target), "--delete")
    assert done.returncode == 3, done
    assert "typo-src" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert _tree(target) == before


async def test_mirror_delete_refuses_an_empty_source(tmp_path: Path) -> None:
    source, target = tmp_path / "src", tmp_path / "target"
    source.mkdir()
    await _board_with_pins(target, "aaa", "bbb")
    before = _tree(target)
    async with apins.board_folder(source) as s, apins.board_folder(target) as t:
        with pytest.raises(apins.PinsError, match="allow_empty_source=True"):
            await apins.mirror(s, t, delete=True)
        assert _tree(target) == before
        report = await apins.mirror(s, t, delete=True, dry_run=True, allow_empty_source=True)
        assert len(report.deleted) == 2 and _tree(target) == before
        report = await apins.mirror(s, t, delete=True, allow_empty_source=True)
    assert {r.pin for r in report.deleted} == {"aaa", "bbb"}
    async with apins.board_folder(target) as t:
        assert await t.pin_list() == []


def test_cli_mirror_delete_refuses_then_needs_the_flag(tmp_path: Path) -> None:
    import asyncio

    source, target = tmp_path / "src", tmp_path / "target"
    source.mkdir()
    asyncio.run(_board_with_pins(target, "aaa"))
    done = _cli("mirror", str(source), str(target), "--delete")
    assert done.returncode == 1 and "--allow-empty-source" in done.stderr
    assert (target / "aaa").is_dir()
    done = _cli("mirror", str(source), str(target), "--delete", "--allow-empty-source")
    assert done.returncode == 0, done.stderr
    assert not (target / "aaa").exists()


async def test_before_delete_sees_every_doomed_version_while_it_still_exists(
    tmp_path: Path,
) -> None:
    source, target = tmp_path / "src", tmp_path / "target"
    await _board_with_pins(source, "keep")
    # the target's "keep" is the source's own version (written apart, the two could fall in
    # different seconds and get different version names, and the target's would be doomed)
    async with apins.board_folder(source) as s, apins.board_folder(target) as t:
        await apins.mirror(s, t)
    await _board_with_pins(target, "gone1", "gone2")
    seen: list[tuple[str, bool]] = []

    def before(doomed: list[VersionRef]) -> None:
        for ref in doomed:
            seen.append((ref.pin, (target / ref.pin / str(ref.version)).is_dir()))

    async with apins.board_folder(source) as s, apins.board_folder(target) as t:
        report = await apins.mirror(s, t, delete=True, before_delete=before)
    assert sorted(p for p, _ in seen) == ["gone1", "gone2"]
    assert all(existed for _, existed in seen)
    assert sorted(r.pin for r in report.deleted) == ["gone1", "gone2"]


def test_cli_mirror_delete_prints_what_it_deletes_first(tmp_path: Path) -> None:
    import asyncio

    source, target = tmp_path / "src", tmp_path / "target"
    asyncio.run(_board_with_pins(source, "keep"))
    asyncio.run(_board_with_pins(target, "gone"))
    done = _cli("mirror", str(source), str(target), "--delete")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    announced = [i for i, x in enumerate(lines) if x.startswith("will delete gone ")]
    deleted = [i for i, x in enumerate(lines) if x.startswith("deleted gone ")]
    assert announced and deleted and announced[0] < deleted[0]


async def test_mirror_into_a_new_folder_creates_it(tmp_path: Path) -> None:
    await _board_with_pins(tmp_path / "src", "aaa")
    async with apins.board_folder(tmp_path / "src") as s, apins.board_folder(tmp_path / "new") as t:
        report = await apins.mirror(s, t, delete=True)
        assert [r.pin for r in report.copied] == ["aaa"]
        assert await t.pin_list() == ["aaa"]


# -- failed writes leave no trace --------------------------------------------------------------


class _Unserialisable:
    pass


@pytest.mark.parametrize("existing", [False, True])
async def test_a_failing_serialiser_leaves_no_trace(tmp_path: Path, existing: bool) -> None:
    board = tmp_path / "board"
    if existing:
        await _board_with_pins(board, "other")
    before = _tree(board) if existing else None
    async with apins.board_folder(board) as b:
        with pytest.raises(PinsError):
            await b.pin_write(_Unserialisable(), "p", type="json")
    if existing:
        assert _tree(board) == before
    else:
        assert not board.exists() or _tree(board) == []


def test_pin_write_without_joblib_leaves_no_trace_and_pins_python_can_search(
    tmp_path: Path,
) -> None:
    board = tmp_path / "board"
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["joblib"] = None  # as if joblib were not installed
        import apins.sync
        with apins.sync.board_folder({str(board)!r}) as b:
            b.pin_write({{"a": 1}}, "existing", type="json")
            try:
                b.pin_write({{"a": 1}}, "model", type="joblib")
            except apins.PinsError as e:
                print("refused:", type(e).__name__)
            else:
                raise SystemExit("pin_write did not fail")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=cli_env()
    )
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout
    assert sorted(p.name for p in board.iterdir()) == ["existing"]
    import pins

    found = pins.board_folder(str(board)).pin_search()
    assert list(found["name"]) == ["existing"]
