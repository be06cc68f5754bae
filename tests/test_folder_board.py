"""Every pin verb on local folder boards (board_folder, board_temp): behaviour and refusals."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import xxhash
import yaml

import apins
from apins.errors import (
    HashMismatch,
    InvalidMetadata,
    InvalidPinName,
    PinNotFound,
    PinsError,
    UnsupportedType,
    VersionConflict,
    VersionNotFound,
)
from apins.hashing import r_multi_hash
from apins.meta import Meta
from tests._helpers import PINS_FIXTURES, copy_fixture, exists, hidden_names, read_bytes

TABLE = pa.table({"a": [1, 2, 3], "b": ["x", "y", None]})


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "board"
    path.mkdir()  # an existing (empty) board: reading a missing one raises BoardNotFound
    return path


@pytest.fixture
async def board(root: Path) -> AsyncIterator[apins.Board]:
    async with apins.board_folder(root) as b:
        yield b


async def versions_of(board: apins.Board, name: str) -> list[str]:
    return [v.version for v in await board.pin_versions(name)]


def write_version(
    root: Path, pin: str, version: str, data_txt: str, files: dict[str, bytes]
) -> Path:
    """Hand-write a version folder (as another writer, or an attacker, would)."""
    d = root / pin / version
    d.mkdir(parents=True)
    for name, content in files.items():
        (d / name).write_bytes(content)
    (d / "data.txt").write_text(data_txt)
    return d


def data_txt(file: str, pin_hash: str, ptype: str = "json", size: int = 1) -> str:
    return (
        f"file: {file}\nfile_size: {size}\npin_hash: {pin_hash}\ntype: {ptype}\n"
        "title: hand made\ndescription: ~\ncreated: 20200101T000000Z\napi_version: 1\n"
    )


# -- write / read / meta -----------------------------------------------------------------------


async def test_write_read_meta_round_trip(board: apins.Board, root: Path) -> None:
    meta = await board.pin_write(
        TABLE, "tbl", type="parquet", title="my table", description="d",
        metadata={"owner": "me"}, tags=["a"], urls=["https://example.invalid/x"],
    )  # fmt: skip
    assert isinstance(meta, Meta)
    assert meta.version is not None
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{5}", meta.version)
    assert meta.version.endswith((meta.pin_hash or "")[:5])
    data_file = root / "tbl" / meta.version / "tbl.parquet"
    assert meta.pin_hash == xxhash.xxh64(data_file.read_bytes()).hexdigest()
    assert meta.file_size == data_file.stat().st_size
    assert (await board.pin_read("tbl")).equals(TABLE)
    back = await board.pin_meta("tbl")
    assert isinstance(back, Meta)
    assert (back.title, back.description, back.user, back.tags, back.urls) == (
        "my table", "d", {"owner": "me"}, ["a"], ["https://example.invalid/x"],
    )  # fmt: skip
    assert (back.pin_hash, back.version, back.file, back.type) == (
        meta.pin_hash, meta.version, "tbl.parquet", "parquet",
    )  # fmt: skip
    assert back.local["dir"] == str(root / "tbl" / meta.version)
    raw = yaml.safe_load((root / "tbl" / meta.version / "data.txt").read_text())
    assert raw["api_version"] == 1
    assert raw["user"] == {"owner": "me"}


async def test_default_types_and_titles(board: apins.Board) -> None:
    t = await board.pin_write(TABLE, "t")
    assert (t.type, t.title) == ("parquet", "t: a pinned 3 x 2 data frame")
    j = await board.pin_write({"k": [1, 2]}, "j")
    assert (j.type, j.title) == ("json", "j: a pinned dict object")
    assert await board.pin_read("j") == {"k": [1, 2]}


async def test_board_temp_is_removed_on_close() -> None:
    board = apins.board_temp()
    await board.pin_write([1, 2], "x", type="json")
    folder = Path(board.board_deparse().split("'")[1])
    assert (folder / "x").is_dir()
    assert await board.pin_read("x") == [1, 2]
    await board.aclose()
    assert not exists(folder)


async def test_created_is_utc(board: apins.Board, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: local time is a different day
    time.tzset()
    try:
        before = datetime.now(timezone.utc).replace(microsecond=0)
        meta = await board.pin_write([1], "when", type="json")
        after = datetime.now(timezone.utc)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert meta.created is not None and meta.created.endswith("Z")
    created = datetime.strptime(meta.created, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    assert before <= created <= after
    assert meta.version is not None and meta.version.startswith(meta.created)


# -- versions ----------------------------------------------------------------------------------


async def test_versions_list_in_write_order_within_one_second(board: apins.Board) -> None:
    written = [await board.pin_write({"i": i}, "fast", type="json") for i in range(6)]
    listed = await board.pin_versions("fast")
    assert [v.version for v in listed] == [m.version for m in written]
    created = [v.created for v in listed]
    assert all(b is not None and a is not None and b > a for a, b in itertools.pairwise(created))
    for i, v in enumerate(listed):
        assert await board.pin_read("fast", v.version) == {"i": i}
    assert await board.pin_read("fast") == {"i": 5}
    df = await board.pin_versions("fast", as_df=True)
    assert list(df.columns) == ["created", "hash", "version"]
    assert list(df["version"]) == [m.version for m in written]


async def test_write_after_a_future_dated_version_still_sorts_last(board: apins.Board) -> None:
    future = datetime.now(timezone.utc) + timedelta(hours=2)
    first = await board.pin_write({"v": 1}, "clock", type="json", created=future)
    second = await board.pin_write({"v": 2}, "clock", type="json")
    assert await versions_of(board, "clock") == [first.version, second.version]
    assert await board.pin_read("clock") == {"v": 2}


async def test_pin_exists_and_missing_pins(board: apins.Board) -> None:
    assert not await board.pin_exists("nope")
    await board.pin_write([1], "yes", type="json")
    assert await board.pin_exists("yes")
    with pytest.raises(PinNotFound):
        await board.pin_versions("nope")
    with pytest.raises(PinNotFound):
        await board.pin_read("nope")
    with pytest.raises(VersionNotFound):
        await board.pin_meta("yes", "20000101T000000Z-00000")


async def test_pin_list_ignores_manifest_hidden_and_stray(board: apins.Board, root: Path) -> None:
    await board.pin_write([1], "real", type="json")
    (root / "_pins.yaml").write_text("real:\n- real/x/\n")
    (root / "README.txt").write_text("stray file")
    (root / ".DS_Store").write_text("junk")
    write_version(root, ".hidden", "20200101T000000Z-abcde", data_txt("x.json", "0"), {})
    (root / "empty-dir").mkdir()
    (root / "real" / "stray.txt").write_text("not a version")
    assert await board.pin_list() == ["real"]
    assert len(await board.pin_versions("real")) == 1
    assert not await board.pin_exists("empty-dir")


async def test_pin_search(board: apins.Board) -> None:
    await board.pin_write([1], "sales-2024", type="json", title="Quarterly numbers")
    await board.pin_write([2], "costs", type="json", title="Sales costs by month")
    await board.pin_write([3], "other", type="json", title="nothing here")
    assert sorted(m.name for m in await board.pin_search()) == ["costs", "other", "sales-2024"]
    assert [m.name for m in await board.pin_search("^sales")] == ["sales-2024"]  # name
    assert [m.name for m in await board.pin_search("costs by")] == ["costs"]  # title
    assert sorted(m.name for m in await board.pin_search("[Ss]ales")) == ["costs", "sales-2024"]
    assert await board.pin_search("zzz") == []
    df = await board.pin_search("s", as_df=True)
    assert list(df.columns) == ["name", "type", "title", "created", "file_size", "meta"]
    assert set(df["name"]) == {"sales-2024", "costs"}
    assert set(df["type"]) == {"json"}


# -- upload / download / hashes ----------------------------------------------------------------


async def test_pin_upload_one_file(board: apins.Board, root: Path, tmp_path: Path) -> None:
    src = tmp_path / "report.pdf"
    src.write_bytes(b"%PDF- pretend")
    meta = await board.pin_upload(src)
    assert meta.name == "report.pdf"
    assert (meta.type, meta.file, meta.file_size) == ("file", "report.pdf", 13)
    assert meta.pin_hash == xxhash.xxh64(b"%PDF- pretend").hexdigest()
    paths = await board.pin_download("report.pdf")
    assert paths == [str(root / "report.pdf" / str(meta.version) / "report.pdf")]
    assert read_bytes(paths[0]) == b"%PDF- pretend"
    with pytest.raises(UnsupportedType, match="pin_download"):
        await board.pin_read("report.pdf")


async def test_pin_upload_several_files_uses_r_hash(
    board: apins.Board, root: Path, tmp_path: Path
) -> None:
    f1, f2 = tmp_path / "f1.txt", tmp_path / "f2.txt"
    f1.write_bytes(b"abcdefg\n")
    f2.write_bytes(b"hijklmnop\n")
    meta = await board.pin_upload([f1, f2], "files")
    assert meta.pin_hash == "7bdc4d364edbe361dd14652ca8a9be4a"  # R's fixture pin-files (§3.2)
    hashes = [xxhash.xxh64(p.read_bytes()).hexdigest() for p in (f1, f2)]
    assert meta.pin_hash == r_multi_hash(hashes)
    assert re.fullmatch(r"[0-9a-f]{32}", meta.pin_hash)
    assert (meta.file, meta.file_size) == (["f1.txt", "f2.txt"], [8, 10])
    paths = await board.pin_download("files", hash="7bdc4")
    assert [read_bytes(p) for p in paths] == [b"abcdefg\n", b"hijklmnop\n"]
    assert all(Path(p).parent.parent == root / "files" for p in paths)
    raw = yaml.safe_load((Path(paths[0]).parent / "data.txt").read_text())
    assert raw["file"] == ["f1.txt", "f2.txt"]
    assert raw["type"] == "file"


async def test_pin_upload_refusals(board: apins.Board, tmp_path: Path) -> None:
    bad = tmp_path / "data.txt"
    bad.write_text("x")
    with pytest.raises(PinsError, match=r"data\.txt"):
        await board.pin_upload(bad, "d")
    with pytest.raises(PinsError, match="not a file"):
        await board.pin_upload(tmp_path / "missing.csv", "m")
    f = tmp_path / "a.txt"
    f.write_text("a")
    f.with_name("b.txt").write_text("b")
    with pytest.raises(InvalidPinName):
        await board.pin_upload([f, f.with_name("b.txt")], None)
    assert await board.pin_list() == []


async def test_hash_argument(board: apins.Board) -> None:
    meta = await board.pin_write({"x": 1}, "h", type="json")
    full = meta.pin_hash
    assert full is not None
    assert await board.pin_read("h", hash=full) == {"x": 1}
    assert await board.pin_read("h", hash=full[:5].upper()) == {"x": 1}
    wrong = ("0" if full[0] != "0" else "1") + full[1:5]
    with pytest.raises(HashMismatch, match=wrong):
        await board.pin_read("h", hash=wrong)
    with pytest.raises(HashMismatch):
        await board.pin_download("h", hash=wrong)


async def test_tampered_file_raises_hash_mismatch(board: apins.Board, root: Path) -> None:
    meta = await board.pin_write(TABLE, "tbl", type="csv")
    (root / "tbl" / str(meta.version) / "tbl.csv").write_text('"a","b"\n9,"z"\n')
    with pytest.raises(HashMismatch, match=str(meta.pin_hash)):
        await board.pin_read("tbl")


# -- versioned / unversioned (§3.5) ------------------------------------------------------------


async def test_unversioned_write_replaces_the_only_version(board: apins.Board) -> None:
    first = await board.pin_write({"v": 1}, "u", type="json")
    second = await board.pin_write({"v": 2}, "u", type="json", versioned=False)
    assert await versions_of(board, "u") == [second.version]
    assert first.version != second.version
    assert await board.pin_read("u") == {"v": 2}


async def test_unversioned_write_refused_with_several_versions(board: apins.Board) -> None:
    await board.pin_write({"v": 1}, "u", type="json")
    await board.pin_write({"v": 2}, "u", type="json")
    before = await versions_of(board, "u")
    with pytest.raises(VersionConflict, match="versioned"):
        await board.pin_write({"v": 3}, "u", type="json", versioned=False)
    assert await versions_of(board, "u") == before


async def test_unversioned_board_keeps_versioning_a_versioned_pin(root: Path) -> None:
    async with apins.board_folder(root, versioned=False) as board:
        await board.pin_write({"v": 1}, "u", type="json")
        await board.pin_write({"v": 2}, "u", type="json")
        assert len(await board.pin_versions("u")) == 1  # board default: replace
        await board.pin_write({"v": 3}, "u", type="json", versioned=True)
        await board.pin_write({"v": 4}, "u", type="json")  # None + 2 versions → versioned
        assert len(await board.pin_versions("u")) == 3


async def test_identical_unversioned_rewrite_keeps_the_version(root: Path) -> None:
    """pins-python's bug (spec §11.9) deletes the only version here; apins must not."""
    async with apins.board_folder(root, versioned=False) as board:
        first = await board.pin_write({"same": True}, "same", type="json")
        again = await board.pin_write({"same": True}, "same", type="json")
        assert again.version == first.version
        assert await versions_of(board, "same") == [first.version]
        assert await board.pin_read("same") == {"same": True}
        assert sorted(p.name for p in (root / "same").iterdir()) == [first.version]


