"""board_connect against the Connect emulator (a real aiohttp server on a free port)."""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pyarrow as pa
import pytest
from aiohttp import web

import apins
from apins.connect import (
    ConnectActiveBundle,
    ConnectBoard,
    ConnectNameTaken,
    ConnectNotFound,
    ConnectPermissionError,
    ConnectTaskFailed,
    board_connect,
)
from apins.connect.bundle import Entry, bundle_stream
from apins.connect.errors import error_from_response
from apins.connect.names import parse_pin_name
from apins.errors import (
    InvalidPinName,
    PinNotFound,
    PinsError,
    StoreAccessError,
    VersionConflict,
    VersionNotFound,
)
from apins.meta import parse_meta
from apins.stores.base import ProgressEvent
from apins.testing.connect import ConnectEmulator
from tests.connect_support import USERS, api, bundle_members, tiny_server
from tests.test_notebook import kernel_env  # noqa: F401  (fixture)

FIXTURES = Path(__file__).parent / "fixtures" / "connect"
TABLE = pa.table({"n": [1, 2, 3], "s": ["a", "<b>", "c&d"]})


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ConnectEmulator]:
    async with ConnectEmulator(root=tmp_path / "connect", users=USERS) as s:
        yield s


@pytest.fixture
async def alice(server: ConnectEmulator, tmp_path: Path) -> AsyncIterator[ConnectBoard]:
    async with board_connect(server.url, "key-a", cache=tmp_path / "cache-alice") as b:
        yield b


@pytest.fixture
async def bob(server: ConnectEmulator, tmp_path: Path) -> AsyncIterator[ConnectBoard]:
    async with board_connect(server.url, "key-b", cache=tmp_path / "cache-bob") as b:
        yield b


def writes(server: ConnectEmulator) -> int:
    """Requests that change the server so far."""
    return sum(n for k, n in server.request_counts.items() if not k.startswith(("GET", "HEAD")))


async def guid_of(server: ConnectEmulator, name: str) -> str:
    items = await api(server.url, "key-a", "GET", f"v1/content?name={name}")
    assert len(items) == 1
    return str(items[0]["guid"])


# -- names, construction, secrets ----------------------------------------------------------------


def test_parse_pin_name() -> None:
    assert parse_pin_name("alice/my-pin_1").owner == "alice"
    assert parse_pin_name("my-pin").owner is None
    for bad in ("ab", "a" * 65, "alice/has space", "a/b/c", "/abc", "alice/dot.ted"):
        with pytest.raises(InvalidPinName):
            parse_pin_name(bad)


async def test_bad_names_refused_before_any_request(
    server: ConnectEmulator, alice: ConnectBoard
) -> None:
    for bad in ("ab", "alice/x.y", "alice/a/b"):
        with pytest.raises(InvalidPinName):
            await alice.pin_write({"a": 1}, bad, type="json")
    assert server.counter.total() == 0


def test_server_and_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECT_SERVER", "https://connect.example/__api__/")
    monkeypatch.setenv("CONNECT_API_KEY", "env-secret-123")
    board = board_connect()
    assert board.connect.client.server_url == "https://connect.example"
    assert board.connect.client.has_key
    assert "env-secret-123" not in repr(board)
    assert "env-secret-123" not in board.board_deparse()
    monkeypatch.delenv("CONNECT_SERVER")
    with pytest.raises(PinsError, match="CONNECT_SERVER"):
        board_connect()


