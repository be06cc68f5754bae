"""A fault-injecting HTTP/1.1 proxy for tests (asyncio, loopback, its own free port).

It sits in front of a real server (SeaweedFS, moto, nginx, the Connect emulator) and forwards
requests verbatim (S3 signatures stay valid: the Host header is the proxy's, which is what
the client signed). Every request is recorded. Faults are injected per request pattern
(method + path regex, or a predicate) on the ``nth`` matching request, for ``count`` matches
(None: every one from then on):

========== =================================================================================
kind       what the client sees
========== =================================================================================
reset      the response head and ``after`` body bytes, then a TCP reset (RST)
close      the response head and ``after`` body bytes, then a clean close (FIN)
short      a body one byte (``after=-n``: n bytes) shorter than its Content-Length, then FIN
status     an answer made by the proxy (``status``, ``headers``, ``body``): 5xx bursts,
           S3 SlowDown, 429/503 with Retry-After; the upstream never sees the request
stall_head no answer for ``seconds`` (None: until the client gives up), then a close
stall_body the head and ``after`` body bytes, then silence for ``seconds``, then the rest
lost       the request reaches the server, which applies it; its answer is read and dropped,
           and the client's connection is reset: a write whose answer was lost
hook       ``hook(record)`` is awaited before the request is forwarded (e.g. to replace the
           object on the upstream between two ranged GETs); the request then goes through
corrupt    the whole answer, with the body byte at offset ``after`` inverted (bit rot on the
           wire that the length and the headers do not show)
garble     the request goes through with its body byte at offset ``after`` inverted: an upload
           damaged on the way, which the server must refuse or the client must notice
torn       a sender that died mid-request: the server gets the request head and ``after``
           body bytes, then end of stream; once it has answered (or hung up), the client's
           connection is reset
stall_send a receiver that stops reading mid-upload: the server gets the request head and
           ``after`` body bytes, then the proxy reads nothing more from the client for
           ``seconds`` (None: until the proxy stops), then forwards the rest
========== =================================================================================

Each upstream request carries ``Connection: close`` (and so does each answer), so a
connection carries one exchange and the proxy needs no body framing on the way back.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

KINDS = frozenset(
    {
        "reset",
        "close",
        "short",
        "status",
        "stall_head",
        "stall_body",
        "lost",
        "hook",
        "corrupt",
        "torn",
        "garble",
        "stall_send",
    }
)


@dataclass
class RequestRecord:
    """One request seen by the proxy; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    #: response body bytes forwarded to the client
    body_sent: int = 0
    #: the answer was cut short (reset, close, short, lost)
    cut: bool = False
    #: the kind of fault injected into this request, if any
    fault: str | None = None

    @property
    def range(self) -> str | None:
        return self.headers.get("range")


def _path_matches(pattern: str, path: str) -> bool:
    """``pattern`` found in the request path as sent or percent-decoded (GCS's JSON API
    sends an object name as one segment, its slashes as %2F)."""
    return re.search(pattern, path) is not None or re.search(pattern, unquote(path)) is not None


@dataclass
class Fault:
    """One fault rule; ``seen`` counts the requests it matched (attempts)."""

    kind: str
    method: str | None = None
    path: str = ""
    nth: int = 1
    count: int | None = 1
    match: Callable[[RequestRecord], bool] | None = None
    after: int = 0
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    seconds: float | None = None
    hook: Callable[[RequestRecord], Awaitable[None]] | None = None
    when: asyncio.Event | None = None
    #: fire on every match for this many seconds from the first one (overrides ``count``)
    for_seconds: float | None = None
    seen: int = 0
    fired: int = 0
    _since: float | None = None

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind

    def matches(self, r: RequestRecord) -> bool:
        if self.match is not None:
            return self.match(r)
        if self.method is not None and r.method != self.method:
            return False
        return _path_matches(self.path, r.path)

    def take(self) -> bool:
        """Count one matching request; True when this one gets the fault."""
        self.seen += 1
        if self.seen < self.nth:
            return False
        if self.for_seconds is not None:
            now = asyncio.get_running_loop().time()
            if self._since is None:
                self._since = now
            if now - self._since >= self.for_seconds:
                return False
        elif self.count is not None and self.fired >= self.count:
            return False
        self.fired += 1
        return True


