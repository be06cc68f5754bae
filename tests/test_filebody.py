"""A file span as a request body (apins.stores._filebody): sent by sendfile on a plain
connection, through the writer where sendfile cannot go, and its digests."""

from __future__ import annotations

import hashlib
import os
import zlib
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from apins.stores._filebody import STEP, SpanBody, span_crc32, span_md5
from apins.stores.base import FileSpan

SPANS = [(0, 0), (0, 1), (3, 1000), (1, STEP + 5), (0, 2 * STEP + 17)]


@pytest.fixture(scope="module")
def blob(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("span") / "blob.bin"
    path.write_bytes(os.urandom(2 * STEP + 17))
    return path


@pytest.mark.parametrize(("start", "end"), SPANS)
def test_digests_are_those_of_the_span(blob: Path, start: int, end: int) -> None:
    data = blob.read_bytes()[start:end]
    span = FileSpan(blob, start, end)
    assert span_md5(span) == hashlib.md5(data).digest()
    assert span_crc32(span) == zlib.crc32(data)


def test_a_file_shorter_than_its_span_is_an_error(blob: Path) -> None:
    with pytest.raises(OSError, match="changed"):
        span_md5(FileSpan(blob, 0, blob.stat().st_size + 1))


class _Writer:
    """An aiohttp stream writer without a transport (as a TLS connection's is to sendfile)."""

    transport = None

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    async def write(self, chunk: Any) -> None:
        self.chunks.append(bytes(chunk))

    async def drain(self) -> None:
        return None


@pytest.mark.parametrize(("start", "end"), SPANS[1:])
async def test_without_sendfile_the_span_goes_through_the_writer(
    blob: Path, start: int, end: int
) -> None:
    sent: list[int] = []
    writer = _Writer()
    body = SpanBody(FileSpan(blob, start, end), stall_timeout=5.0, on_bytes=sent.append)
    await body.write_with_length(writer, None)  # type: ignore[arg-type]
    assert b"".join(writer.chunks) == blob.read_bytes()[start:end]
    assert sum(sent) == end - start and body.size == end - start


@pytest.mark.parametrize(("start", "end"), SPANS[1:])
async def test_over_a_plain_connection_the_server_gets_the_span(
    blob: Path, start: int, end: int
) -> None:
    got: list[bytes] = []

    async def put(request: web.Request) -> web.Response:
        got.append(await request.read())
        return web.Response(status=200)

    app = web.Application(client_max_size=4 * STEP)
    app.router.add_put("/x", put)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    sent: list[int] = []
    try:
        async with aiohttp.ClientSession() as session:
            body = SpanBody(FileSpan(blob, start, end), stall_timeout=5.0, on_bytes=sent.append)
            async with session.put(f"http://127.0.0.1:{port}/x", data=body) as resp:
                assert resp.status == 200
            # the connection is reused afterwards: the body ended where it said it would
            async with session.put(f"http://127.0.0.1:{port}/x", data=b"next") as resp:
                assert resp.status == 200
    finally:
        await runner.cleanup()
    assert got == [blob.read_bytes()[start:end], b"next"]
    assert sum(sent) == end - start