async def test_identical_write_is_skipped_unless_forced(board: apins.Board) -> None:
    first = await board.pin_write({"a": 1}, "p", type="json")
    again = await board.pin_write({"a": 1}, "p", type="json")
    assert again.version == first.version
    assert await versions_of(board, "p") == [first.version]
    forced = await board.pin_write({"a": 1}, "p", type="json", force_identical_write=True)
    assert await versions_of(board, "p") == [first.version, forced.version]
    assert forced.pin_hash == first.pin_hash


# -- pruning and deleting ----------------------------------------------------------------------


async def _dated_versions(board: apins.Board) -> list[str]:
    now = datetime.now(timezone.utc)
    for i, when in enumerate([now - timedelta(days=400), now - timedelta(days=40), now]):
        await board.pin_write({"i": i}, "pr", type="json", created=when)
    return await versions_of(board, "pr")


async def test_prune_by_n(board: apins.Board) -> None:
    vs = await _dated_versions(board)
    deleted = await board.pin_versions_prune("pr", n=2)
    assert [v.version for v in deleted] == vs[:1]
    assert await versions_of(board, "pr") == vs[1:]
    assert await board.pin_versions_prune("pr", n=5) == []
    await board.pin_versions_prune("pr", n=1)
    assert await versions_of(board, "pr") == vs[-1:]


