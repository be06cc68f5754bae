"""Where a GCS composite upload stages its parts, as pins-python 0.9.2 (gcsfs) sees it.

Parts live under the bucket-level prefix ``.apins-parts/<board prefix>``, outside the board:
while an upload is held mid-way pins-python still lists, reads and searches the board; the
sweep removes this board's stale parts and keeps fresh ones and other boards' parts. A board
at the bucket root stages nothing (each file is one streamed upload).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

import apins
import apins.backends.path as path_backend
from apins.settings import MiB, TransferSettings
from apins.stores.gcs import STAGING, GCSStore
from tests.faultproxy import FaultProxy, RequestRecord
from tests.servers import GCSServer

PARTS = TransferSettings(
    multipart_threshold=6 * MiB, part_size=5 * MiB, range_threshold=6 * MiB, max_concurrency=2
)


@pytest.fixture
def emulated(fakegcs: GCSServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> GCSServer:
    """gcsfs (inside pins-python) pointed at the emulator."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fakegcs.url)
    # gcsfs's experimental zonal-bucket probe speaks gRPC over TLS, which the emulator lacks
    monkeypatch.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    monkeypatch.setenv("PINS_CACHE_DIR", str(tmp_path / "py-cache"))
    return fakegcs


def pins_python(server: GCSServer, path: str) -> Any:
    """A fresh pins-python board (no gcsfs instance or listing shared with earlier calls)."""
    import pins

    return pins.board(
        "gcs",
        path,
        storage_options={
            "token": "anon",
            "endpoint_url": server.url,
            "skip_instance_cache": True,
            "use_listings_cache": False,
        },
    )


def pins_python_sees(server: GCSServer, path: str, pin: str, latest: bytes) -> list[str]:
    """pins-python lists the board and the pin's versions, reads the latest (a file pin
    holding ``latest``) and searches, without error; returns the versions."""
    py = pins_python(server, path)
    assert py.pin_list() == [pin]
    versions = [str(v) for v in py.pin_versions(pin)["version"]]
    (got,) = py.pin_download(pin)
    assert Path(got).read_bytes() == latest
    assert len(py.pin_search()) == 1
    return versions


def payload(tmp_path: Path, name: str, size: int) -> Path:
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return path


async def test_held_composite_upload_is_invisible_to_pins_python(
    emulated: GCSServer, tmp_path: Path
) -> None:
    bucket = emulated.make_bucket()
    where = f"{bucket}/team"
    (tmp_path / "1").mkdir()
    (tmp_path / "2").mkdir()
    first = payload(tmp_path / "1", "data.bin", 1024)
    big = payload(tmp_path / "2", "data.bin", 13 * MiB)  # three parts, then one compose
    async with apins.board_gcs(where, cache=False, endpoint_url=emulated.url) as board:
        v1 = (await board.pin_upload(first, "p")).version
    held, release = anyio.Event(), anyio.Event()

    async def hold(record: RequestRecord) -> None:
        held.set()
        await release.wait()

    async with FaultProxy(emulated.url) as proxy:
        proxy.inject("hook", "POST", r"/compose$", hook=hold)
        async with (
            anyio.create_task_group() as tg,
            apins.board_gcs(where, cache=False, endpoint_url=proxy.url, settings=PARTS) as writer,
        ):

            async def upload() -> None:
                await writer.pin_upload(big, "p")

            tg.start_soon(upload)
            with anyio.fail_after(120):
                await held.wait()  # every part is staged; compose not yet run
            try:
                staged = emulated.list_names(bucket, STAGING)
                assert len(staged) == 3
                assert all(n.startswith(f"{STAGING}team/p/") for n in staged)
                assert not [n for n in emulated.list_names(bucket, "team/") if "apins-part" in n]
                seen = await anyio.to_thread.run_sync(
                    pins_python_sees, emulated, where, "p", first.read_bytes()
                )
                assert seen == [v1]
                async with apins.board_gcs(where, cache=False, endpoint_url=emulated.url) as b:
                    assert [v.version for v in await b.pin_versions("p")] == [v1]
            finally:
                release.set()
    assert emulated.list_names(bucket, STAGING) == []  # compose deleted the parts
    seen = await anyio.to_thread.run_sync(pins_python_sees, emulated, where, "p", big.read_bytes())
    assert len(seen) == 2 and seen[0] == v1


