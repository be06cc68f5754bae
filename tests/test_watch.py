"""pin_watch on folder, S3 (SeaweedFS), URL (nginx) and Connect (emulator) boards; its
request cost counted at the server; retries, cancellation, the sync twin and the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import anyio
import pytest

import apins
from apins import sync
from apins.board import Board
from apins.errors import PinNotFound, PinsError
from apins.settings import TransferSettings
from apins.testing.connect import ConnectEmulator
from apins.watch import PinWatch
from tests._helpers import PYTHON, subprocess_env
from tests.connect_support import USERS
from tests.faultproxy import FaultProxy
from tests.servers import GCSServer, NginxServer, S3Server

#: fail fast at the store: the watch's own retries are what these tests count
FAST = TransferSettings(retries=0, connect_timeout=2.0, read_timeout=10.0)
T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def at(i: int) -> datetime:
    return T0 + timedelta(minutes=i)


async def write(board: Board, name: str, i: int, **kw: Any) -> str:
    meta = await board.pin_write({"i": i}, name, type="json", created=at(i), **kw)
    assert meta.version is not None
    return meta.version


async def next_meta(watch: PinWatch) -> Any:
    with anyio.fail_after(60):
        return await watch.__anext__()


async def idle_polls(watch: PinWatch, seconds: float) -> int:
    """Let the watch poll an unchanged pin for a while; return how many polls it started."""
    before = watch.polls
    with anyio.move_on_after(seconds):
        await watch.__anext__()
        pytest.fail("the watch yielded a version although none was written")
    return watch.polls - before


# -- semantics, on a folder board -------------------------------------------------------------


async def test_latest_first_then_every_new_version_in_order(tmp_path: Path) -> None:
    async with apins.board_folder(tmp_path / "b") as board:
        await write(board, "p", 1)
        v2 = await write(board, "p", 2)
        watch = board.pin_watch("p", interval=0.05)
        first = await next_meta(watch)
        assert (first.version, first.name) == (v2, "p")
        # three versions land before the next poll (nothing runs between iterations)
        news = [await write(board, "p", i) for i in (3, 4, 5)]
        got = [(await next_meta(watch)).version for _ in news]
        assert got == news
        # one written then deleted before the watch looks is skipped; the next one comes
        gone = await write(board, "p", 6)
        kept = await write(board, "p", 7)
        await board.pin_version_delete("p", gone)
        assert (await next_meta(watch)).version == kept
        # deleting the newest seen version does not make older ones "new"
        await board.pin_version_delete("p", kept)
        assert await idle_polls(watch, 0.5) >= 2
        v8 = await write(board, "p", 8)
        assert (await next_meta(watch)).version == v8


async def test_unversioned_pin_replaced_each_time(tmp_path: Path) -> None:
    async with apins.board_folder(tmp_path / "b", versioned=False) as board:
        await write(board, "u", 1)
        watch = board.pin_watch("u", interval=0.05)
        await next_meta(watch)
        v2 = await write(board, "u", 2)
        assert [v.version for v in await board.pin_versions("u")] == [v2]
        meta = await next_meta(watch)
        assert meta.version == v2 and meta.user == {}
        assert await board.pin_read("u", meta.version) == {"i": 2}


async def test_missing_pin_raises_at_once(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    async with apins.board_folder(tmp_path / "b") as board:
        watch = board.pin_watch("nope", interval=0.05)
        with pytest.raises(PinNotFound):
            await next_meta(watch)
        assert watch.polls == 1


async def test_bad_arguments(tmp_path: Path) -> None:
    async with apins.board_folder(tmp_path / "b") as board:
        with pytest.raises(ValueError, match="interval"):
            board.pin_watch("p", interval=0)
        with pytest.raises(ValueError, match="retries"):
            board.pin_watch("p", retries=-1)


async def test_cancellation_stops_at_once(tmp_path: Path) -> None:
    async with apins.board_folder(tmp_path / "b") as board:
        await write(board, "p", 1)
        watch = board.pin_watch("p", interval=3600)
        await next_meta(watch)
        started = time.monotonic()
        with anyio.move_on_after(0.2):
            await watch.__anext__()
        assert time.monotonic() - started < 10
        assert watch.polls == 1
        await watch.aclose()
        with pytest.raises(StopAsyncIteration):
            await watch.__anext__()


async def test_async_for_and_aclose(tmp_path: Path) -> None:
    async with apins.board_folder(tmp_path / "b") as board:
        v1 = await write(board, "p", 1)
        seen = []
        async with board.pin_watch("p", interval=0.05) as watch:
            async for meta in watch:
                seen.append(meta.version)
                if len(seen) == 1:
                    await write(board, "p", 2)
                else:
                    break
        assert seen[0] == v1 and len(seen) == 2


# -- S3: one listing per poll, counted at a proxy; errors after retries ------------------------


@pytest.fixture
async def s3_proxy(seaweed: S3Server) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        yield proxy


def watch_board(server: S3Server, bucket: str, endpoint: str) -> Board:
    """The board the S3 watch tests poll, through ``endpoint`` (a proxy)."""
    return server.board(f"{bucket}/watch", endpoint_url=endpoint, settings=FAST, cache=False)


async def test_s3_poll_is_one_listing(seaweed: S3Server, s3_proxy: FaultProxy) -> None:
    bucket = seaweed.make_bucket()
    async with watch_board(seaweed, bucket, s3_proxy.url) as board:
        await write(board, "p", 1)
        watch = board.pin_watch("p", interval=0.05)
        await next_meta(watch)
        start = len(s3_proxy.requests)
        polls = await idle_polls(watch, 1.0)
        seen = s3_proxy.requests[start:]
        assert polls >= 3
        assert polls - 1 <= len(seen) <= polls  # the last poll may have been cut short
        assert {r.method for r in seen} == {"GET"}
        assert all("list-type=2" in r.path and "prefix=watch%2Fp%2F" in r.path for r in seen)
        # a new version: the listing, then its data.txt
        v2 = await write(board, "p", 2)
        start = len(s3_proxy.requests)
        polls = watch.polls
        assert (await next_meta(watch)).version == v2
        seen = s3_proxy.requests[start:]
        lists = [r for r in seen if "list-type=2" in r.path]
        assert len(lists) == watch.polls - polls
        assert [r.path.split("?")[0] for r in seen if r not in lists] == [
            f"/{bucket}/watch/p/{v2}/data.txt"
        ]


async def test_s3_errors_retry_then_raise(seaweed: S3Server) -> None:
    bucket = seaweed.make_bucket()
    proxy = FaultProxy(seaweed.endpoint_url)
    async with proxy, watch_board(seaweed, bucket, proxy.url) as board:
        await write(board, "p", 1)
        watch = board.pin_watch("p", interval=0.05, retries=2)
        await next_meta(watch)
        listings = len(proxy.requests)
        await proxy.__aexit__(None, None, None)  # the server goes away
        with pytest.raises(PinsError, match=r"127\.0\.0\.1|connect|reach"):
            await next_meta(watch)
        assert watch.polls == 1 + 3  # the first poll, then one attempt and two retries
        assert len(proxy.requests) == listings


async def test_s3_recovers_within_retries(seaweed: S3Server) -> None:
    """A poll that fails once is retried; the watch goes on and misses nothing."""
    bucket = seaweed.make_bucket()
    proxy = FaultProxy(seaweed.endpoint_url)
    async with proxy, watch_board(seaweed, bucket, proxy.url) as board:
        await write(board, "p", 1)
        watch = board.pin_watch("p", interval=0.05, retries=3)
        await next_meta(watch)
        v2 = await write(board, "p", 2)
        proxy.cut_once(lambda r: "list-type=2" in r.path, after_body_bytes=10)
        assert (await next_meta(watch)).version == v2
        assert len(proxy.cuts) == 1


async def test_gcs_poll_is_one_listing(fakegcs: GCSServer) -> None:
    """GCS inherits pin_watch from PathBackend: one objects.list per idle poll."""
    bucket = fakegcs.make_bucket()
    proxy = FaultProxy(fakegcs.url)
    async with proxy:
        board = apins.board_gcs(f"{bucket}/watch", cache=False, endpoint_url=proxy.url)
        async with board:
            await write(board, "p", 1)
            watch = board.pin_watch("p", interval=0.05)
            await next_meta(watch)
            start = len(proxy.requests)
            polls = await idle_polls(watch, 1.0)
            seen = proxy.requests[start:]
            assert polls >= 3
            assert polls - 1 <= len(seen) <= polls
            assert all(r.method == "GET" and f"/b/{bucket}/o?" in r.path for r in seen)
            v2, v3 = await write(board, "p", 2), await write(board, "p", 3)
            assert [(await next_meta(watch)).version for _ in range(2)] == [v2, v3]


# -- URL (nginx): one conditional GET of _pins.yaml per poll, 304 when unchanged ---------------


async def test_url_poll_is_one_conditional_request(
    nginx: NginxServer, pins_cache_dir: Path
) -> None:
    name = f"w-{uuid.uuid4().hex[:8]}"
    folder = nginx.root / name
    async with apins.board_folder(folder) as writer:
        await write(writer, "p", 1)
        await writer.write_board_manifest()
        async with apins.board_url(f"{nginx.url}/{name}/", max_age=3600) as board:
            watch = board.pin_watch("p", interval=0.05)
            await next_meta(watch)
            start = nginx.mark(f"/{name}")
            polls = await idle_polls(watch, 1.0)
            seen = nginx.entries_since(f"/{name}", start)
            assert polls >= 3
            assert polls - 1 <= len(seen) <= polls
            assert all(e.uri == f"/{name}/_pins.yaml" and e.status == 304 for e in seen)
            assert all(e.if_none_match for e in seen)
            # two versions land between polls: both come, in order
            v2, v3 = await write(writer, "p", 2), await write(writer, "p", 3)
            await writer.write_board_manifest()
            assert [(await next_meta(watch)).version for _ in range(2)] == [v2, v3]


# -- Connect: one GET of the content item per poll ---------------------------------------------


async def test_connect_poll_is_one_request(tmp_path: Path) -> None:
    server = ConnectEmulator(root=tmp_path / "connect", users=USERS)
    async with server, apins.board_connect(server.url, "key-a", cache=tmp_path / "c") as board:
        m1 = await board.pin_write({"i": 1}, "pin", type="json")
        watch = board.pin_watch("alice/pin", interval=0.05)
        assert (await next_meta(watch)).version == m1.version
        server.reset_request_counts()
        polls = await idle_polls(watch, 1.0)
        counts = server.request_counts
        assert polls >= 3
        assert set(counts) == {"GET /__api__/v1/content/{guid}"}
        assert polls - 1 <= sum(counts.values()) <= polls
        m2 = await board.pin_write({"i": 2}, "pin", type="json")
        m3 = await board.pin_write({"i": 3}, "pin", type="json")
        got = [await next_meta(watch) for _ in range(2)]
        assert [m.version for m in got] == [m2.version, m3.version]
        assert got[1].name == "alice/pin"


# -- the sync twin ----------------------------------------------------------------------------


def test_sync_watch_from_a_thread(tmp_path: Path) -> None:
    board = sync.board_folder(tmp_path / "b")
    v1 = board.pin_write({"i": 1}, "p", type="json", created=at(1)).version
    out: list[str | None] = []

    def consume() -> None:
        with board.pin_watch("p", interval=0.05) as watch:
            for meta in watch:
                out.append(meta.version)
                if len(out) == 3:
                    break

    thread = threading.Thread(target=consume)
    thread.start()
    deadline = time.monotonic() + 60
    while not out and time.monotonic() < deadline:
        time.sleep(0.01)
    v2 = board.pin_write({"i": 2}, "p", type="json", created=at(2)).version
    v3 = board.pin_write({"i": 3}, "p", type="json", created=at(3)).version
    thread.join(60)
    assert not thread.is_alive()
    assert out[0] == v1 and out[1:] in ([v2, v3],)
    board.close()


_INTERRUPTED = """
import os, signal, sys, threading, time
from apins import sync
board = sync.board_folder(sys.argv[1])
watch = board.pin_watch("p", interval=3600)
next(watch)
started = time.monotonic()
try:
    # Ctrl-C while this thread waits in next() (the watch sleeps for an hour there)
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    next(watch)
except KeyboardInterrupt:
    print("interrupted", round(time.monotonic() - started, 3), watch.polls, flush=True)