async def test_prune_by_days(board: apins.Board) -> None:
    vs = await _dated_versions(board)
    deleted = await board.pin_versions_prune("pr", days=100)
    assert [v.version for v in deleted] == vs[:1]
    assert await versions_of(board, "pr") == vs[1:]
    await board.pin_versions_prune("pr", days=0)  # everything is old, but the newest stays
    assert await versions_of(board, "pr") == vs[-1:]
    assert await board.pin_read("pr") == {"i": 2}


async def test_prune_never_deletes_the_newest_even_when_old(board: apins.Board) -> None:
    old = datetime(2020, 1, 1, tzinfo=timezone.utc)
    await board.pin_write([1], "old", type="json", created=old)
    await board.pin_write([2], "old", type="json", created=old + timedelta(days=1))
    await board.pin_versions_prune("old", days=1)
    assert await versions_of(board, "old") == ["20200102T000000Z-" + (
        (await board.pin_meta("old")).pin_hash or "")[:5]]  # fmt: skip


async def test_prune_argument_errors(board: apins.Board) -> None:
    await _dated_versions(board)
    with pytest.raises(ValueError, match=r"n= .*or days="):
        await board.pin_versions_prune("pr")
    with pytest.raises(ValueError, match="not both"):
        await board.pin_versions_prune("pr", n=1, days=1)
    with pytest.raises(ValueError, match="at least 1"):
        await board.pin_versions_prune("pr", n=0)
    assert len(await board.pin_versions("pr")) == 3


