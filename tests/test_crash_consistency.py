"""kill -9 of an apins process at random points, then what peers see on the board.

After every kill, apins sees only complete versions and reads the latest, and pins-python
0.9.2 on the same board lists pins and versions, reads the latest and searches without
error. Boards: folder, S3 on SeaweedFS with single-request and with multipart uploads, GCS
on fake-gcs-server with composite uploads (parts staged outside the board), the Connect
emulator; verbs: pin_write, pin_upload, pin_download (into a cache) and mirror.

On S3 there is no rename: a kill between a version's last data object and its data.txt
(a round trip or two, measured in docs/consistency.md) leaves a folder pins-python lists as
a version. On Connect a kill between a bundle's upload and its deploy leaves a bundle that
serves no files, which pins-python takes as the latest (the highest bundle id). Such trials
are counted; the sweep must then remove the orphan (apins itself never lists it) and
pins-python must read the board again.

CI runs a few trials per case; ``APINS_STRESS=1`` (``nox -s stress``) runs the full count.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import apins
from apins.board import Board
from apins.meta import Meta
from apins.settings import MiB
from apins.stores.gcs import PART_SUFFIX, STAGING
from tests._helpers import HELPERS, PYTHON, subprocess_env, trials
from tests._helpers.board_worker import MULTIPART, SINGLE
from tests.connect_support import bundle_served
from tests.servers import GCSServer, S3Server

WORKER = str(HELPERS / "board_worker.py")
TRIALS = trials(3, 25)
PIN = "crashy"


@dataclass
class Tally:
    """What the trials of one case found (printed with -s, and kept for the report)."""

    case: str
    trials: int = 0
    window_hits: int = 0
    swept: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.case}: {self.trials} kill -9 trials, {self.window_hits} left an orphan "
            f"pins-python could see (swept: {len(self.swept)})"
        )


def kill_at_random(args: list[str], env: dict[str, str], rng: random.Random) -> float:
    """Start the worker, let its first operation finish, kill -9 it at a random later
    moment within about one more operation; return the delay used."""
    proc = subprocess.Popen(
        [PYTHON, WORKER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        if not line or line[0] != "go":
            proc.kill()
            pytest.fail(f"worker did not start: {line!r}\n{proc.communicate()[1]}")
        delay = rng.uniform(0.0, 1.5 * float(line[1]))
        time.sleep(delay)  # a random point of the next operation, not a synchronisation
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL, "the worker ended before it was killed"
    return delay


# -- the boards --------------------------------------------------------------------------------


@dataclass
class Side:
    """One board as apins, pins-python and the worker reach it."""

    spec: dict[str, Any]
    env: dict[str, str]
    server: S3Server | None = None
    gcs: GCSServer | None = None

    def apins(self) -> Board:
        kind = self.spec["kind"]
        if kind == "folder":
            return apins.board_folder(self.spec["path"])
        if kind == "connect":
            return apins.board_connect(self.spec["server"], "key-a", cache=False)
        if kind == "gcs":
            return apins.board_gcs(
                self.spec["path"], cache=False, endpoint_url=self.spec["endpoint"],
                settings=MULTIPART if self.spec.get("multipart") else SINGLE,
            )  # fmt: skip
        assert self.server is not None
        return self.server.board(
            self.spec["path"],
            cache=False,
            settings=MULTIPART if self.spec.get("multipart") else SINGLE,
        )

    def pins_python(self) -> Any:
        import pins

        kind = self.spec["kind"]
        if kind == "folder":
            return pins.board_folder(self.spec["path"], allow_pickle_read=True)
        if kind == "connect":
            return pins.board_connect(server_url=self.spec["server"], api_key="key-a")
        if kind == "gcs":  # gcsfs: no instance or listing kept from one trial to the next
            return pins.board(
                "gcs", self.spec["path"],
                storage_options={
                    "token": "anon", "endpoint_url": self.spec["endpoint"],
                    "skip_instance_cache": True, "use_listings_cache": False,
                },
            )  # fmt: skip
        assert self.server is not None
        return pins.board_s3(
            self.spec["path"],
            key=self.server.access_key,
            secret=self.server.secret_key,
            client_kwargs={
                "endpoint_url": self.server.endpoint_url,
                "region_name": self.server.region,
            },
            skip_instance_cache=True,
            use_listings_cache=False,
        )

    def orphans(self) -> list[str]:
        """What a killed writer left that pins-python would list, named as the sweep names
        it: S3 version folders with objects but no data.txt, Connect bundles that serve no
        data.txt (never deployed). [] on folder boards."""
        if self.spec["kind"] == "connect":
            return connect_orphans(self.spec["server"], PIN)
        bucket, _, prefix = self.spec["path"].partition("/")
        keys: list[str] = []
        if self.gcs is not None:
            keys = [n[len(prefix) + 1 :] for n in self.gcs.list_names(bucket, prefix + "/")]
            # composite parts are staged outside the board: none may ever be inside it
            assert not [k for k in keys if k.endswith(PART_SUFFIX)], keys
        elif self.server is None:
            return []
        else:
            client = self.server.boto3_client()
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix + "/"
            ):
                keys += [o["Key"][len(prefix) + 1 :] for o in page.get("Contents", [])]
        folders = {"/".join(k.split("/")[:2]) for k in keys if k.count("/") >= 2}
        return sorted(f"{f}/" for f in folders if f"{f}/data.txt" not in keys)


def connect_orphans(server: str, pin: str) -> list[str]:
    """``alice/<pin>/<bundle>`` of each bundle of the pin whose data.txt is not served."""

    def get(path: str) -> Any:
        request = urllib.request.Request(
            f"{server}/__api__/{path}", headers={"Authorization": "Key key-a"}
        )
        with urllib.request.urlopen(request, timeout=60) as r:
            return json.loads(r.read())

    (item,) = [c for c in get("v1/content") if c["name"] == pin]
    bundles = [str(b["id"]) for b in get(f"v1/content/{item['guid']}/bundles")]
    return sorted(
        f"alice/{pin}/{b}" for b in bundles if not bundle_served(server, "key-a", item["guid"], b)
    )


def folder_side(tmp_path: Path) -> Side:
    return Side({"kind": "folder", "path": str(tmp_path / "board")}, subprocess_env())


def s3_side(server: S3Server, multipart: bool) -> Side:
    spec = {
        "kind": "s3",
        "path": f"{server.make_bucket()}/crash",
        "endpoint": server.endpoint_url,
        "multipart": multipart,
    }
    return Side(spec, subprocess_env(**server.env()), server)


@pytest.fixture
def gcs_side(fakegcs: GCSServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Side:
    """A GCS board with composite uploads of several parts; gcsfs pointed at the emulator."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fakegcs.url)
    # gcsfs's experimental zonal-bucket probe speaks gRPC over TLS, which the emulator lacks
    monkeypatch.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    monkeypatch.setenv("PINS_CACHE_DIR", str(tmp_path / "py-cache"))
    spec = {
        "kind": "gcs",
        "path": f"{fakegcs.make_bucket()}/crash",
        "endpoint": fakegcs.url,
        "multipart": True,
    }
    return Side(spec, subprocess_env(), gcs=fakegcs)