def s3_error(code: str, status: int = 503, retry_after: float | None = None) -> Fault:
    """A ``status`` fault answering an S3 XML error (e.g. ``SlowDown``); match set by caller."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>injected</Message></Error>"
    ).encode()
    headers = {"Content-Type": "application/xml"}
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
    return Fault("status", status=status, headers=headers, body=body)


_REASONS = {
    408: "Request Timeout",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class FaultProxy:
    """``async with FaultProxy(upstream_url) as proxy:`` then point a client at ``proxy.url``."""

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        assert parts.hostname and parts.port, upstream_url
        self._upstream = (parts.hostname, parts.port)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.faults: list[Fault] = []
        self.requests: list[RequestRecord] = []
        self.url = ""
        #: client connections accepted so far, and the most open at once
        self.connections = 0
        self.peak_connections = 0
        self._open = 0

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

    # -- configuring faults -----------------------------------------------------------------------

    def add(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def inject(self, kind: str, method: str | None = None, path: str = "", **opts: object) -> Fault:
        """Add a fault: ``proxy.inject("reset", "GET", r"/data\\.csv$", after=100)``."""
        return self.add(Fault(kind, method, path, **opts))  # type: ignore[arg-type]

    def cut_once(
        self,
        match: Callable[[RequestRecord], bool],
        after_body_bytes: int,
        *,
        when: asyncio.Event | None = None,
    ) -> None:
        """Close the connection of the next matching request (not a HEAD) after that many
        body bytes.

        With ``when``, the proxy sends those bytes, then waits for the event before closing
        (e.g. until the client has consumed them), so the cut point is exact.
        """

        def has_body(r: RequestRecord) -> bool:
            return r.method != "HEAD" and match(r)

        self.add(Fault("close", match=has_body, after=after_body_bytes, when=when))

    def clear(self) -> None:
        self.faults.clear()

    @property
    def cuts(self) -> list[RequestRecord]:
        return [r for r in self.requests if r.cut]

    def count(self, method: str | None = None, path: str = "") -> int:
        """Requests seen so far matching ``method`` and the ``path`` regex (attempts)."""
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method) and _path_matches(path, r.path)
        )

    # -- plumbing ---------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        self._open += 1
        self.peak_connections = max(self.peak_connections, self._open)
        upstream: list[asyncio.StreamWriter] = []  # closed below however the exchange ended
        try:
            await self._exchange(reader, writer, upstream)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        except asyncio.CancelledError:
            pass  # the proxy is shutting down; end this connection quietly
        finally:
            for w in (writer, *upstream):
                w.close()
            self._open -= 1
            self._tasks.discard(task)

    def _pick(self, record: RequestRecord) -> Fault | None:
        chosen = None
        for fault in self.faults:
            if fault.matches(record) and fault.take() and chosen is None:
                chosen = fault
        return chosen

    async def _exchange(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: list[asyncio.StreamWriter],
    ) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return
        request_line, headers, raw_lines = _parse_head(head)
        method, path = request_line.split(" ")[:2]
        record = RequestRecord(method, path, headers)
        self.requests.append(record)
        fault = self._pick(record)
        if fault is not None and fault.kind == "hook":
            assert fault.hook is not None
            await fault.hook(record)
            fault = None
        if fault is not None:
            record.fault = fault.kind
        expects = headers.get("expect", "").lower() == "100-continue"

        if fault is not None and fault.kind in ("status", "stall_head"):
            if not expects:
                await _copy_body(reader, headers, None)
            if fault.kind == "stall_head":
                await _wait_for_eof(reader, fault.seconds)
                return
            writer.write(_answer(fault))
            await writer.drain()
            return

        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        upstream.append(up_writer)
        up_writer.write(_with_close(request_line, raw_lines, drop=("expect",)))
        if expects:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
        if fault is not None and fault.kind == "torn":
            await _tear_request(reader, up_reader, up_writer, fault.after)
            record.cut = True
            _reset(writer)
            return
        flip = fault.after if fault is not None and fault.kind == "garble" else None
        stall = fault if fault is not None and fault.kind == "stall_send" else None
        await _copy_body(reader, headers, up_writer, flip, stall)
        await up_writer.drain()
        resp_head = await _read_response_head(up_reader)
        if fault is not None and fault.kind == "lost":
            await up_reader.read()  # the server has answered: the write took effect
            record.cut = True
            _reset(writer)
            return
        status_line, resp_headers, resp_lines = _parse_head(resp_head)
        writer.write(_with_close(status_line, resp_lines))
        cut_at = None
        if fault is not None and fault.kind in ("reset", "close", "short", "stall_body"):
            cut_at = fault.after
            if fault.kind == "short" and cut_at <= 0:
                length = int(resp_headers.get("content-length", "0") or 0)
                cut_at = max(0, length - max(1, -cut_at))
        flip_at = fault.after if fault is not None and fault.kind == "corrupt" else None
        while True:
            data = await up_reader.read(65536)
            if not data:
                break
            if flip_at is not None and record.body_sent <= flip_at < record.body_sent + len(data):
                i = flip_at - record.body_sent
                data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]
            if cut_at is not None and fault is not None and record.body_sent + len(data) >= cut_at:
                keep = cut_at - record.body_sent
                writer.write(data[:keep])
                record.body_sent += keep
                await writer.drain()
                if fault.when is not None:
                    await fault.when.wait()
                if fault.kind == "stall_body":
                    await _wait_for_eof(reader, fault.seconds)
                    if fault.seconds is None:
                        return
                    data, cut_at = data[keep:], None
                else:
                    record.cut = True
                    if fault.kind == "reset":
                        _reset(writer)
                    else:
                        writer.close()  # flushes what was written, then FIN: the body is short
                        with contextlib.suppress(OSError):
                            await writer.wait_closed()
                    return
            writer.write(data)
            record.body_sent += len(data)
            await writer.drain()


def _parse_head(head: bytes) -> tuple[str, dict[str, str], list[str]]:
    lines = head.decode("latin-1").split("\r\n")
    first, rest = lines[0], [line for line in lines[1:] if line]
    headers: dict[str, str] = {}
    for line in rest:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return first, headers, rest


def _with_close(first: str, lines: list[str], drop: tuple[str, ...] = ()) -> bytes:
    """The head again, with ``Connection: close`` (and without the ``drop`` headers)."""
    skip = {"connection", "keep-alive", *drop}
    kept = [ln for ln in lines if ln.partition(":")[0].strip().lower() not in skip]
    return ("\r\n".join([first, *kept, "Connection: close"]) + "\r\n\r\n").encode("latin-1")


async def _read_response_head(up: asyncio.StreamReader) -> bytes:
    """The final response head (interim 1xx answers skipped)."""
    while True:
        head = await up.readuntil(b"\r\n\r\n")
        if not re.match(rb"HTTP/1\.[01] 1\d\d", head):
            return head


async def _copy_body(
    reader: asyncio.StreamReader,
    headers: dict[str, str],
    to: asyncio.StreamWriter | None,
    flip: int | None = None,
    stall: Fault | None = None,
) -> None:
    """Read the request body (Content-Length or chunked), forwarding it to ``to``; the byte
    at offset ``flip`` of a Content-Length body is inverted on the way; with a ``stall_send``
    fault, stop reading for its ``seconds`` once ``after`` bytes went on."""
    forwarded = 0

    async def send(data: bytes) -> None:
        nonlocal forwarded, stall
        if stall is not None and forwarded + len(data) >= stall.after:
            fault, stall = stall, None
            keep = fault.after - forwarded
            await send(data[:keep])
            transport = getattr(reader, "_transport", None)  # stop taking bytes off the socket
            if transport is not None:
                transport.pause_reading()
            await (asyncio.sleep(fault.seconds) if fault.seconds is not None else _forever())
            if transport is not None and not transport.is_closing():
                transport.resume_reading()
            data = data[keep:]
        forwarded += len(data)
        if to is not None and data:
            to.write(data)
            await to.drain()

    async def read(n: int) -> bytes:  # at most what is left before the stall point
        if stall is not None:
            n = max(1, min(n, stall.after - forwarded))
        return await reader.read(n)

    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size_line = await reader.readuntil(b"\r\n")
            await send(size_line)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the empty line
                    line = await reader.readuntil(b"\r\n")
                    await send(line)
                    if line == b"\r\n":
                        return
            await send(await reader.readexactly(size + 2))
    left = int(headers.get("content-length", "0") or 0)
    seen = 0
    while left > 0:
        data = await read(min(left, 65536))
        if not data:
            raise asyncio.IncompleteReadError(b"", left)
        if flip is not None and seen <= flip < seen + len(data):
            i = flip - seen
            data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]
        seen += len(data)
        left -= len(data)
        await send(data)


async def _forever() -> None:
    await asyncio.Event().wait()


async def _tear_request(
    reader: asyncio.StreamReader,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
    keep: int,
) -> None:
    """Forward ``keep`` request body bytes, then end the upstream stream (half-close) and
    wait until the server has answered or hung up, so whatever it did is done."""
    if keep > 0:
        up_writer.write(await reader.readexactly(keep))
    await up_writer.drain()
    if up_writer.can_write_eof():
        up_writer.write_eof()
    with contextlib.suppress(OSError, TimeoutError):
        await asyncio.wait_for(up_reader.read(), 10.0)


def _answer(fault: Fault) -> bytes:
    reason = _REASONS.get(fault.status, "Injected")
    lines = [f"HTTP/1.1 {fault.status} {reason}"]
    lines += [f"{k}: {v}" for k, v in fault.headers.items()]
    lines += [f"Content-Length: {len(fault.body)}", "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + fault.body


async def _wait_for_eof(reader: asyncio.StreamReader, seconds: float | None) -> None:
    """Stay silent for ``seconds`` (None: forever) or until the client hangs up."""

    async def drain() -> None:
        while await reader.read(65536):
            pass

    with contextlib.suppress(TimeoutError, OSError):
        await asyncio.wait_for(drain(), seconds)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0) instead of a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
