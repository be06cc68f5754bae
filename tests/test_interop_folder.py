"""Folder-board interoperability with the real pins-python 0.9.2 and with R-written boards.

Three directions: what pins-python writes apins reads (data and metadata equal); what apins
writes pins-python reads; the R-written fixture boards shipped in the pins wheel (spec §12)
read correctly with their hashes verified. Plus: YAML apins writes reads back the same in
PyYAML, for the words YAML 1.1 would otherwise turn into booleans, numbers or dates.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pins
import pyarrow as pa
import pytest
import yaml

import apins
from apins import _yaml
from apins.errors import HashMismatch, PickleNotAllowed
from apins.meta import Meta, MetaV0, dump_meta, parse_meta
from tests._helpers import copy_fixture, read_bytes

# ints, floats, strings, a null in a float and in a string column, booleans
DF = pd.DataFrame(
    {
        "i": [1, 2, 3],
        "f": [1.5, None, -3.25],
        "s": ["a", "b c", None],
        "b": [True, False, True],
    }
)
DF2 = DF.assign(extra=[10, 20, 30])
USER = {"source": "unit test", "n": 3, "nested": {"k": [1, 2]}}
TABLE_TYPES = ["csv", "parquet", "arrow"]


def _cell(v: Any) -> Any:
    """A plain Python value for comparison: numpy scalars unwrapped, every missing value None."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "item"):
        v = v.item()
        if isinstance(v, float) and math.isnan(v):
            return None
    return v


def records(df: pd.DataFrame) -> list[dict[str, tuple[str, Any]]]:
    """Rows of ``df`` with each value and its Python type name (so 1 != 1.0 != True)."""
    out = []
    for row in df.astype(object).to_dict("records"):
        cells = {str(k): _cell(v) for k, v in row.items()}
        out.append({k: (type(v).__name__, v) for k, v in cells.items()})
    return out