async def test_bad_key_never_echoed(
    server: ConnectEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "super-secret-key-42"
    caplog.set_level(logging.DEBUG)
    async with board_connect(server.url, secret, cache=tmp_path / "c") as board:
        with pytest.raises(StoreAccessError) as info:
            await board.pin_list()
        assert "401" in str(info.value)
        assert secret not in str(info.value)
        assert secret not in repr(info.value)
        assert secret not in repr(board) and secret not in repr(board.connect.client)
    assert secret not in caplog.text


# -- writing and reading -------------------------------------------------------------------------


@pytest.mark.parametrize("ptype", ["csv", "parquet", "arrow"])
async def test_table_roundtrip(alice: ConnectBoard, ptype: str) -> None:
    meta = await alice.pin_write(
        TABLE, "alice/tbl", type=ptype, title="A table", description="d", metadata={"k": [1, 2]}
    )
    assert meta.name == "alice/tbl"
    assert meta.version is not None and meta.version.isdigit()
    assert meta.local["content_id"] and meta.local["url"].endswith(f"/_rev{meta.version}/")
    got = await alice.pin_read("alice/tbl")
    assert got.to_pydict() == TABLE.to_pydict()
    m = await alice.pin_meta("alice/tbl")
    assert (m.title, m.description, m.user, m.type) == ("A table", "d", {"k": [1, 2]}, ptype)
    assert m.file == f"tbl.{ptype}"  # the short name, as both pins libraries do on Connect


async def test_json_joblib_and_files_roundtrip(server: ConnectEmulator, tmp_path: Path) -> None:
    async with board_connect(
        server.url, "key-a", allow_pickle_read=True, cache=tmp_path / "c"
    ) as board:
        data = {"a": [1, 2], "b": "text"}
        await board.pin_write(data, "jsn", type="json")  # bare name: the current user's pin
        assert await board.pin_read("alice/jsn") == data
        await board.pin_write({"model": (1, 2.5)}, "alice/jlb", type="joblib")
        assert await board.pin_read("alice/jlb") == {"model": (1, 2.5)}
        f1, f2 = tmp_path / "one.txt", tmp_path / "two.bin"
        f1.write_text("hello\n")
        f2.write_bytes(bytes(range(256)) * 100)
        await board.pin_upload([f1, f2], "alice/files", title="two files")
        paths = [Path(p) for p in await board.pin_download("alice/files")]
        assert sorted(p.name for p in paths) == ["one.txt", "two.bin"]
        by_name = {p.name: p.read_bytes() for p in paths}
        assert by_name["one.txt"] == b"hello\n" and by_name["two.bin"] == f2.read_bytes()


async def test_versions_are_bundles_and_latest_is_active(
    server: ConnectEmulator, alice: ConnectBoard
) -> None:
    m1 = await alice.pin_write({"v": 1}, "alice/ver", type="json")
    m2 = await alice.pin_write({"v": 2}, "alice/ver", type="json")
    versions = await alice.pin_versions("alice/ver")
    assert [v.version for v in versions] == [m1.version, m2.version]
    assert [v.active for v in versions] == [False, True]
    assert all(v.size and v.size > 0 and v.created is not None for v in versions)
    assert await alice.pin_read("alice/ver") == {"v": 2}
    assert await alice.pin_read("alice/ver", version=m1.version) == {"v": 1}
    # redeploy the older bundle: "latest" follows the active bundle, not the highest id
    guid = await guid_of(server, "ver")
    body = {"bundle_id": m1.version}
    task = await api(server.url, "key-a", "POST", f"v1/content/{guid}/deploy", json_body=body)
    await alice.connect.client.follow_task(task["task_id"], what="redeploy")
    assert (await alice.pin_meta("alice/ver")).version == m1.version
    assert await alice.pin_read("alice/ver") == {"v": 1}
    with pytest.raises(VersionNotFound):
        await alice.pin_read("alice/ver", version="999999")
    with pytest.raises(VersionNotFound):
        await alice.pin_meta("alice/ver", version="not-a-bundle")


async def test_identical_write_is_skipped(server: ConnectEmulator, alice: ConnectBoard) -> None:
    m1 = await alice.pin_write({"same": True}, "alice/same", type="json")
    m2 = await alice.pin_write({"same": True}, "alice/same", type="json")
    assert m2.version == m1.version
    assert len(await alice.pin_versions("alice/same")) == 1


async def test_unversioned_board_replaces_the_only_bundle(
    server: ConnectEmulator, tmp_path: Path
) -> None:
    async with board_connect(server.url, "key-a", versioned=False, cache=tmp_path / "c") as b:
        m1 = await b.pin_write({"v": 1}, "alice/unv", type="json")
        m2 = await b.pin_write({"v": 2}, "alice/unv", type="json")
        versions = await b.pin_versions("alice/unv")
        assert [v.version for v in versions] == [m2.version]
        assert versions[0].active and m1.version != m2.version
        assert await b.pin_read("alice/unv") == {"v": 2}


async def test_unversioned_write_to_versioned_pin_refused_before_upload(
    server: ConnectEmulator, alice: ConnectBoard
) -> None:
    await alice.pin_write({"v": 1}, "alice/multi", type="json")
    await alice.pin_write({"v": 2}, "alice/multi", type="json")
    server.reset_request_counts()
    with pytest.raises(VersionConflict):
        await alice.pin_write({"v": 3}, "alice/multi", type="json", versioned=False)
    assert writes(server) == 0
    assert len(await alice.pin_versions("alice/multi")) == 2


async def test_delete_active_version_refused(alice: ConnectBoard) -> None:
    m1 = await alice.pin_write({"v": 1}, "alice/act", type="json")
    m2 = await alice.pin_write({"v": 2}, "alice/act", type="json")
    assert m2.version is not None and m1.version is not None
    with pytest.raises(ConnectActiveBundle) as info:
        await alice.pin_version_delete("alice/act", m2.version)
    assert isinstance(info.value, VersionConflict)
    assert "active" in str(info.value) and info.value.code == 75
    await alice.pin_version_delete("alice/act", m1.version)
    assert [v.version for v in await alice.pin_versions("alice/act")] == [m2.version]
    with pytest.raises(VersionNotFound):
        await alice.pin_version_delete("alice/act", m1.version)


async def test_prune_orders_bundles_as_numbers(alice: ConnectBoard) -> None:
    # push bundle ids past 9 so that "10" < "9" as text
    for i in range(8):
        await alice.pin_write({"i": i}, "alice/noise", type="json")
    a = await alice.pin_write({"v": 1}, "alice/pruned", type="json")
    b = await alice.pin_write({"v": 2}, "alice/pruned", type="json")
    assert (a.version, b.version) == ("9", "10")
    assert await alice.pin_versions_prune("alice/pruned", days=1) == []
    deleted = await alice.pin_versions_prune("alice/pruned", n=1)
    assert [v.version for v in deleted] == ["9"]
    assert [v.version for v in await alice.pin_versions("alice/pruned")] == ["10"]


async def test_delete_and_exists(alice: ConnectBoard) -> None:
    assert not await alice.pin_exists("alice/gone")
    assert not await alice.pin_exists("nobody/gone")
    await alice.pin_write({"x": 1}, "alice/gone", type="json")
    assert await alice.pin_exists("alice/gone") and await alice.pin_exists("gone")
    await alice.pin_delete("alice/gone")
    assert not await alice.pin_exists("alice/gone")
    with pytest.raises(PinNotFound):
        await alice.pin_read("alice/gone")
    with pytest.raises(PinNotFound):
        await alice.pin_delete("alice/gone")
    # written again after deletion: a new content item, found despite the remembered GUID
    await alice.pin_write({"x": 2}, "alice/gone", type="json")
    assert await alice.pin_read("alice/gone") == {"x": 2}


async def test_write_board_manifest_is_refused(alice: ConnectBoard) -> None:
    with pytest.raises(PinsError, match="manifest"):
        await alice.write_board_manifest()


# -- listing and search --------------------------------------------------------------------------


async def test_pin_list_and_search_paginate(server: ConnectEmulator, tmp_path: Path) -> None:
    async with board_connect(server.url, "key-a", page_size=2, cache=tmp_path / "a") as a:
        for i in range(5):
            await a.pin_write({"i": i}, f"alice/p-{i}", type="json", title=f"title {i}")
    async with board_connect(server.url, "key-b", page_size=2, cache=tmp_path / "b") as b:
        await b.pin_write({"i": 9}, "bob/bobs", type="json", title="title of bob")
        guid = await guid_of(server, "p-0")
        await api(server.url, "key-a", "PATCH", f"v1/content/{guid}",
                  json_body={"access_type": "logged_in"})  # fmt: skip
        server.reset_request_counts()
        assert await b.pin_list() == ["alice/p-0", "bob/bobs"]
        async with board_connect(server.url, "key-a", page_size=2, cache=tmp_path / "a") as a:
            server.reset_request_counts()
            names = await a.pin_list()
            assert names == [f"alice/p-{i}" for i in range(5)]
            assert server.counter.get("GET", "/__api__/applications") >= 3
            found = await a.pin_search("p-[13]")
            assert sorted(m.name for m in found) == ["alice/p-1", "alice/p-3"]
            assert {m.title for m in found} == {"title 1", "title 3"}
            assert len(await a.pin_search()) == 5
            df = await a.pin_search("title 4", as_df=True)
            assert list(df["name"]) == ["alice/p-4"]


# -- bundle contents -----------------------------------------------------------------------------


async def test_bundle_contents(server: ConnectEmulator, alice: ConnectBoard) -> None:
    events: list[ProgressEvent] = []
    meta = await alice.pin_write(
        TABLE,
        "alice/bundled",
        type="csv",
        title="<script>alert(1)</script>",
        description="desc & more",
        metadata={"owner": "<team>"},
        progress=events.append,
    )
    assert events and events[-1].finished and events[-1].direction == "upload"
    assert events[-1].done == events[-1].total
    guid = await guid_of(server, "bundled")
    members = await bundle_members(server.url, "key-a", guid, str(meta.version))
    assert set(members) == {"bundled.csv", "data.txt", "index.html", "manifest.json"}
    manifest = json.loads(members["manifest.json"])
    assert manifest == {
        "version": 1,
        "locale": "en_US",
        "platform": "3.5.1",
        "metadata": {
            "appmode": "static",
            "primary_rmd": None,
            "primary_html": "index.html",
            "content_category": "pin",
            "has_parameters": False,
        },
        "packages": None,
        "files": ["bundled.csv", "data.txt", "index.html"],
        "users": None,
    }
    stored = parse_meta(members["data.txt"])
    assert stored.pin_hash == meta.pin_hash and stored.file == "bundled.csv"
    page = members["index.html"].decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "desc &amp; more" in page and "&lt;team&gt;" in page
    assert 'href="bundled.csv"' in page
    assert "<td>&lt;b&gt;</td>" in page and "<td>c&amp;d</td>" in page  # first rows of the table
    content = await api(server.url, "key-a", "GET", f"v1/content/{guid}")
    assert content["app_mode"] == "static" and content["content_category"] == "pin"
    assert content["title"] == "<script>alert(1)</script>"


async def test_bundle_stream_is_incremental(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 8192 * 3)  # 6 MiB, compressible
    noise = tmp_path / "noise.bin"
    noise.write_bytes(os.urandom(3 << 20))  # 3 MiB, incompressible
    events: list[ProgressEvent] = []
    chunk = 256 << 10
    entries = [Entry("big.bin", path=big), Entry("noise.bin", path=noise), Entry("x", data=b"1")]
    pieces = [p async for p in bundle_stream(entries, chunk_size=chunk, progress=events.append)]
    assert len(pieces) > 10
    assert max(len(p) for p in pieces) <= chunk + 64 * 1024
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(b"".join(pieces)))) as tar:
        got = {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]
    assert got == {"big.bin": big.read_bytes(), "noise.bin": noise.read_bytes(), "x": b"1"}
    done = [e.done for e in events]
    assert done == sorted(done) and events[-1].finished
    assert events[-1].done == events[-1].total == (9 << 20) + 1