async def test_root_board_stages_no_parts(emulated: GCSServer, tmp_path: Path) -> None:
    """At the bucket root a staging prefix would be a pin to pins-python: a large file goes
    up as one streamed request instead, and pins-python reads the board."""
    bucket = emulated.make_bucket()
    big = payload(tmp_path, "data.bin", 13 * MiB)
    events: list[apins.ProgressEvent] = []
    async with apins.board_gcs(
        bucket, cache=False, endpoint_url=emulated.url, settings=PARTS
    ) as board:
        await board.pin_upload(big, "p", progress=events.append)
        store = board.backend.store  # type: ignore[attr-defined]
        assert isinstance(store, GCSStore)
        assert store.request_counts["objects.compose"] == 0
        assert await board.sweep(grace=0) == []
    assert any(e.finished and e.done == big.stat().st_size for e in events)
    assert not [n for n in emulated.list_names(bucket) if not n.startswith("p/")]
    await anyio.to_thread.run_sync(pins_python_sees, emulated, bucket, "p", big.read_bytes())


async def stage(server: GCSServer, bucket: str, prefix: str, key: str) -> tuple[str, float]:
    """Stage two parts of an unfinished upload of ``key`` (as a killed writer leaves them);
    return the upload id and the server's time of its newest part."""
    store = GCSStore(bucket, prefix, endpoint_url=server.url)
    try:
        upload = await store.create_multipart(key)
        for n in (1, 2):
            await store.upload_part(key, upload, n, b"x" * 1024)
        (pending,) = [u for u in await store.list_uploads("") if u.upload_id == upload]
    finally:
        await store.aclose()
    assert pending.key == key and pending.last_activity is not None
    return upload, pending.last_activity.timestamp()


def stage_boards(server: GCSServer, gap: float) -> tuple[str, dict[str, str]]:
    """A new bucket with parts staged by board ``other`` and by board ``b`` (an upload of
    pin ``p``, then ``gap`` seconds later one of pin ``q``); returns the bucket, the upload
    ids by role and (as "grace") the moment between b's two uploads."""
    bucket = server.make_bucket()

    async def make() -> dict[str, str]:
        other, _ = await stage(server, bucket, "other", "p/29990101T000000Z-aaaaa/x.bin")
        old, t_old = await stage(server, bucket, "b", "p/29990101T000001Z-fffff/x.bin")
        await anyio.sleep(max(0.0, t_old + gap - time.time()))  # the server's clock moves on
        fresh, t_fresh = await stage(server, bucket, "b", "q/29990101T000002Z-eeeee/y.bin")
        assert t_fresh - t_old >= gap * 0.8
        return {"other": other, "old": old, "fresh": fresh, "grace": str((t_old + t_fresh) / 2)}

    return bucket, anyio.run(make)


def test_sweep_removes_stale_parts_of_this_board_only(fakegcs: GCSServer) -> None:
    bucket, ids = stage_boards(fakegcs, gap=3.0)
    anyio.run(sweep_by_age, fakegcs, bucket, ids)


async def sweep_by_age(fakegcs: GCSServer, bucket: str, ids: dict[str, str]) -> None:
    async with apins.board_gcs(f"{bucket}/b", cache=False, endpoint_url=fakegcs.url) as board:
        assert await board.sweep() == []  # everything is younger than ten minutes
        # the boundary between the two uploads: the old one is past it, the fresh one not
        removed = await board.sweep(grace=time.time() - float(ids["grace"]))
    assert removed == [f"p/29990101T000001Z-fffff/x.bin (unfinished upload {ids['old']})"]
    left = fakegcs.list_names(bucket, STAGING)
    assert sorted({n.split(".")[-2].split("-")[0] for n in left}) == sorted(
        [ids["other"], ids["fresh"]]
    )
    assert all(n.startswith((f"{STAGING}other/", f"{STAGING}b/q/")) for n in left)


def test_cli_sweep_removes_staged_parts(
    fakegcs: GCSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apins.cli import main

    bucket, _ = stage_boards(fakegcs, gap=0.0)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fakegcs.url)
    assert main(["sweep", f"gs://{bucket}/b", "--grace", "0"]) == 0
    left = fakegcs.list_names(bucket, STAGING)
    assert left and all(n.startswith(f"{STAGING}other/") for n in left)


def test_next_write_of_the_pin_sweeps_its_stale_parts(
    fakegcs: GCSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket, _ = stage_boards(fakegcs, gap=0.0)
    anyio.run(write_twice, fakegcs, bucket, monkeypatch)


async def write_twice(fakegcs: GCSServer, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async with apins.board_gcs(f"{bucket}/b", cache=False, endpoint_url=fakegcs.url) as board:
        await board.pin_write({"a": 1}, "p", type="json")  # within the grace period: kept
    assert len(fakegcs.list_names(bucket, f"{STAGING}b/p/")) == 2
    monkeypatch.setattr(path_backend, "SWEEP_GRACE", 0.0)  # as if ten minutes had passed
    async with apins.board_gcs(f"{bucket}/b", cache=False, endpoint_url=fakegcs.url) as board:
        await board.pin_write({"a": 2}, "p", type="json")
    assert fakegcs.list_names(bucket, f"{STAGING}b/p/") == []
    assert len(fakegcs.list_names(bucket, f"{STAGING}b/q/")) == 2  # another pin: not this write's