def assert_same_data(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert records(got) == records(want)


# -- pins-python writes, apins reads -----------------------------------------------------------


@pytest.fixture(scope="module")
def py_board(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder board written by pins-python: two versions of each table type, json, joblib,
    one- and two-file uploads, all with user metadata."""
    root = tmp_path_factory.mktemp("py-written")
    files = tmp_path_factory.mktemp("py-upload")
    board = pins.board_folder(str(root), allow_pickle_read=True)
    for ptype in [*TABLE_TYPES, "joblib"]:
        for df in (DF, DF2):
            board.pin_write(
                df, f"df_{ptype}", type=ptype, description=f"a {ptype} table", metadata=USER
            )
    board.pin_write({"a": 1, "b": [1, 2], "c": None}, "js", type="json", metadata=USER)
    board.pin_write({"a": 2, "é": "ü"}, "js", type="json", metadata=USER)
    (files / "f1.txt").write_bytes(b"abcdefg\n")
    (files / "f2.txt").write_bytes(b"hijklmnop\n")
    board.pin_upload(str(files / "f1.txt"), "one_file", metadata=USER)
    board.pin_upload([str(files / "f1.txt"), str(files / "f2.txt")], "two_files", metadata=USER)
    return root


def assert_meta_equal(mine: Meta, theirs: Any) -> None:
    """apins' Meta agrees with pins-python's Meta on every shared field."""
    assert isinstance(mine, Meta)
    assert mine.title == theirs.title
    assert mine.description == theirs.description
    assert mine.user == theirs.user
    assert mine.pin_hash == theirs.pin_hash
    assert mine.type == theirs.type
    assert mine.file == theirs.file
    assert mine.file_size == theirs.file_size
    assert mine.version == theirs.version.version
    assert mine.api_version == theirs.api_version
    assert mine.created is not None and mine.created_datetime is not None


async def _versions(board: apins.Board, name: str) -> list[str]:
    return [v.version for v in await board.pin_versions(name)]


def _py_versions(board: Any, name: str) -> list[str]:
    return [v.version for v in board.pin_versions(name, as_df=False)]


@pytest.mark.parametrize("ptype", TABLE_TYPES)
async def test_apins_reads_py_tables(py_board: Path, ptype: str) -> None:
    pyb = pins.board_folder(str(py_board))
    name = f"df_{ptype}"
    async with apins.board_folder(py_board) as board:
        versions = await _versions(board, name)
        assert versions == _py_versions(pyb, name)
        assert len(versions) == 2
        for version, original in zip(versions, _in_write_order(pyb, name, versions), strict=True):
            got = await board.pin_read(name, version, output="pandas")
            assert_same_data(got, original)
            assert_same_data(got, pyb.pin_read(name, version))
            table = await board.pin_read(name, version)
            assert isinstance(table, pa.Table)
            assert pa.types.is_integer(table.schema.field("i").type)
            assert pa.types.is_boolean(table.schema.field("b").type)
            mine = await board.pin_meta(name, version)
            assert_meta_equal(mine, pyb.pin_meta(name, version))
            assert mine.user == USER
            assert mine.description == f"a {ptype} table"


def _in_write_order(pyb: Any, name: str, versions: list[str]) -> list[pd.DataFrame]:
    """The frame written as each version (both writes share a second: order is by hash)."""
    out = []
    for v in versions:
        cols = pyb.pin_meta(name, v).title
        out.append(DF2 if "x 5" in cols else DF)
    return out


async def test_apins_reads_py_json(py_board: Path) -> None:
    pyb = pins.board_folder(str(py_board))
    async with apins.board_folder(py_board) as board:
        versions = await _versions(board, "js")
        assert versions == _py_versions(pyb, "js")
        got = [await board.pin_read("js", v) for v in versions]
        assert sorted(got, key=lambda d: d["a"]) == [
            {"a": 1, "b": [1, 2], "c": None},
            {"a": 2, "é": "ü"},
        ]
        for v in versions:
            assert_meta_equal(await board.pin_meta("js", v), pyb.pin_meta("js", v))


async def test_apins_reads_py_joblib_only_with_consent(
    py_board: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyb = pins.board_folder(str(py_board))
    async with apins.board_folder(py_board) as board:
        with pytest.raises(PickleNotAllowed, match="allow_pickle_read"):
            await board.pin_read("df_joblib")
        meta = await board.pin_meta("df_joblib")
        assert_meta_equal(meta, pyb.pin_meta("df_joblib"))
        monkeypatch.setenv("PINS_ALLOW_PICKLE_READ", "1")
        from_env = await board.pin_read("df_joblib")
    async with apins.board_folder(py_board, allow_pickle_read=True) as board:
        monkeypatch.delenv("PINS_ALLOW_PICKLE_READ")
        versions = await _versions(board, "df_joblib")
        for version, original in zip(
            versions, _in_write_order(pyb, "df_joblib", versions), strict=True
        ):
            got = await board.pin_read("df_joblib", version)
            pd.testing.assert_frame_equal(got, original)
    pd.testing.assert_frame_equal(from_env, _in_write_order(pyb, "df_joblib", versions)[-1])


async def test_apins_refuses_pickle_when_board_says_no_despite_env(
    py_board: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINS_ALLOW_PICKLE_READ", "1")
    async with apins.board_folder(py_board, allow_pickle_read=False) as board:
        with pytest.raises(PickleNotAllowed):
            await board.pin_read("df_joblib")


async def test_apins_downloads_py_uploads(py_board: Path) -> None:
    pyb = pins.board_folder(str(py_board))
    async with apins.board_folder(py_board) as board:
        one = await board.pin_download("one_file")
        assert [Path(p).name for p in one] == ["f1.txt"]
        assert read_bytes(one[0]) == b"abcdefg\n"
        two = await board.pin_download("two_files")
        assert [read_bytes(p) for p in two] == [b"abcdefg\n", b"hijklmnop\n"]
        for name in ("one_file", "two_files"):
            meta = await board.pin_meta(name)
            assert_meta_equal(meta, pyb.pin_meta(name))
            assert meta.type == "file"
        # pins-python's own multi-file hash convention (16 hex), accepted and verified
        assert len((await board.pin_meta("two_files")).pin_hash or "") == 16
        assert await board.pin_list() == sorted(pyb.pin_list())


# -- apins writes, pins-python reads -----------------------------------------------------------


@pytest.fixture(scope="module")
def apins_board(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder board written by apins (sync facade) in the types pins-python shares."""
    from apins import sync

    root = tmp_path_factory.mktemp("apins-written")
    upload = tmp_path_factory.mktemp("apins-upload") / "notes.txt"
    upload.write_bytes(b"some notes\n")
    with sync.board_folder(root) as board:
        for ptype in [*TABLE_TYPES, "joblib"]:
            for df in (DF, DF2):
                board.pin_write(
                    df, f"df_{ptype}", type=ptype, description=f"a {ptype} table",
                    metadata=USER, tags=["t1", "t2"],
                )  # fmt: skip
        board.pin_write({"a": 1, "b": [1, 2], "c": None, "é": "ü"}, "js", type="json",
                        metadata=USER, description="json data")  # fmt: skip
        board.pin_upload(upload, "notes", metadata=USER, description="a file")
        second = upload.with_name("more.txt")
        second.write_bytes(b"more notes\n")
        board.pin_upload([upload, second], "two_notes")
    return root


@pytest.mark.parametrize("ptype", [*TABLE_TYPES, "joblib"])
async def test_py_reads_apins_tables(apins_board: Path, ptype: str) -> None:
    pyb = pins.board_folder(str(apins_board), allow_pickle_read=True)
    name = f"df_{ptype}"
    async with apins.board_folder(apins_board) as board:
        versions = await _versions(board, name)
        assert _py_versions(pyb, name) == versions
        assert len(versions) == 2
        for version, original in zip(versions, (DF, DF2), strict=True):
            got = pyb.pin_read(name, version)
            assert isinstance(got, pd.DataFrame)
            if ptype == "csv":
                assert_same_data(got, original)
            else:
                pd.testing.assert_frame_equal(got, original)
            theirs = pyb.pin_meta(name, version)
            mine = await board.pin_meta(name, version)
            assert_meta_equal(mine, theirs)
            assert theirs.user == USER
            assert theirs.description == f"a {ptype} table"
            assert theirs.tags == ["t1", "t2"]
            assert theirs.title == f"{name}: a pinned 3 x {original.shape[1]} data frame"


async def test_py_reads_apins_json_upload_list_search(apins_board: Path) -> None:
    pyb = pins.board_folder(str(apins_board), allow_pickle_read=True)
    assert pyb.pin_read("js") == {"a": 1, "b": [1, 2], "c": None, "é": "ü"}
    meta = pyb.pin_meta("js")
    assert meta.user == USER
    assert meta.description == "json data"
    assert meta.type == "json"
    paths = pyb.pin_download("notes")
    assert [read_bytes(p) for p in paths] == [b"some notes\n"]
    assert pyb.pin_meta("notes").type == "file"
    assert pyb.pin_meta("notes").user == USER
    two = pyb.pin_download("two_notes")  # R's 32-hex multi-file hash; pins-python copes
    assert [read_bytes(p) for p in two] == [b"some notes\n", b"more notes\n"]
    assert pyb.pin_meta("two_notes").file == ["notes.txt", "more.txt"]
    async with apins.board_folder(apins_board) as board:
        assert sorted(pyb.pin_list()) == await board.pin_list()
    found = pyb.pin_search("df_")
    assert sorted(found["name"]) == ["df_arrow", "df_csv", "df_joblib", "df_parquet"]
    assert len(pyb.pin_search("json data")) == 0  # names and titles only, not descriptions
    assert sorted(pyb.pin_search("notes")["name"]) == ["notes", "two_notes"]


# -- R-written boards shipped in the pins wheel ------------------------------------------------


@pytest.fixture
def compat(tmp_path: Path) -> Path:
    return copy_fixture("pins-compat", tmp_path)


async def test_r_compat_board(compat: Path) -> None:
    async with apins.board_folder(compat) as board:
        assert await board.pin_list() == ["df_arrow", "df_csv", "df_rds", "df_unversioned"]
        assert await _versions(board, "df_csv") == [
            "20220214T163718Z-eceac",
            "20220214T163720Z-9bfad",
        ]
        old = await board.pin_read("df_csv", "20220214T163718Z-eceac", output="pandas")
        new = await board.pin_read("df_csv", output="pandas")
        assert_same_data(old, pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}))
        assert_same_data(new, pd.DataFrame({"x": [1, 2], "y": ["a", "b"], "z": [3, 4]}))
        meta = await board.pin_meta("df_csv")
        assert isinstance(meta, Meta)
        assert meta.title == "df_csv: a pinned 2 x 3 data frame"
        assert meta.description is None
        assert meta.api_version == 1  # written as 1.0 by R
        assert meta.pin_hash == "9bfad6d1a322a904"
        assert meta.file == "df_csv.csv"
        assert meta.file_size == 28
        assert meta.type == "csv"
        assert meta.created == "20220214T163720Z"
        assert meta.user == {}
        want = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
        for name in ("df_arrow", "df_rds", "df_unversioned"):
            assert_same_data(await board.pin_read(name, output="pandas"), want)
        assert (await board.pin_meta("df_arrow")).pin_hash == "ad0c1a5a64ad7ca7"
        assert (await board.pin_meta("df_rds")).type == "rds"