@pytest.fixture
def connect_side(tmp_path: Path) -> Iterator[Side]:
    from apins.testing.connect import run_in_thread
    from tests.connect_support import USERS

    with run_in_thread(root=tmp_path / "connect", users=USERS) as srv:
        spec = {"kind": "connect", "server": srv.url}
        yield Side(spec, subprocess_env(CONNECT_API_KEY="key-a"))


# -- what peers must see -----------------------------------------------------------------------


async def apins_sees_complete(side: Side, pin: str) -> list[str]:
    """Every listed version has a data.txt; the latest reads (and verifies). Returns them."""
    async with side.apins() as board:
        versions = [v.version for v in await board.pin_versions(pin)]
        meta = await board.pin_meta(pin)
        assert isinstance(meta, Meta)
        if meta.type == "file":
            assert await board.pin_download(pin)
        else:
            await board.pin_read(pin)
        assert [m.name for m in await board.pin_search()] == [meta.name]
        return versions


def pins_python_reads(side: Side, pin: str, versions: list[str]) -> None:
    """pins-python lists, reads the latest, and searches the board without error."""
    board = side.pins_python()
    name = f"alice/{pin}" if side.spec["kind"] == "connect" else pin
    assert board.pin_list() == [name]
    assert [str(v) for v in board.pin_versions(name)["version"]] == versions
    if board.pin_meta(name).type == "file":
        assert board.pin_download(name)
    else:
        board.pin_read(name)
    assert len(board.pin_search()) == 1


