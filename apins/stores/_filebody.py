"""A span of a local file as an aiohttp request body, sent by the kernel, and its digests.

An upload body streamed by aiohttp (or botocore) is read into a new ``bytes`` per chunk in a
worker thread, then copied into the socket, and queued again in the transport when the
socket is full. :class:`SpanBody` hands the span to ``loop.sendfile`` instead: the kernel
copies the file's pages into the socket, no byte passes through Python. Connections where
the loop cannot (TLS, other event loops) fall back to reading the span in a worker thread
into one reused buffer. Either way the body never sits in memory whole.

:func:`span_md5` and :func:`span_crc32` are the body's digests (Content-MD5, S3's ETag of a
part, the ``x-amz-checksum-crc32`` of a part), read into one reused buffer: run them in a
worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp.payload import Payload

from .base import FileSpan

if TYPE_CHECKING:
    from aiohttp.abc import AbstractStreamWriter

#: bytes sent per sendfile call (progress is reported, and the stall timeout restarts,
#: after each)
STEP = 4 * 1024 * 1024
#: buffer of the fallback sender and of the digest
BUFFER = 1024 * 1024


def _read_span(span: FileSpan, consume: Callable[[memoryview], None]) -> None:
    """Hand ``span``'s bytes to ``consume``, a view of one reused buffer at a time."""
    buf = memoryview(bytearray(min(BUFFER, max(len(span), 1))))
    fd = os.open(span.path, os.O_RDONLY)
    try:
        pos, end = span.start, span.end
        while pos < end:
            n = os.preadv(fd, [buf[: min(len(buf), end - pos)]], pos)
            if n <= 0:
                raise OSError(f"{span.path} ended at byte {pos}, before {end}: it was changed")
            consume(buf[:n])
            pos += n
    finally:
        os.close(fd)


def span_md5(span: FileSpan) -> bytes:
    """MD5 digest of ``span`` (blocking: call it in a worker thread)."""
    h = hashlib.md5(usedforsecurity=False)
    _read_span(span, h.update)
    return h.digest()


def span_crc32(span: FileSpan) -> int:
    """CRC32 of ``span`` (blocking: call it in a worker thread); about a quarter of MD5's
    CPU here."""
    crc = 0

    def update(view: memoryview) -> None:
        nonlocal crc
        crc = zlib.crc32(view, crc)

    _read_span(span, update)
    return crc


class SpanBody(Payload):
    """``span`` as a request body of ``len(span)`` bytes; ``on_bytes(n)`` is called on the
    event loop as bytes go out. A send that makes no progress for ``stall_timeout`` seconds
    fails (the server stopped reading)."""

    def __init__(
        self,
        span: FileSpan,
        *,
        stall_timeout: float | None,
        on_bytes: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(span, content_type="application/octet-stream")
        self._span = span
        self._size = len(span)
        self._stall = stall_timeout
        self._on_bytes = on_bytes

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("a file body is not text")

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        loop = asyncio.get_running_loop()
        span = self._span
        f = await loop.run_in_executor(None, open, span.path, "rb")
        try:
            send_headers = getattr(writer, "send_headers", None)
            if send_headers is not None:  # aiohttp holds the head back to send it with a body
                send_headers()
            await writer.drain()
            transport: Any = getattr(writer, "transport", None)
            native = transport is not None and not transport.get_extra_info("sslcontext")
            pos = span.start
            while pos < span.end:
                count = min(STEP, span.end - pos)
                if native:
                    try:
                        step = loop.sendfile(transport, f, pos, count, fallback=False)
                        sent = await self._timed(step)
                    except (NotImplementedError, asyncio.SendfileNotAvailableError):
                        # not on this loop or transport: through the writer instead
                        native = False
                        continue
                else:
                    sent = await self._copy(loop, f, pos, count, writer)
                if sent <= 0:
                    raise OSError(f"{span.path} ended at byte {pos}, before {span.end}")
                pos += sent
                if self._on_bytes is not None:
                    self._on_bytes(sent)
        finally:
            f.close()

    async def _timed(self, step: Any) -> int:
        sent: int = await asyncio.wait_for(step, self._stall)
        return sent

    async def _copy(
        self,
        loop: asyncio.AbstractEventLoop,
        f: Any,
        pos: int,
        count: int,
        writer: AbstractStreamWriter,
    ) -> int:
        """Send ``count`` bytes from ``pos`` through the writer, a buffer at a time."""
        buf = memoryview(bytearray(min(BUFFER, count)))
        done = 0
        while done < count:
            want = buf[: min(len(buf), count - done)]
            n = await loop.run_in_executor(None, os.preadv, f.fileno(), [want], pos + done)
            if n <= 0:
                break
            await self._timed(writer.write(bytes(want[:n])))
            done += n
        return done