async def test_r_compat_board_hash_mismatch_returns_nothing(compat: Path) -> None:
    data = compat / "df_csv" / "20220214T163720Z-9bfad" / "df_csv.csv"
    data.write_bytes(data.read_bytes().replace(b"3", b"9"))
    async with apins.board_folder(compat) as board:
        with pytest.raises(HashMismatch, match="9bfad6d1a322a904"):
            await board.pin_read("df_csv")
        with pytest.raises(HashMismatch):
            await board.pin_download("df_csv")
        # the untouched version still reads
        old = await board.pin_read("df_csv", "20220214T163718Z-eceac")
        assert old.num_columns == 2


async def test_r_pin_board_with_manifest(tmp_path: Path) -> None:
    root = copy_fixture("pin-board", tmp_path)
    async with apins.board_folder(root) as board:
        assert await board.pin_list() == ["x", "y"]  # _pins.yaml is not a pin
        assert await _versions(board, "y") == [
            "20221215T180357Z-9ae7a",
            "20221215T180400Z-b81d5",
        ]
        assert await board.pin_read("x") == list(range(1, 11))
        assert await board.pin_read("y", "20221215T180357Z-9ae7a") == list(range(11, 21))
        assert await board.pin_read("y") == list(range(1, 21))
        meta = await board.pin_meta("y")
        assert isinstance(meta, Meta)
        assert meta.title == "y: a pinned integer vector"
        assert meta.tags is None
        assert meta.type == "json"
        assert meta.pin_hash == "b81d5bea9e760608"
        assert (await board.pin_meta("x")).pin_hash == "c3943ca5a9aab2df"
        rds = root / "y" / "20221215T180357Z-9ae7a" / "y.rds"
        raw = bytearray(rds.read_bytes())
        raw[20] ^= 0xFF
        rds.write_bytes(bytes(raw))
        with pytest.raises(HashMismatch):
            await board.pin_read("y", "20221215T180357Z-9ae7a")


