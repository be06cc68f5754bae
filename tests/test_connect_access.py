"""Who may read a pin on Connect: pin_write(access_type=) and pin_share / pin_unshare."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pyarrow as pa
import pytest

import apins
from apins import sync
from apins.connect import ConnectBoard, board_connect
from apins.errors import PinsError, StoreAccessError, UnsupportedType
from apins.testing.connect import ConnectEmulator, run_in_thread
from tests.connect_support import USERS, api

TABLE = pa.table({"n": [1, 2, 3]})
GROUPS = {"analysts": ["carol"]}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ConnectEmulator]:
    async with ConnectEmulator(root=tmp_path / "connect", users=USERS, groups=GROUPS) as s:
        yield s


@pytest.fixture
async def alice(server: ConnectEmulator, tmp_path: Path) -> AsyncIterator[ConnectBoard]:
    async with board_connect(server.url, "key-a", cache=tmp_path / "cache-a") as b:
        yield b


async def _content(server: ConnectEmulator, name: str) -> dict[str, object]:
    items = await api(server.url, "key-a", "GET", f"v1/content?name={name}")
    assert len(items) == 1
    return dict(items[0])


async def _status(url: str, key: str | None) -> int:
    headers = {"Authorization": f"Key {key}"} if key else {}
    async with aiohttp.ClientSession() as s, s.get(url, headers=headers) as r:
        return r.status


async def _can_read(server: ConnectEmulator, tmp_path: Path, key: str, name: str) -> bool:
    async with board_connect(server.url, key, cache=False) as b:
        try:
            await b.pin_read(name)
        except PinsError:
            return False
        return True


async def test_access_type_on_create_kept_unless_asked(
    alice: ConnectBoard, server: ConnectEmulator
) -> None:
    await alice.pin_write(TABLE, "default-acl", type="csv")
    assert (await _content(server, "default-acl"))["access_type"] == "acl"

    meta = await alice.pin_write(TABLE, "public", type="csv", access_type="all")
    content = await _content(server, "public")
    assert content["access_type"] == "all"
    data_url = f"{content['content_url']}_rev{meta.version}/data.txt"
    assert await _status(data_url, None) == 200  # anonymous readers

    await alice.pin_write(pa.table({"n": [4]}), "public", type="csv")  # not asked: kept
    assert (await _content(server, "public"))["access_type"] == "all"
    # asked, with identical content (no new version is written): the access still changes
    await alice.pin_write(pa.table({"n": [4]}), "public", type="csv", access_type="logged_in")
    assert (await _content(server, "public"))["access_type"] == "logged_in"
    assert len(await alice.pin_versions("public")) == 2


async def test_bad_access_type_writes_nothing(
    alice: ConnectBoard, server: ConnectEmulator, tmp_path: Path
) -> None:
    with pytest.raises(PinsError, match="access_type must be one of"):
        await alice.pin_write(TABLE, "nope", type="csv", access_type="everyone")
    assert await api(server.url, "key-a", "GET", "v1/content") == []
    (tmp_path / "folder").mkdir()
    async with apins.board_folder(tmp_path / "folder") as folder:
        with pytest.raises(UnsupportedType, match="Posit Connect boards only"):
            await folder.pin_write(TABLE, "x", type="csv", access_type="all")
        assert await folder.pin_list() == []
        with pytest.raises(UnsupportedType, match="not a Connect board"):
            await folder.pin_share("x", users="bob")
        with pytest.raises(UnsupportedType, match="not a Connect board"):
            await folder.pin_unshare("x", users="bob")


async def test_share_with_users_and_groups_then_unshare(
    alice: ConnectBoard, server: ConnectEmulator, tmp_path: Path
) -> None:
    await alice.pin_write(TABLE, "team", type="csv")
    assert not await _can_read(server, tmp_path, "key-b", "alice/team")
    assert not await _can_read(server, tmp_path, "key-c", "alice/team")

    await alice.pin_share("team", users="bob")
    assert await _can_read(server, tmp_path, "key-b", "alice/team")
    async with board_connect(server.url, "key-b", cache=False) as bob:
        with pytest.raises(PinsError):  # a viewer cannot write
            await bob.pin_write(pa.table({"n": [9]}), "alice/team", type="csv")
    await alice.pin_share("team", users=["bob"], role="owner")  # changes the entry
    async with board_connect(server.url, "key-b", cache=False) as bob:
        await bob.pin_write(pa.table({"n": [9]}), "alice/team", type="csv")
    assert len(await alice.pin_versions("team")) == 2

    await alice.pin_share("team", groups="analysts")
    assert await _can_read(server, tmp_path, "key-c", "alice/team")  # carol, via her group
    guid = (await _content(server, "team"))["guid"]
    acl = await api(server.url, "key-a", "GET", f"v1/content/{guid}/permissions")
    assert sorted((p["principal_type"], p["role"]) for p in acl) == [
        ("group", "viewer"),
        ("user", "owner"),
    ]

    await alice.pin_unshare("team", users="bob", groups=["analysts"])
    await alice.pin_unshare("team", users="bob")  # nothing left to remove: fine
    assert await api(server.url, "key-a", "GET", f"v1/content/{guid}/permissions") == []
    assert not await _can_read(server, tmp_path, "key-b", "alice/team")
    assert not await _can_read(server, tmp_path, "key-c", "alice/team")


async def test_share_errors_are_clear(alice: ConnectBoard, server: ConnectEmulator) -> None:
    await alice.pin_write(TABLE, "errs", type="csv")
    with pytest.raises(PinsError, match="no Connect user called 'zed'"):
        await alice.pin_share("errs", users="zed")
    with pytest.raises(PinsError, match="no Connect group called 'nobody'"):
        await alice.pin_share("errs", groups="nobody")
    with pytest.raises(PinsError, match="role must be"):
        await alice.pin_share("errs", users="bob", role="editor")
    guid = (await _content(server, "errs"))["guid"]
    assert await api(server.url, "key-a", "GET", f"v1/content/{guid}/permissions") == []
    async with board_connect(server.url, "key-b", cache=False) as bob:
        with pytest.raises(PinsError):  # bob cannot see, let alone share, alice's pin
            await bob.pin_share("alice/errs", users="bob")
    with pytest.raises(StoreAccessError):
        async with board_connect(server.url, "key-b", cache=False) as bob:
            await bob.pin_write(TABLE, "alice/new-for-alice", type="csv", access_type="all")


def test_sync_twins(server_thread: str) -> None:
    with sync.board_connect(server_thread, "key-a", cache=False) as board:
        board.pin_write({"a": 1}, "synced", type="json", access_type="logged_in")
        board.pin_share("synced", users="bob", role="viewer")
        board.pin_unshare("synced", users="bob")
    with sync.board_connect(server_thread, "key-b", cache=False) as bob:
        assert bob.pin_read("alice/synced") == {"a": 1}  # logged_in: every user


@pytest.fixture
def server_thread(tmp_path: Path) -> Iterator[str]:
    with run_in_thread(root=tmp_path / "c2", users=USERS, groups=GROUPS) as s:
        yield s.url