async def test_pin_version_delete_and_pin_delete(board: apins.Board, root: Path) -> None:
    a = await board.pin_write({"v": 1}, "d", type="json")
    b = await board.pin_write({"v": 2}, "d", type="json")
    await board.pin_version_delete("d", str(a.version))
    assert await versions_of(board, "d") == [b.version]
    assert not (root / "d" / str(a.version)).exists()
    await board.pin_write([0], "keep", type="json")
    await board.pin_delete("d")
    assert await board.pin_list() == ["keep"]
    assert not (root / "d").exists()
    with pytest.raises(PinNotFound, match="missing"):
        await board.pin_delete("missing")
    with pytest.raises(PinNotFound):  # checked before anything is deleted
        await board.pin_delete(["keep", "missing"])
    assert await board.pin_list() == ["keep"]
    assert hidden_names(root) == []


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "..\\x"])
async def test_bad_version_names_touch_nothing(board: apins.Board, bad: str) -> None:
    await board.pin_write([1], "v", type="json")
    await board.pin_write([2], "v", type="json")
    before = await versions_of(board, "v")
    with pytest.raises(VersionNotFound):
        await board.pin_version_delete("v", bad)  # "" once named the whole pin folder
    with pytest.raises(VersionNotFound):
        await board.pin_meta("v", bad)
    assert await versions_of(board, "v") == before