async def test_r_old_types_v0_table(tmp_path: Path) -> None:
    root = copy_fixture("pins-old-types", tmp_path)
    async with apins.board_folder(root) as board:
        assert await board.pin_list() == ["a-table"]
        assert await _versions(board, "a-table") == ["v"]
        meta = await board.pin_meta("a-table")
        assert isinstance(meta, MetaV0)
        assert meta.type == "table"
        assert meta.files == ["data.csv", "data.rds"]
        assert meta.original_fields["columns"] == {"a": "integer", "b": "character"}
        got = await board.pin_read("a-table", output="pandas")
        assert_same_data(got, pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))


# -- YAML written by apins reads back the same in PyYAML ---------------------------------------

TRICKY = [
    "y", "Y", "n", "N", "yes", "no", "No", "on", "off", "OFF", "true", "False", "null", "Null",
    "~", "", " ", "1.0", "1e5", "1E-5", "0x1F", "0o17", "017", "1_000", "1:30", ".inf", "-.Inf",
    ".nan", "2020-01-01", "2020-01-01T10:00:00Z", "+1", "-2", "é ü 中文 🎉", "line1\nline2",
    "tab\there", "it's", 'say "hi"', "a: b", "a #b", "- item", "[1]", "{a}", "*alias",
    "&anchor", "!tag", "%pct", "@at", "`tick", "|", ">", "key:", "?", "#c", "trailing ",
    " leading", "back\\slash", "\x01ctl", "=", "<<", "a\u2028b", "x\x85y", "\x9f", "a\u2029b",
    "\ufeffbom", "\ufffe", "\x7f", "x\ud800y",
]  # fmt: skip