watch.close()
print("after close", list(watch), flush=True)
board.close()
"""


def test_sync_watch_interrupted_then_closed(tmp_path: Path) -> None:
    """Ctrl-C in a thread waiting in next() cancels that step; close() ends the watch."""
    board = sync.board_folder(tmp_path / "b")
    board.pin_write({"i": 1}, "p", type="json", created=at(1))
    proc = subprocess.Popen(
        [PYTHON, "-c", _INTERRUPTED, str(tmp_path / "b")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(),
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    lines = out.splitlines()
    word, waited, polls = lines[0].split()
    assert (word, polls) == ("interrupted", "1") and float(waited) < 30
    assert lines[1] == "after close []"
    board.close()


def test_sync_twin_matches() -> None:
    import inspect

    from apins.sync import SyncBoard

    assert inspect.signature(SyncBoard.pin_watch).parameters.keys() == (
        inspect.signature(Board.pin_watch).parameters.keys()
    )
    assert SyncBoard.pin_watch.__doc__ == Board.pin_watch.__doc__


# -- the CLI ----------------------------------------------------------------------------------


def test_cli_watch_json_lines_and_ctrl_c(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    board = sync.board_folder(folder)
    v1 = board.pin_write({"i": 1}, "p", type="json", created=at(1)).version
    proc = subprocess.Popen(
        [PYTHON, "-m", "apins.cli", "watch", str(folder), "p", "--interval", "0.05", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["version"] == v1 and first["name"] == "p"
        v2 = board.pin_write({"i": 2}, "p", type="json", created=at(2)).version
        v3 = board.pin_write({"i": 3}, "p", type="json", created=at(3)).version
        lines = [json.loads(proc.stdout.readline()) for _ in range(2)]
        assert [x["version"] for x in lines] == [v2, v3]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert "Traceback" not in err and err.strip() == "apins: interrupted"
    board.close()


def test_cli_watch_lines(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    board = sync.board_folder(folder)
    meta = board.pin_write({"i": 1}, "p", type="json", created=at(1), title="first")
    proc = subprocess.Popen(
        [PYTHON, "-m", "apins.cli", "watch", str(folder), "p"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        assert line[0] == meta.version and meta.pin_hash in line and line[-1] == "first"
        os.kill(proc.pid, signal.SIGINT)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    bad = subprocess.run(
        [PYTHON, "-m", "apins.cli", "watch", str(folder), "p", "--interval", "0"],
        capture_output=True, text=True, env=subprocess_env(), timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "--interval" in bad.stderr
    board.close()