async def test_pin_search_skips_an_unreadable_pin(
    board: apins.Board, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await board.pin_write([1], "good", type="json")
    d = write_version(root, "broken", "20200101T000000Z-abcde", "", {})
    (d / "data.txt").write_text("file: [unclosed\n")
    assert [m.name for m in await board.pin_search()] == ["good"]
    assert "broken" in caplog.text


# -- refusals: names, metadata, types ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "needle"),
    [("a/b", "'/'"), ("a\\b", "'\\\\'"), ("_pins.yaml", "reserved"), (3, "string"), ("", "empty")],
)
async def test_invalid_names(board: apins.Board, name: Any, needle: str) -> None:
    with pytest.raises(InvalidPinName) as err:
        await board.pin_write([1], name, type="json")
    assert needle in str(err.value)
    with pytest.raises(InvalidPinName):
        await board.pin_read(name)
    assert await board.pin_list() == []


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "C:\\x", "..\\..\\x", "sub/../../x"])
async def test_data_txt_file_outside_version_is_refused(
    board: apins.Board, root: Path, bad: str
) -> None:
    (root.parent / "x").write_text("secret")
    quoted = "'" + bad.replace("'", "''") + "'"
    write_version(root, "evil", "20200101T000000Z-abcde", data_txt(quoted, "abcde"), {})
    for call in (board.pin_meta, board.pin_read, board.pin_download):
        with pytest.raises(InvalidMetadata, match="outside"):
            await call("evil")


@pytest.mark.parametrize(
    "text",
    [
        "file: [unclosed\n",
        "a: &x [1, 2]\nfile: *x\napi_version: 1\n",
        "file: !!python/object/apply:os.system ['echo hacked']\napi_version: 1\n",
        "!!python/object:builtins.dict {}\n",
        "just a string\n",
        "\xff\xfe not utf8",
    ],
)
async def test_corrupt_or_hostile_yaml(board: apins.Board, root: Path, text: str) -> None:
    d = write_version(root, "bad", "20200101T000000Z-abcde", "", {})
    (d / "data.txt").write_bytes(text.encode("latin-1"))
    with pytest.raises(InvalidMetadata):
        await board.pin_meta("bad")
    with pytest.raises(InvalidMetadata):
        await board.pin_read("bad")


