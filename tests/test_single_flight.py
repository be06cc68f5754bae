"""Many readers, one download: concurrent reads share one run, parsed metadata of immutable
versions is kept per process; requests counted at the servers (a proxy in front of
SeaweedFS, nginx's access log, the Connect emulator's counts)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import anyio
import pyarrow as pa
import pytest

import apins
from apins._flight import SingleFlight
from apins._memo import METAS
from apins.board import Board
from apins.errors import VersionNotFound
from apins.settings import TransferSettings
from apins.testing.connect import ConnectEmulator
from tests.connect_support import USERS
from tests.faultproxy import FaultProxy, RequestRecord
from tests.servers import NginxServer, S3Server

READERS = 1000
T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
TABLE = pa.table({"id": list(range(5000)), "name": [f"row{i}" for i in range(5000)]})


@pytest.fixture(autouse=True)
def _empty_memo() -> Iterator[None]:
    METAS.clear()
    yield
    METAS.clear()


@pytest.fixture
async def proxy(seaweed: S3Server) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(seaweed.endpoint_url) as p:
        yield p


async def read_all(board: Board, name: str, n: int, version: str | None = None) -> list[Any]:
    out: list[Any] = [None] * n

    async def one(i: int) -> None:
        out[i] = await board.pin_read(name, version)

    with anyio.fail_after(240):
        async with anyio.create_task_group() as tg:
            for i in range(n):
                tg.start_soon(one, i)
    return out


def kinds(requests: list[RequestRecord], bucket: str) -> dict[str, int]:
    """Requests by what they fetch: listing, data.txt or a data file."""
    out: dict[str, int] = {}
    for r in requests:
        path = r.path.split("?")[0]
        kind = "list" if "list-type=2" in r.path else path.rsplit("/", 1)[-1]
        if path == f"/{bucket}" or path == f"/{bucket}/":
            kind = "list"
        out[kind] = out.get(kind, 0) + 1
    return out


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
async def test_thousand_cold_readers_one_download_s3(
    seaweed: S3Server, proxy: FaultProxy, tmp_path: Path, cache: bool
) -> None:
    bucket = seaweed.make_bucket()
    async with seaweed.board(f"{bucket}/sf", cache=False) as writer:
        await writer.pin_write(TABLE, "t", type="parquet")
    settings = TransferSettings(max_connections=8)
    store = tmp_path / "cache" if cache else False
    async with seaweed.board(
        f"{bucket}/sf", endpoint_url=proxy.url, cache=store, settings=settings
    ) as board:
        tables = await read_all(board, "t", READERS)
    assert all(t.equals(TABLE) for t in tables)
    # one download of the file and of data.txt; "which is the latest" at most twice
    # (a reader never takes the answer of a listing that started before it arrived)
    seen = kinds(proxy.requests, bucket)
    assert seen.pop("t.parquet") == 1 and seen.pop("data.txt") == 1
    assert 1 <= seen.pop("list") <= 2
    assert seen == {}
    assert proxy.peak_connections <= settings.max_connections


async def test_memo_spares_data_txt_but_latest_stays_fresh(
    seaweed: S3Server, proxy: FaultProxy
) -> None:
    bucket = seaweed.make_bucket()
    async with (
        seaweed.board(f"{bucket}/sf", endpoint_url=proxy.url, cache=False) as writer,
        seaweed.board(f"{bucket}/sf", endpoint_url=proxy.url, cache=False) as board,
    ):
        m1 = await writer.pin_write({"v": 1}, "p", type="json", created=T0)
        assert (await board.pin_meta("p", m1.version)).pin_hash == m1.pin_hash
        before = len(proxy.requests)
        # another board object of the same identity: no request for an immutable version
        async with seaweed.board(f"{bucket}/sf", endpoint_url=proxy.url, cache=False) as other:
            again = await other.pin_meta("p", m1.version)
        assert again.pin_hash == m1.pin_hash and len(proxy.requests) == before
        again.user["changed"] = True  # a caller's copy: the memo is not touched
        assert (await board.pin_meta("p", m1.version)).user == {}
        # "latest" is asked of the board every time and sees another writer's version
        m2 = await writer.pin_write({"v": 2}, "p", type="json", created=T0 + timedelta(1))
        before = len(proxy.requests)
        assert (await board.pin_meta("p")).version == m2.version
        assert kinds(proxy.requests[before:], bucket) == {"list": 1, "data.txt": 1}
        assert await board.pin_read("p") == {"v": 2}
        # deleting through any board of that identity forgets the version
        await writer.pin_version_delete("p", m1.version or "")
        with pytest.raises(VersionNotFound):
            await board.pin_meta("p", m1.version)


async def test_unversioned_pin_reads_the_new_content(tmp_path: Path, seaweed: S3Server) -> None:
    bucket = seaweed.make_bucket()
    async with seaweed.board(f"{bucket}/sf", cache=False, versioned=False) as w:
        await w.pin_write({"v": 1}, "u", type="json", created=T0)
        async with seaweed.board(f"{bucket}/sf", cache=tmp_path / "c") as board:
            assert await read_all(board, "u", 50) == [{"v": 1}] * 50
            await w.pin_write({"v": 2}, "u", type="json", created=T0 + timedelta(1))
            assert await read_all(board, "u", 50) == [{"v": 2}] * 50


async def test_errors_are_shared_and_not_kept(seaweed: S3Server, proxy: FaultProxy) -> None:
    bucket = seaweed.make_bucket()
    async with seaweed.board(f"{bucket}/sf", cache=False) as writer:
        await writer.pin_write({"v": 1}, "p", type="json", created=T0)
    async with seaweed.board(f"{bucket}/sf", endpoint_url=proxy.url, cache=False) as board:

        async def missing() -> None:
            with pytest.raises(VersionNotFound):
                await board.pin_meta("p", "20250101T000000Z-00000")

        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(missing)
        assert len(proxy.requests) == 1
        await missing()  # a failure is not remembered: asked again
        assert len(proxy.requests) == 2


async def test_url_board_thousand_readers(nginx: NginxServer, pins_cache_dir: Path) -> None:
    name = f"sf-{uuid.uuid4().hex[:8]}"
    async with apins.board_folder(nginx.root / name) as writer:
        await writer.pin_write(TABLE, "t", type="parquet", created=T0)
        await writer.write_board_manifest()
    start = nginx.mark(f"/{name}")
    async with apins.board_url(f"{nginx.url}/{name}/") as board:
        tables = await read_all(board, "t", READERS)
    assert all(t.equals(TABLE) for t in tables)
    entries = nginx.entries_since(f"/{name}", start)
    seen = [(e.method, e.uri.rsplit("/", 1)[-1]) for e in entries]
    # one download (a HEAD for its size, then the GET), one data.txt, the manifest <= twice
    assert seen.count(("GET", "data.txt")) == 1
    assert seen.count(("GET", "t.parquet")) == 1 and seen.count(("HEAD", "t.parquet")) <= 1
    assert 1 <= seen.count(("GET", "_pins.yaml")) <= 2 and len(seen) <= 5


async def test_connect_readers_share(tmp_path: Path) -> None:
    server = ConnectEmulator(root=tmp_path / "connect", users=USERS)
    async with server, apins.board_connect(server.url, "key-a", cache=tmp_path / "c") as board:
        await board.pin_write(TABLE, "table", type="parquet")
        server.reset_request_counts()
        async with apins.board_connect(server.url, "key-a", cache=tmp_path / "c2") as cold:
            tables = await read_all(cold, "alice/table", 300)
        assert all(t.equals(TABLE) for t in tables)
        # the name looked up once, the active bundle asked once (overlapping readers share
        # it), then data.txt and the file each fetched once (plus a HEAD for its size)
        assert server.request_counts == {
            "GET /__api__/v1/content": 1,
            "GET /__api__/v1/content/{guid}": 1,
            "GET /content/{guid}/{tail}": 2,
            "HEAD /content/{guid}/{tail}": 1,
        }


# -- the single-flight table itself ------------------------------------------------------------


async def test_leader_cancelled_others_carry_on() -> None:
    flights = SingleFlight()
    runs = 0
    release = anyio.Event()

    async def work() -> int:
        nonlocal runs
        runs += 1
        await release.wait()
        return runs

    results: list[int] = []

    async def join() -> None:
        results.append(await flights.run("k", work))

    scope = anyio.CancelScope()

    async def leader() -> None:
        with scope:
            await flights.run("k", work)

    async with anyio.create_task_group() as tg:
        tg.start_soon(leader)
        await anyio.wait_all_tasks_blocked()
        for _ in range(3):
            tg.start_soon(join)
        await anyio.wait_all_tasks_blocked()
        scope.cancel()  # the leader goes; one of the others leads a second run
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert runs == 2 and results == [2, 2, 2]
    assert flights.in_flight() == 0


async def test_fresh_callers_never_take_an_older_run() -> None:
    flights = SingleFlight()
    started: list[int] = []
    gate = anyio.Event()

    async def listing() -> int:
        started.append(len(started))
        await gate.wait()
        return started[-1]

    got: list[int] = []

    async def call() -> None:
        got.append(await flights.run("latest", listing, fresh=True))

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        await anyio.wait_all_tasks_blocked()  # run 0 is in flight
        for _ in range(50):
            tg.start_soon(call)
        await anyio.wait_all_tasks_blocked()
        gate.set()
    assert len(started) == 2 and got.count(0) == 1 and got.count(1) == 50
