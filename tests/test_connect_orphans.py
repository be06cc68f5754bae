"""Orphan bundles on Connect: uploaded by a writer killed before its deploy reached the server.

The orphan is left on the wire: a worker process writes through the fault proxy, whose
``stall_head`` holds the deploy request (the emulator never sees it), and is killed with
SIGKILL while it waits. The bundle is then listed by the Connect API but never deployed:
its files are not served. It is not a version for apins (neither while it is the newest
bundle nor once a later write made it older than the active one), never makes pin_versions
or pin_read fail, and the sweep (verb, CLI, and the next write after the grace period)
deletes it.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import apins
import apins.connect.backend as connect_backend
from apins.errors import VersionNotFound
from apins.testing.connect import ConnectEmulator, run_in_thread
from tests._helpers import HELPERS, PYTHON, subprocess_env
from tests.connect_support import USERS, api, bundle_served
from tests.faultproxy import Fault, FaultProxy

WORKER = str(HELPERS / "board_worker.py")
PIN = "orphaned"
FULL = f"alice/{PIN}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ConnectEmulator]:
    """The emulator on its own thread: pins-python (blocking) can talk to it from a test."""
    with run_in_thread(root=tmp_path / "connect", users=USERS) as srv:
        yield srv


def board(server: ConnectEmulator) -> apins.Board:
    return apins.board_connect(server.url, "key-a", cache=False)


async def bundles(server: ConnectEmulator) -> tuple[str, list[str], str]:
    """``(content guid, bundle ids oldest first, active bundle id)`` as the API lists them."""
    (item,) = [c for c in await api(server.url, "key-a", "GET", "v1/content") if c["name"] == PIN]
    listed = await api(server.url, "key-a", "GET", f"v1/content/{item['guid']}/bundles")
    return item["guid"], sorted((b["id"] for b in listed), key=int), str(item["bundle_id"])


def served(server: ConnectEmulator, guid: str, bundle: str) -> bool:
    return bundle_served(server.url, "key-a", guid, bundle)


async def leave_orphan(server: ConnectEmulator) -> str:
    """A worker writes through the proxy, which holds its deploy; kill -9 it there. Returns
    the id of the bundle it uploaded."""
    async with FaultProxy(server.url) as proxy:
        stall = proxy.add(Fault("stall_head", "POST", r"/deploy$", seconds=None))
        spec = {"kind": "connect", "server": proxy.url}
        proc = subprocess.Popen(
            [PYTHON, WORKER, "crash-write", json.dumps(spec), PIN, "orphan"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=subprocess_env(CONNECT_API_KEY="key-a"),
        )
        try:
            with anyio.fail_after(120):
                while not stall.fired:
                    assert proc.poll() is None, proc.communicate()[1]
                    await anyio.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
    _, ids, active = await bundles(server)
    assert ids[-1] != active
    return ids[-1]


def pins_python_reads_latest(server: ConnectEmulator) -> Any:
    import pins

    py = pins.board_connect(server_url=server.url, api_key="key-a")
    return py.pin_read(FULL)


async def test_orphan_is_no_version_and_never_fails_a_read(server: ConnectEmulator) -> None:
    async with board(server) as b:
        first = await b.pin_write({"n": 1}, PIN, type="json")
    orphan = await leave_orphan(server)
    guid, _, active = await bundles(server)
    assert active == first.version and not served(server, guid, orphan)
    async with board(server) as b:  # newest bundle, never deployed
        assert [v.version for v in await b.pin_versions(PIN)] == [first.version]
        assert await b.pin_read(PIN) == {"n": 1}
        second = await b.pin_write({"n": 2}, PIN, type="json")
    async with board(server) as b:  # now older than the active bundle
        assert [v.version for v in await b.pin_versions(PIN)] == [first.version, second.version]
        assert await b.pin_read(PIN) == {"n": 2}
        with pytest.raises(VersionNotFound):
            await b.pin_read(PIN, version=orphan)
        assert await b.pin_read(PIN, version=first.version) == {"n": 1}
    assert pins_python_reads_latest(server) == {"n": 2}
    assert (await bundles(server))[1] == [first.version, orphan, second.version]


async def test_sweep_deletes_orphans_after_the_grace_period(server: ConnectEmulator) -> None:
    async with board(server) as b:
        first = await b.pin_write({"n": 1}, PIN, type="json")
    orphan = await leave_orphan(server)
    async with board(server) as b:
        assert await b.sweep() == []  # fresh: perhaps a live writer's upload
        assert await b.sweep(grace=0, name=PIN) == [f"{FULL}/{orphan}"]
        assert [v.version for v in await b.pin_versions(PIN)] == [first.version]
    assert (await bundles(server))[1] == [first.version]
    # what pins-python takes as the latest (the highest bundle id) is served again
    assert pins_python_reads_latest(server) == {"n": 1}


async def test_next_write_sweeps_old_orphans(
    server: ConnectEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with board(server) as b:
        await b.pin_write({"n": 1}, PIN, type="json")
    orphan = await leave_orphan(server)
    async with board(server) as b:
        await b.pin_write({"n": 2}, PIN, type="json")
    assert orphan in (await bundles(server))[1]  # within the grace period: kept
    monkeypatch.setattr(connect_backend, "SWEEP_GRACE", 0.0)
    async with board(server) as b:
        third = await b.pin_write({"n": 3}, PIN, type="json")
    _, ids, active = await bundles(server)
    assert orphan not in ids and active == third.version


def test_cli_sweeps_a_connect_board(server: ConnectEmulator) -> None:
    orphan = anyio.run(_orphan_after_first_write, server)
    host = server.url.removeprefix("http://")
    run = subprocess.run(
        [PYTHON, "-m", "apins.cli", "sweep", f"connect+http://{host}", "--grace", "0"],
        capture_output=True,
        text=True,
        env=subprocess_env(CONNECT_API_KEY="key-a"),
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"removed {FULL}/{orphan}"


async def _orphan_after_first_write(server: ConnectEmulator) -> str:
    async with board(server) as b:
        await b.pin_write({"n": 1}, PIN, type="json")
    return await leave_orphan(server)
