"""Read the rest of a large plain-HTTP body straight from the socket into one reused buffer.

aiohttp hands a body over as one new ``bytes`` per socket read, copied out of the read by its
parser, and runs several Python calls per read (timers, flow control, the stream reader).
For a large download that is a copy of every byte plus the per-read Python, on top of what
the download needs (the socket read, the file write, the hash). Here, once aiohttp has read
the response head, the connection's transport stops reading and the body's remaining bytes
are received with ``recv_into`` into one buffer, which the caller writes and hashes before
asking for the next (:meth:`RawBody.views`).

Only for bodies with a Content-Length, on a plain TCP connection of an asyncio selector
loop (TLS and other loops keep aiohttp's path); the connection is closed afterwards, as
aiohttp's parser still expects the body.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import anyio

from ..transfer.retry import TransientError

if TYPE_CHECKING:
    import aiohttp


def raw_eligible(resp: aiohttp.ClientResponse, least: int) -> bool:
    """True when ``resp``'s body can be read from the socket: a Content-Length body of at
    least ``least`` bytes (smaller ones keep aiohttp's path, which returns the connection
    to the pool) on a plain TCP connection of a selector event loop."""
    length = resp.content_length
    if length is None or length < least or "Transfer-Encoding" in resp.headers:
        return False
    conn = resp.connection
    transport = conn.transport if conn is not None else None
    if transport is None or conn is None or conn.protocol is None:
        return False
    if transport.get_extra_info("ssl_object") is not None:
        return False
    loop = asyncio.get_running_loop()
    return isinstance(loop, asyncio.BaseEventLoop) and isinstance(loop, asyncio.SelectorEventLoop)


async def raw_views(
    resp: aiohttp.ClientResponse, size: int, read_timeout: float | None
) -> AsyncIterator[memoryview]:
    """Yield the rest of ``resp``'s body as views of one reused buffer of ``size`` bytes
    (each full but the last); a view is valid until the next is asked for.

    A connection that closes early or stays silent for ``read_timeout`` seconds raises
    TransientError after the bytes received are yielded. The caller closes ``resp``.
    """
    conn = resp.connection
    assert conn is not None and conn.transport is not None and conn.protocol is not None
    remaining = resp.content_length or 0
    # what aiohttp already received with the head; the transport stops reading right after
    # (draining may resume it, so the pause comes second)
    try:
        early = resp.content.read_nowait(-1)
    except Exception as exc:  # the connection failed before the body was taken over
        raise TransientError(f"reading the body failed: {type(exc).__name__}") from exc
    conn.protocol.pause_reading()
    remaining -= len(early)
    if early:
        yield memoryview(early)
    if remaining <= 0:
        return
    fd = conn.transport.get_extra_info("socket").fileno()
    sock = socket.socket(fileno=os.dup(fd))  # shares the open file; closed here, not the original
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    buf = memoryview(bytearray(min(size, remaining)))
    try:
        filled = 0
        while remaining:
            want = buf[filled : filled + min(len(buf) - filled, remaining)]
            try:
                try:
                    n = sock.recv_into(want)
                except BlockingIOError:
                    with anyio.fail_after(read_timeout):
                        n = await loop.sock_recv_into(sock, want)
            except (OSError, TimeoutError) as exc:
                if filled:
                    yield buf[:filled]
                raise TransientError(
                    f"the connection failed while reading the body: {type(exc).__name__}"
                ) from exc
            if not n:
                if filled:
                    yield buf[:filled]
                raise TransientError(f"the connection closed {remaining} bytes before the end")
            filled += n
            remaining -= n
            if filled == len(buf) or not remaining:
                yield buf[:filled]
                filled = 0
    finally:
        sock.close()