async def test_version_without_data_txt_is_invisible(board: apins.Board, root: Path) -> None:
    crashed = root / "pin" / "20200101T000000Z-abcde"
    crashed.mkdir(parents=True)
    (crashed / "pin.json").write_text("[1]")
    assert await board.pin_list() == []
    assert not await board.pin_exists("pin")
    with pytest.raises(PinNotFound):
        await board.pin_read("pin")
    meta = await board.pin_write([2], "pin", type="json")
    assert await versions_of(board, "pin") == [meta.version]
    assert await board.pin_read("pin") == [2]


async def test_reading_qs_is_unsupported(board: apins.Board, root: Path) -> None:
    content = b"qs bytes"
    digest = xxhash.xxh64(content).hexdigest()
    write_version(
        root, "q", f"20200101T000000Z-{digest[:5]}", data_txt("q.qs", digest, "qs", 8),
        {"q.qs": content},
    )  # fmt: skip
    assert (await board.pin_meta("q")).type == "qs"
    with pytest.raises(UnsupportedType, match="qs"):
        await board.pin_read("q")
    assert [Path(p).name for p in await board.pin_download("q")] == ["q.qs"]


async def test_unknown_keys_are_kept(board: apins.Board, root: Path) -> None:
    content = b"[1]"
    digest = xxhash.xxh64(content).hexdigest()
    text = data_txt("k.json", digest, "json", 3) + "object:\n  kind: x\n"
    write_version(root, "k", f"20200101T000000Z-{digest[:5]}", text, {"k.json": content})
    meta = await board.pin_meta("k")
    assert isinstance(meta, Meta)
    assert meta.extra == {"object": {"kind": "x"}}
    assert await board.pin_read("k") == [1]


# -- manifest ----------------------------------------------------------------------------------


async def test_write_board_manifest_matches_r(tmp_path: Path) -> None:
    root = copy_fixture("pin-board", tmp_path)
    (root / "_pins.yaml").unlink()
    async with apins.board_folder(root) as board:
        manifest = await board.write_board_manifest()
        assert manifest == {
            "x": ["x/20221215T180351Z-c3943/"],
            "y": ["y/20221215T180357Z-9ae7a/", "y/20221215T180400Z-b81d5/"],
        }
        # byte for byte what R's write_board_manifest wrote (note R's quoted 'y')
        assert (root / "_pins.yaml").read_bytes() == (
            PINS_FIXTURES / "pin-board" / "_pins.yaml"
        ).read_bytes()
        assert await board.pin_list() == ["x", "y"]
        await board.pin_write([1], "z", type="json")
        again = await board.write_board_manifest()
        assert list(again) == ["x", "y", "z"]
        assert yaml.safe_load((root / "_pins.yaml").read_text()) == again
        assert await board.pin_list() == ["x", "y", "z"]


async def test_board_repr_and_deparse(tmp_path: Path) -> None:
    root = tmp_path / "not-yet"
    board = apins.board_folder(root, allow_pickle_read=True)
    assert board.board_deparse() == f"board_folder({str(root)!r}, allow_pickle_read=True)"
    assert str(root) in repr(board)
    await board.aclose()
    assert not exists(root)  # no I/O: nothing was created


def test_fixture_copy_is_independent(tmp_path: Path) -> None:
    root = copy_fixture("pins-compat", tmp_path)
    assert (root / "df_csv").is_dir()
    shutil.rmtree(root / "df_csv")
    assert (PINS_FIXTURES / "pins-compat" / "df_csv").is_dir()
    assert os.access(PINS_FIXTURES / "pins-compat", os.R_OK)


async def test_missing_version_delete_and_bad_regex_are_clear_errors(tmp_path: Path) -> None:
    async with apins.board_folder(tmp_path / "b") as board:
        await board.pin_write({"a": 1}, "p", type="json")
        with pytest.raises(apins.VersionNotFound):
            await board.pin_version_delete("p", "20000101T000000Z-abcde")
        with pytest.raises(apins.PinsError, match="regular expression"):
            await board.pin_search("(unclosed")
        assert await board.pin_read("p") == {"a": 1}
