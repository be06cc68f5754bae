"""Large plain-HTTP bodies are read from the socket into one reused buffer (_rawbody.py).

Against real nginx and SeaweedFS: a body of at least ``range_threshold`` bytes comes out of
``views()`` as views of one buffer (no new object per socket read) with the right bytes; a
smaller body keeps aiohttp's path. Faults on that path (cut, reset, short and stalled bodies)
are in tests/test_faults.py, whose settings make its 96 KiB objects large.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apins import TransferSettings
from apins.stores.http import BodyStream, HTTPStore
from apins.stores.s3 import S3Store
from tests.servers.nginx import NginxServer
from tests.servers.s3 import S3Server

KiB = 1024
DATA = random.Random(13).randbytes(3 * 1024 * KiB + 77)
SETTINGS = TransferSettings(range_threshold=1024 * KiB, chunk_size=256 * KiB)


async def _read_views(stream: BodyStream) -> tuple[bytes, list[object]]:
    """The body's bytes and the object behind each view (copied before the next is asked)."""
    got = bytearray()
    owners: list[object] = []
    try:
        async for view in stream.views(SETTINGS.chunk_size):
            got += view
            owners.append(view.obj if isinstance(view, memoryview) else view)
    finally:
        await stream.aclose()
    return bytes(got), owners


@pytest.fixture
async def http_store(nginx: NginxServer) -> AsyncIterator[HTTPStore]:
    folder = nginx.root / f"raw-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    (folder / "big.bin").write_bytes(DATA)
    (folder / "small.bin").write_bytes(DATA[: 64 * KiB])
    store = HTTPStore(f"{nginx.url}/{folder.name}/", identity="t", settings=SETTINGS)
    try:
        yield store
    finally:
        await store.aclose()


@pytest.fixture
async def s3_store(seaweed: S3Server, tmp_path: Path) -> AsyncIterator[S3Store]:
    store = S3Store(
        seaweed.make_bucket("raw"),
        endpoint_url=seaweed.endpoint_url,
        region=seaweed.region,
        access_key=seaweed.access_key,
        secret_key=seaweed.secret_key,
        settings=SETTINGS,
    )
    await store.put_bytes("big.bin", DATA)
    await store.put_bytes("small.bin", DATA[: 64 * KiB])
    try:
        yield store
    finally:
        await store.aclose()


def _assert_reused(owners: list[object]) -> None:
    # the first view may hold what aiohttp read with the head; every later one is the buffer
    later = owners[1:]
    assert len(later) >= 3, owners
    assert all(o is later[0] for o in later), "a new object per chunk: the buffer is not reused"


async def test_large_body_over_http_is_read_into_one_buffer(http_store: HTTPStore) -> None:
    stream = await http_store.open_read("big.bin")
    got, owners = await _read_views(stream)
    assert got == DATA
    assert stream.reusing
    _assert_reused(owners)


async def test_large_ranged_body_over_http_is_read_into_one_buffer(
    http_store: HTTPStore,
) -> None:
    stream = await http_store.open_read("big.bin", start=5, end=len(DATA) - 3)
    got, owners = await _read_views(stream)
    assert got == DATA[5:-3]
    assert stream.reusing
    _assert_reused(owners)


async def test_small_body_keeps_aiohttp_path(http_store: HTTPStore) -> None:
    stream = await http_store.open_read("small.bin")
    got, _ = await _read_views(stream)
    assert got == DATA[: 64 * KiB]
    assert not stream.reusing
    # the store still works after a raw body closed its connection
    again = await http_store.open_read("big.bin")
    assert (await _read_views(again))[0] == DATA


async def test_large_s3_object_is_read_into_one_buffer(s3_store: S3Store) -> None:
    stream = await s3_store.open_read("big.bin")
    got, owners = await _read_views(stream)
    assert got == DATA
    assert stream.reusing
    _assert_reused(owners)
    small = await s3_store.open_read("small.bin")
    assert (await _read_views(small))[0] == DATA[: 64 * KiB]
    assert not small.reusing