# -- permissions and errors ----------------------------------------------------------------------


async def test_creating_for_another_user_refused_before_any_write(
    server: ConnectEmulator, bob: ConnectBoard
) -> None:
    server.reset_request_counts()
    with pytest.raises(StoreAccessError, match=r"connected as 'bob'.*another user"):
        await bob.pin_write({"a": 1}, "alice/mine", type="json")
    assert writes(server) == 0


async def test_other_users_pins_and_viewers(
    server: ConnectEmulator, alice: ConnectBoard, bob: ConnectBoard, tmp_path: Path
) -> None:
    await alice.pin_write({"a": 1}, "alice/private", type="json")
    # bob cannot see alice's acl content: it does not exist for him, and he cannot create it
    with pytest.raises(PinNotFound):
        await bob.pin_read("alice/private")
    with pytest.raises(StoreAccessError):
        await bob.pin_write({"b": 2}, "alice/private", type="json")
    # shared read-only with everyone logged in: bob reads it but cannot write or delete it
    guid = await guid_of(server, "private")
    await api(server.url, "key-a", "PATCH", f"v1/content/{guid}",
              json_body={"access_type": "logged_in"})  # fmt: skip
    assert await bob.pin_read("alice/private") == {"a": 1}
    with pytest.raises(ConnectPermissionError) as info:
        await bob.pin_write({"b": 2}, "alice/private", type="json")
    assert isinstance(info.value, StoreAccessError) and info.value.status == 403
    with pytest.raises(StoreAccessError):
        await bob.pin_delete("alice/private")
    # a viewer cannot publish at all
    async with board_connect(server.url, "key-c", cache=tmp_path / "carol") as carol:
        with pytest.raises(StoreAccessError):
            await carol.pin_write({"c": 3}, "carols", type="json")
        assert await carol.pin_read("alice/private") == {"a": 1}
    assert await alice.pin_read("alice/private") == {"a": 1}