async def check_peers(side: Side, pin: str, tally: Tally) -> None:
    versions = await apins_sees_complete(side, pin)
    orphans = side.orphans()
    if orphans:  # killed inside the window: pins-python would list it; the sweep fixes it
        tally.window_hits += 1
        async with side.apins() as board:
            removed = await board.sweep(grace=0)
        assert set(orphans) <= set(removed)
        tally.swept += orphans
        assert side.orphans() == []
    pins_python_reads(side, pin, versions)
    tally.trials += 1


async def write_first(side: Side, pin: str, source: Path | None = None) -> None:
    async with side.apins() as board:
        if source is None:
            await board.pin_write({"first": True}, pin, type="json")
        else:
            await board.pin_upload(source, pin)


def big_file(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "payload.bin"
    path.write_bytes(random.Random(7).randbytes(size))
    return path


# -- the cases ---------------------------------------------------------------------------------


async def run_writes(side: Side, mode: str, arg: str, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(TRIALS):
        kill_at_random([mode, json.dumps(side.spec), PIN, arg], side.env, rng)
        await check_peers(side, PIN, tally)
    print(tally)


async def test_folder_pin_write(tmp_path: Path) -> None:
    side = folder_side(tmp_path)
    await write_first(side, PIN)
    await run_writes(side, "crash-write", "w", Tally("folder pin_write"), 1)
    staging = tmp_path / ".board.apins-staging"
    assert not any(p.name.startswith(".") for p in (tmp_path / "board").rglob("*"))
    async with side.apins() as board:  # leftovers outside the board: swept on demand
        await board.sweep(grace=0)
    assert not staging.exists() or list(staging.iterdir()) == []


async def test_folder_pin_upload(tmp_path: Path) -> None:
    side = folder_side(tmp_path)
    source = big_file(tmp_path, 24 * MiB)
    await write_first(side, PIN, source)
    await run_writes(side, "crash-upload", str(source), Tally("folder pin_upload"), 2)


async def test_s3_pin_write_single_requests(seaweed: S3Server) -> None:
    side = s3_side(seaweed, multipart=False)
    await write_first(side, PIN)
    await run_writes(side, "crash-write", "w", Tally("S3 pin_write"), 3)


async def test_s3_pin_upload_multipart(seaweed: S3Server, tmp_path: Path) -> None:
    side = s3_side(seaweed, multipart=True)
    source = big_file(tmp_path, 12 * MiB)  # three parts of 5 MiB
    await write_first(side, PIN, source)
    await run_writes(side, "crash-upload", str(source), Tally("S3 multipart pin_upload"), 4)
    bucket = side.spec["path"].split("/")[0]
    client = seaweed.boto3_client()
    async with side.apins() as board:  # what the kills left unfinished is aborted
        await board.sweep(grace=0)
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


async def test_gcs_pin_upload_composite(gcs_side: Side, tmp_path: Path) -> None:
    """Killed mid-way through a composite upload: its parts stay staged outside the board,
    where pins-python never looks; the sweep removes them."""
    assert gcs_side.gcs is not None
    source = big_file(tmp_path, 12 * MiB)  # three parts of 5 MiB, then one compose
    await write_first(gcs_side, PIN, source)
    tally = Tally("GCS composite pin_upload")
    await run_writes(gcs_side, "crash-upload", str(source), tally, 9)
    bucket = gcs_side.spec["path"].split("/")[0]
    staged = gcs_side.gcs.list_names(bucket, STAGING)
    print(f"{len(staged)} staged parts left by the kills")
    async with gcs_side.apins() as board:  # what the kills left staged is removed
        await board.sweep(grace=0)
    assert gcs_side.gcs.list_names(bucket, STAGING) == []


async def test_connect_pin_write(connect_side: Side) -> None:
    await write_first(connect_side, PIN)
    await run_writes(connect_side, "crash-write", "w", Tally("Connect pin_write"), 5)


async def test_connect_pin_upload(connect_side: Side, tmp_path: Path) -> None:
    source = big_file(tmp_path, 6 * MiB)
    await write_first(connect_side, PIN, source)
    await run_writes(connect_side, "crash-upload", str(source), Tally("Connect pin_upload"), 7)


async def test_s3_pin_download_into_cache(seaweed: S3Server, tmp_path: Path) -> None:
    side = s3_side(seaweed, multipart=True)
    source = big_file(tmp_path, 12 * MiB)
    await write_first(side, PIN, source)
    cache = tmp_path / "shared-cache"
    spec = {**side.spec, "cache": str(cache)}
    rng = random.Random(6)
    tally = Tally("S3 pin_download")
    for _ in range(TRIALS):
        kill_at_random(["crash-download", json.dumps(spec), PIN], side.env, rng)
        # the cache the killed process used serves only whole, verified files
        async with seaweed.board(side.spec["path"], cache=cache) as board:
            (path,) = await board.pin_download(PIN)
            assert Path(path).read_bytes() == source.read_bytes()
        await check_peers(side, PIN, tally)
    print(tally)


async def test_mirror_folder_to_s3(seaweed: S3Server, tmp_path: Path) -> None:
    source = folder_side(tmp_path)
    payload = big_file(tmp_path, 12 * MiB)
    await write_first(source, PIN, payload)
    source.spec["upload"] = str(payload)
    async with source.apins() as board:
        await board.pin_write({"second": True}, "other", type="json")
    target = s3_side(seaweed, multipart=True)
    rng = random.Random(8)
    tally = Tally("mirror folder -> S3")
    for _ in range(TRIALS):
        kill_at_random(
            ["crash-mirror", json.dumps(source.spec), json.dumps(target.spec)], target.env, rng
        )
        latest: dict[str, Any] = {}  # each pin's latest on the target, as the source holds it
        async with target.apins() as board, source.apins() as origin:
            pins = await board.pin_list()
            versions = {p: [v.version for v in await board.pin_versions(p)] for p in pins}
            for p in pins:  # the latest of each mirrored pin reads (and verifies)
                meta = await board.pin_meta(p)
                if meta.type == "file":
                    (got,) = await board.pin_download(p)
                    (want,) = await origin.pin_download(p, version=meta.version)
                    latest[p] = Path(want).read_bytes()
                    assert Path(got).read_bytes() == latest[p]
                else:
                    latest[p] = await origin.pin_read(p, version=meta.version)
                    assert await board.pin_read(p) == latest[p]
        orphans = target.orphans()
        if orphans:
            tally.window_hits += 1
            async with target.apins() as board:
                await board.sweep(grace=0)
            assert target.orphans() == []
            tally.swept += orphans
        py = target.pins_python()
        assert sorted(py.pin_list()) == sorted(versions)
        for p, vs in versions.items():
            assert [str(v) for v in py.pin_versions(p)["version"]] == vs
            if py.pin_meta(p).type == "file":
                (got,) = py.pin_download(p)
                assert Path(got).read_bytes() == latest[p]
            else:
                assert py.pin_read(p) == latest[p]
        assert len(py.pin_search()) == len(versions)
        tally.trials += 1
    print(tally)
