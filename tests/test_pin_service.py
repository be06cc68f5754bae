"""examples/pin_service.py end to end: the service runs as a subprocess against a folder or
S3 (SeaweedFS) board, new versions are written by other processes, and concurrent readers
check that no request fails, each version shows up within a bound, and no response mixes
rows of two versions."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import anyio
import pytest

from tests._helpers import PYTHON, REPO, subprocess_env
from tests.servers import S3Server

SERVICE = REPO / "examples" / "pin_service.py"
ROWS = 3000
VERSIONS = 3
#: how long a new version may take to be served (generous: the machine is shared)
BOUND = 60.0

_WRITER = """
import sys
import pyarrow as pa
from apins import sync
from apins.cli.boards import open_board, s3_options

board = open_board(sys.argv[1], s3_options(None, None, None))
gen = int(sys.argv[2])
rows = int(sys.argv[3])
table = pa.table({"gen": [gen] * rows, "i": list(range(rows))})
with sync.SyncBoard(board) as b:
    print(b.pin_write(table, "table", type="parquet").version)
"""


@dataclass
class Target:
    spec: str
    env: dict[str, str] = field(default_factory=dict)


@pytest.fixture(params=["folder", "s3"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "folder":
        yield Target(str(tmp_path / "board"))
        return
    server: S3Server = request.getfixturevalue("seaweed")
    bucket = server.make_bucket()
    yield Target(
        f"s3://{bucket}/svc?endpoint_url={server.endpoint_url}&region={server.region}",
        {"AWS_ACCESS_KEY_ID": server.access_key, "AWS_SECRET_ACCESS_KEY": server.secret_key},
    )


def write_version(target: Target, gen: int) -> str:
    """Write version ``gen`` of the pin from another process; return its version name."""
    done = subprocess.run(
        [PYTHON, "-c", _WRITER, target.spec, str(gen), str(ROWS)], capture_output=True, text=True,
        env=subprocess_env(**target.env), timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
async def service(target: Target) -> AsyncIterator[str]:
    write_version(target, 1)
    proc = subprocess.Popen(
        [PYTHON, str(SERVICE), target.spec, "table", "--port", "0", "--interval", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=subprocess_env(**target.env),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = await anyio.to_thread.run_sync(proc.stdout.readline)
        assert line.startswith("listening on "), proc.stderr.read() if proc.stderr else ""
        yield line.split()[-1]
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Seen:
    """What the readers saw: pin version → generation, and any failure."""

    gens: dict[str, int] = field(default_factory=dict)
    responses: int = 0
    problems: list[str] = field(default_factory=list)


async def reader(session: aiohttp.ClientSession, url: str, seen: Seen, stop: anyio.Event) -> None:
    rnd = random.Random(uuid.uuid4().int)
    while not stop.is_set():
        offset = rnd.randrange(0, ROWS)
        async with session.get(f"{url}/rows", params={"offset": offset, "limit": 200}) as r:
            if r.status != 200:
                seen.problems.append(f"status {r.status}: {await r.text()}")
                continue
            doc = await r.json()
        gens = {row["gen"] for row in doc["rows"]}
        if len(gens) != 1:
            seen.problems.append(f"rows of several versions in one response: {gens}")
            continue
        (gen,) = gens
        if seen.gens.setdefault(doc["version"], gen) != gen:
            seen.problems.append(
                f"version {doc['version']} served as gens {seen.gens[doc['version']]} and {gen}"
            )
        expected = list(range(offset, min(offset + 200, ROWS)))
        if [row["i"] for row in doc["rows"]] != expected:
            seen.problems.append(f"wrong rows at offset {offset}")
        seen.responses += 1
        await anyio.sleep(0.02)  # leave the writer processes some of the shared CPU


async def current_gen(session: aiohttp.ClientSession, url: str) -> int | None:
    async with session.get(f"{url}/rows", params={"limit": 1}) as r:
        if r.status == 503:
            return None
        assert r.status == 200
        return int((await r.json())["rows"][0]["gen"])


async def served(session: aiohttp.ClientSession, url: str, gen: int) -> None:
    """Return once the service serves generation ``gen``; fail after BOUND seconds."""
    with anyio.fail_after(BOUND):
        for _ in itertools.count():
            if await current_gen(session, url) == gen:
                return
            await anyio.sleep(0.05)


async def test_service_swaps_versions_under_load(service: str, target: Target) -> None:
    seen = Seen()
    stop = anyio.Event()
    delays: list[float] = []
    async with aiohttp.ClientSession() as session:
        await served(session, service, 1)
        async with anyio.create_task_group() as tg:
            for _ in range(4):
                tg.start_soon(reader, session, service, seen, stop)
            for gen in range(2, VERSIONS + 2):
                version = await anyio.to_thread.run_sync(write_version, target, gen)
                written = time.monotonic()
                await served(session, service, gen)
                delays.append(time.monotonic() - written)
                async with session.get(f"{service}/version") as r:
                    assert (await r.json()) == {"version": version, "rows": ROWS}
            # the readers must see the last version before they stop (they poll on their own;
            # the loop above only waited for the service to switch)
            with anyio.fail_after(60):
                while max(seen.gens.values(), default=0) < VERSIONS + 1:  # noqa: ASYNC110
                    await anyio.sleep(0.05)
            stop.set()
        async with session.get(f"{service}/latest-meta") as r:
            assert (await r.json())["version"] == version
        async with session.get(f"{service}/rows", params={"limit": "x"}) as r:
            assert r.status == 400
    assert seen.problems == []
    assert seen.responses > VERSIONS
    # every version was served by some reader, each with its own generation
    assert sorted(seen.gens.values())[-1] == VERSIONS + 1
    assert len(set(seen.gens.values())) == len(seen.gens)
    print(f"served {seen.responses} reads; versions appeared after {delays}", file=sys.stderr)