def _fixture(rel: str) -> str:
    return (FIXTURES / rel).read_text()


def test_error_mapping_from_recorded_bodies() -> None:
    e = error_from_response(404, _fixture("connectapi/2024.08.0/error.404.unknown_route.txt"),
                            what="Reading x")  # fmt: skip
    assert isinstance(e, ConnectNotFound) and "404 page not found" in str(e)
    e = error_from_response(
        404, _fixture("connectapi/2024.08.0/error.404.code4.object_does_not_exist.json"),
        what="Looking up",
    )  # fmt: skip
    assert isinstance(e, ConnectNotFound) and e.code == 4
    body = _fixture("connectapi/2024.08.0/error.404.code4.object_does_not_exist.json")
    assert json.loads(body)["error"] in str(e)
    e = error_from_response(403, '{"code":19,"error":"no access","payload":null}', what="w")
    assert isinstance(e, ConnectPermissionError) and isinstance(e, StoreAccessError)
    e = error_from_response(409, '{"code":26,"error":"An object with that name already exists."}',
                            what="w")  # fmt: skip
    assert isinstance(e, ConnectNameTaken) and "already exists" in str(e)
    e = error_from_response(400, '{"code":75,"error":"active bundle"}', what="w")
    assert isinstance(e, ConnectActiveBundle) and isinstance(e, VersionConflict)
    e = error_from_response(401, '{"code":30,"error":"bad key k-123"}', what="w", secret="k-123")
    assert isinstance(e, StoreAccessError) and "k-123" not in str(e)


