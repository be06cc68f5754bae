"""A small fault-injecting HTTP/1.1 TCP proxy for tests (runs in the test's event loop).

It forwards bytes verbatim (so S3 signatures stay valid: the Host header is the proxy's,
which is what the client signed), records every request head it sees, and can cut one
response after a given number of body bytes, to simulate a connection dropped mid-body.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class RequestRecord:
    """One request seen by the proxy; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    #: response body bytes forwarded to the client
    body_sent: int = 0
    cut: bool = False

    @property
    def range(self) -> str | None:
        return self.headers.get("range")


@dataclass
class _Rule:
    match: Callable[[RequestRecord], bool]
    after_body_bytes: int
    when: asyncio.Event | None = None
    armed: bool = True


@dataclass
class _Conn:
    current: RequestRecord | None = None
    head_buf: bytearray = field(default_factory=bytearray)
    in_head: bool = True
    body_left: int = 0
    # response side, for the current request
    resp_for: RequestRecord | None = None
    resp_head: bytearray = field(default_factory=bytearray)
    resp_in_head: bool = True


class FaultProxy:
    """``async with FaultProxy(upstream_url) as proxy:`` then point a client at ``proxy.url``."""

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        assert parts.hostname and parts.port, upstream_url
        self._upstream = (parts.hostname, parts.port)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._rules: list[_Rule] = []
        self.requests: list[RequestRecord] = []
        self.url = ""

    async def __aenter__(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        await self._server.wait_closed()

    def cut_once(
        self,
        match: Callable[[RequestRecord], bool],
        after_body_bytes: int,
        *,
        when: asyncio.Event | None = None,
    ) -> None:
        """Drop the connection of the next matching request after that many body bytes.

        With ``when``, the proxy sends those bytes, then waits for the event before closing
        (e.g. until the client has consumed them), so the cut point is exact.
        """
        self._rules.append(_Rule(match, after_body_bytes, when))

    @property
    def cuts(self) -> list[RequestRecord]:
        return [r for r in self.requests if r.cut]

    # -- plumbing -------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.close()
            self._tasks.discard(task)
            return
        conn = _Conn()
        to_up = asyncio.ensure_future(self._requests(conn, reader, up_writer))
        to_client = asyncio.ensure_future(self._responses(conn, up_reader, writer))
        try:
            await asyncio.wait({to_up, to_client}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            pass  # the proxy is shutting down; end this connection quietly
        finally:
            for t in (to_up, to_client):
                t.cancel()
            for w in (writer, up_writer):
                w.close()
            self._tasks.discard(task)

    async def _requests(
        self, conn: _Conn, reader: asyncio.StreamReader, up: asyncio.StreamWriter
    ) -> None:
        while data := await reader.read(65536):
            self._observe_request(conn, data)
            up.write(data)
            await up.drain()

    def _observe_request(self, conn: _Conn, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if not conn.in_head:
                used = min(conn.body_left, len(view))
                conn.body_left -= used
                view = view[used:]
                if conn.body_left == 0:
                    conn.in_head = True
                continue
            conn.head_buf += view
            view = memoryview(b"")
            end = conn.head_buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(conn.head_buf[:end]).decode("latin-1")
            rest = bytes(conn.head_buf[end + 4 :])
            conn.head_buf.clear()
            lines = head.split("\r\n")
            method, path = lines[0].split(" ")[:2]
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            record = RequestRecord(method, path, headers)
            self.requests.append(record)
            conn.current = record
            conn.body_left = int(headers.get("content-length", "0") or 0)
            conn.in_head = conn.body_left == 0
            view = memoryview(rest)

    async def _responses(
        self, conn: _Conn, up: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while data := await up.read(65536):
            record = conn.current
            if record is not None and conn.resp_for is not record:
                conn.resp_for, conn.resp_in_head = record, True
                conn.resp_head.clear()
            if record is None:
                writer.write(data)
                await writer.drain()
                continue
            body = data
            if conn.resp_in_head:
                conn.resp_head += data
                end = conn.resp_head.find(b"\r\n\r\n")
                if end < 0:
                    writer.write(data)
                    await writer.drain()
                    continue
                conn.resp_in_head = False
                head_part = len(data) - (len(conn.resp_head) - (end + 4))
                writer.write(data[:head_part])
                body = data[head_part:]
            rule = next((r for r in self._rules if r.armed and r.match(record)), None)
            if rule is not None and record.body_sent + len(body) >= rule.after_body_bytes:
                keep = rule.after_body_bytes - record.body_sent
                writer.write(body[:keep])
                record.body_sent += keep
                record.cut = True
                rule.armed = False
                writer.close()  # flushes what was written, then FIN: the body is short
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
                return
            writer.write(body)
            record.body_sent += len(body)
            await writer.drain()