@pytest.fixture
def tricky_user() -> dict[str, Any]:
    user: dict[str, Any] = {s: s for s in TRICKY if s}
    user["values"] = list(TRICKY)
    user["types"] = [
        None,
        True,
        False,
        0,
        -1,
        1.5,
        1e100,
        1e-5,
        2.5e-7,
        1e16,
        [],
        {},
        {"y": ["n", None]},
    ]
    return user


def test_yaml_dump_reads_back_in_pyyaml(tricky_user: dict[str, Any]) -> None:
    text = _yaml.dump(tricky_user)
    assert yaml.safe_load(text) == tricky_user
    assert _yaml.load(text) == tricky_user


async def test_tricky_metadata_survives_both_libraries(
    tmp_path: Path, tricky_user: dict[str, Any]
) -> None:
    async with apins.board_folder(tmp_path) as board:
        meta = await board.pin_write(
            {"x": 1}, "tricky", type="json", metadata=tricky_user, title="y",
            description="no", tags=["on", "1.0", "~"],
        )  # fmt: skip
        raw = (tmp_path / "tricky" / str(meta.version) / "data.txt").read_bytes()
        plain = yaml.safe_load(raw)
        assert plain["user"] == tricky_user
        assert plain["title"] == "y"
        assert plain["description"] == "no"
        assert plain["tags"] == ["on", "1.0", "~"]
        assert plain["api_version"] == 1
        assert isinstance(plain["created"], str)
        back = await board.pin_meta("tricky")
        assert back.user == tricky_user
        assert parse_meta(dump_meta(meta)).user == tricky_user  # type: ignore[union-attr]
    theirs = pins.board_folder(str(tmp_path)).pin_meta("tricky")
    assert theirs.user == tricky_user
    assert theirs.title == "y"
    assert theirs.description == "no"


def test_every_tricky_string_is_quoted() -> None:
    """Strings that YAML 1.1 (R's yaml) reads as non-strings are never written bare."""
    bare_risky = ["y", "n", "yes", "no", "on", "off", "true", "null", "~", "1.0", "1e5", "0x1F"]
    for s in [*bare_risky, "2020-01-01"]:
        line = _yaml.dump({"k": s}).strip()
        assert line != f"k: {s}", line
        assert yaml.safe_load(line) == {"k": s}


@pytest.fixture(autouse=True)
def _no_stray_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("PINS_ALLOW_PICKLE_READ", raising=False)
    yield