async def test_failed_deploy_reports_the_task_error(
    server: ConnectEmulator, alice: ConnectBoard
) -> None:
    await alice.pin_write({"a": 1}, "alice/broken", type="json")
    guid = await guid_of(server, "broken")
    client = alice.connect.client
    bundle = await client.upload(
        f"v1/content/{guid}/bundles", lambda: _one(b"not a tar archive"), what="upload"
    )
    task = await client.send_json(
        "POST", f"v1/content/{guid}/deploy", {"bundle_id": bundle["id"]}, what="deploy"
    )
    with pytest.raises(ConnectTaskFailed, match=r"deploy task failed.*gzip") as info:
        await client.follow_task(task["task_id"], what="deploy")
    assert info.value.code not in (None, 0)
    assert await alice.pin_read("alice/broken") == {"a": 1}


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


# -- redirects and the cache ---------------------------------------------------------------------


async def test_redirect_off_origin_drops_the_key(tmp_path: Path) -> None:
    seen: dict[str, list[str | None]] = {"front": [], "other": []}

    async def other(request: web.Request) -> web.StreamResponse:
        seen["other"].append(request.headers.get("Authorization"))
        if request.path == "/__api__/v1/user":
            return web.json_response({"username": "alice", "guid": "g"})
        return web.json_response([])

    async with tiny_server(other) as other_url:

        async def front(request: web.Request) -> web.StreamResponse:
            seen["front"].append(request.headers.get("Authorization"))
            if request.path.startswith("/same/"):  # same origin: the key follows
                raise web.HTTPFound(request.path_qs[len("/same") :])
            raise web.HTTPTemporaryRedirect(other_url + request.path_qs)

        async with (
            tiny_server(front) as front_url,
            board_connect(front_url, "the-key", cache=tmp_path / "c") as board,
        ):
            assert not await board.pin_exists("somepin")
            client = board.connect.client
            async with client.request(
                "GET", client.url("same/__api__/v1/user"), what="probe"
            ) as resp:
                assert resp.status == 200
    assert seen["other"] and all(h is None for h in seen["other"])
    assert seen["front"] and all(h == "Key the-key" for h in seen["front"])


async def test_warm_read_costs_one_request(server: ConnectEmulator, alice: ConnectBoard) -> None:
    await alice.pin_write(TABLE, "alice/warm", type="parquet")
    cold = await alice.pin_read("alice/warm")
    server.reset_request_counts()
    warm = await alice.pin_read("alice/warm")
    assert warm.equals(cold)
    assert server.request_counts == {"GET /__api__/v1/content/{guid}": 1}


async def test_cache_is_shared_by_boards_and_checked(
    server: ConnectEmulator, tmp_path: Path
) -> None:
    cache = tmp_path / "shared-cache"
    async with board_connect(server.url, "key-a", cache=cache) as b1:
        await b1.pin_write(TABLE, "alice/shared", type="arrow")
        await b1.pin_read("alice/shared")
    async with board_connect(server.url, "key-a", cache=cache) as b2:
        server.reset_request_counts()
        await b2.pin_read("alice/shared")
        files = [k for k in server.request_counts if "/content/{guid}/" in k and "api" not in k]
        assert files == []  # data.txt and the data file came from the cache


# -- sync facade and legacy call -----------------------------------------------------------------


def test_sync_board_and_legacy_pin_read(tmp_path: Path) -> None:
    import pandas as pd

    from apins import sync
    from apins.connect import pin_read
    from apins.testing.connect import run_in_thread

    with run_in_thread(root=tmp_path / "connect", users=USERS) as srv:
        with sync.board_connect(srv.url, "key-a", cache=tmp_path / "c") as board:
            meta = board.pin_write(
                TABLE, "alice/legacy", type="csv", title="Legacy", description="D"
            )
            assert board.pin_read("alice/legacy").to_pydict() == TABLE.to_pydict()
            assert board.pin_list() == ["alice/legacy"]
        df = pin_read(srv.url, "key-a", "alice/legacy")
        assert isinstance(df, pd.DataFrame)
        assert df.to_dict("list") == TABLE.to_pydict()
        info: dict[str, Any] = pin_read(srv.url, "key-a", "alice/legacy", meta_only=True)
        assert set(info) == {"file", "file_size", "pin_hash", "type", "title", "description",
                             "created", "api_version"}  # fmt: skip
        assert info["file"] == "legacy.csv" and info["type"] == "csv"
        assert (info["title"], info["description"]) == ("Legacy", "D")
        assert info["pin_hash"] == meta.pin_hash and info["api_version"] == 1
        with pytest.raises(PinNotFound):
            pin_read(srv.url, "key-a", "alice/absent")


def test_lazy_export() -> None:
    assert apins.board_connect is board_connect


@pytest.mark.usefixtures("kernel_env")
def test_notebook_reads_a_connect_pin(tmp_path: Path) -> None:
    """A Jupyter kernel (a running loop) reads a Connect pin through the sync facade."""
    import nbformat
    from nbclient import NotebookClient

    from apins import sync
    from apins.testing.connect import run_in_thread

    with run_in_thread(root=tmp_path / "connect", users=USERS) as srv:
        with sync.board_connect(srv.url, "key-a", cache=tmp_path / "c") as board:
            board.pin_write(TABLE, "alice/nb-pin", type="parquet", title="for the notebook")
        nb = nbformat.v4.new_notebook()
        nb.cells = [
            nbformat.v4.new_code_cell("import asyncio\nasyncio.get_running_loop()"),
            nbformat.v4.new_code_cell(
                "from apins import sync as pins\n"
                f"board = pins.board_connect({srv.url!r}, 'key-a')\n"
                "df = board.pin_read('alice/nb-pin', output='pandas')\n"
                "print(df.to_dict('list'))\n"
                "print(board.pin_meta('alice/nb-pin').title)"
            ),
        ]
        client = NotebookClient(
            nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        )
        client.execute()
    out = "".join(o.get("text", "") for o in nb.cells[1].outputs if o.get("name") == "stdout")
    assert out.splitlines() == [str(TABLE.to_pydict()), "for the notebook"]


async def test_large_file_downloads_in_ranges(server: ConnectEmulator, tmp_path: Path) -> None:
    from apins.settings import TransferSettings

    small = TransferSettings(
        range_threshold=1 << 20, part_size=256 << 10, chunk_size=64 << 10, split_below=None
    )
    blob = tmp_path / "blob.bin"
    blob.write_bytes(os.urandom(3 << 20))
    async with board_connect(server.url, "key-a", cache=tmp_path / "c1", settings=small) as b:
        await b.pin_upload(blob, "alice/blob")
    async with board_connect(server.url, "key-a", cache=tmp_path / "c2", settings=small) as b:
        server.reset_request_counts()
        events: list[ProgressEvent] = []
        [path] = await b.pin_download("alice/blob", progress=events.append)
        assert await anyio.Path(path).read_bytes() == blob.read_bytes()
        file_gets = sum(
            n for k, n in server.request_counts.items() if k.startswith("GET /content/")
        )
        assert file_gets >= 12  # data.txt + 12 ranges of 256 KiB
        assert events[-1].finished and events[-1].done == 3 << 20


async def test_bad_search_regex(server: ConnectEmulator, alice: ConnectBoard) -> None:
    server.reset_request_counts()
    with pytest.raises(PinsError, match="regular expression"):
        await alice.pin_search("p-[")
    assert server.counter.total() == 0
