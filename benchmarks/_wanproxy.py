"""A TCP proxy that turns loopback into a WAN-like link: ``python -m benchmarks._wanproxy``.

``--upstream HOST:PORT --rate BYTES_PER_S --rtt SECONDS``; it listens on a free 127.0.0.1
port, prints ``listening 127.0.0.1:PORT`` and serves until SIGTERM or the end of its stdin
(so it never outlives the benchmark run that started it).

* **Each connection** is limited to ``rate`` towards the client by the kernel: the
  client-facing socket gets ``SO_MAX_PACING_RATE``, so TCP paces that flow (internal pacing,
  no qdisc needed) and two connections get ``rate`` each. The segment size is that of an
  Ethernet path (``TCP_MAXSEG`` 1448), so a burst after idle (the initial window) is tens of
  KB, not the megabyte a 64 KiB loopback segment would allow.
* **Latency:** bytes from the client reach the upstream ``rtt`` seconds after the client
  sent them, and the first bytes of a new connection no earlier than ``2 * rtt`` after it
  was accepted (the TCP handshake of a real link). An HTTP request therefore waits one
  round trip for its first response byte, two on a new connection. Responses are not
  delayed again: the round trip is all on the way in, which for request-response traffic
  is the same.

Uploads (client to server) are delayed but not rate-limited: the WAN rows are downloads.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import signal
import socket
import sys
import threading

#: Linux socket option numbers (not exported by the socket module on every Python)
SO_MAX_PACING_RATE = 47
WAN_MSS = 1448
#: bytes of client data held back for the latency before the client is paused
HOLD_LIMIT = 4 * 1024 * 1024


class _Upstream(asyncio.Protocol):
    """Upstream side of one link: forwards what the server sends to the client."""

    def __init__(self, link: _Link) -> None:
        self.link = link

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.link.upstream_made(transport)  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        self.link.to_client(data)

    def eof_received(self) -> bool:
        self.link.upstream_eof()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.link.close()

    def pause_writing(self) -> None:  # the server reads the client's upload slowly
        self.link.client_paused_by_upstream(True)

    def resume_writing(self) -> None:
        self.link.client_paused_by_upstream(False)


class _Link(asyncio.Protocol):
    """One client connection and its upstream connection."""

    def __init__(self, upstream: tuple[str, int], rate: int, rtt: float) -> None:
        self.upstream_addr = upstream
        self.rate = rate
        self.rtt = rtt
        self.loop = asyncio.get_running_loop()
        self.client: asyncio.Transport | None = None
        self.upstream: asyncio.Transport | None = None
        self.held: collections.deque[tuple[float, bytes]] = collections.deque()
        self.held_bytes = 0
        self.last_due = 0.0
        self.opened = 0.0
        self.client_eof = False
        self.closed = False
        self.timer: asyncio.TimerHandle | None = None

    # -- client side -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.client = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, SO_MAX_PACING_RATE, self.rate)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client.set_write_buffer_limits(high=256 * 1024)
        self.opened = self.loop.time()
        task = self.loop.create_connection(lambda: _Upstream(self), *self.upstream_addr)
        self.loop.create_task(self._connect(task))

    async def _connect(self, task: object) -> None:
        try:
            await task  # type: ignore[misc]
        except OSError:
            self.close()

    def data_received(self, data: bytes) -> None:
        due = max(self.loop.time() + self.rtt, self.opened + 2 * self.rtt, self.last_due)
        self.last_due = due
        self.held.append((due, data))
        self.held_bytes += len(data)
        if self.held_bytes > HOLD_LIMIT and self.client is not None:
            self.client.pause_reading()
        self._schedule()

    def eof_received(self) -> bool:
        self.client_eof = True
        self._schedule()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.close()

    def pause_writing(self) -> None:  # the client reads slower than the server sends
        if self.upstream is not None:
            self.upstream.pause_reading()

    def resume_writing(self) -> None:
        if self.upstream is not None and not self.closed:
            self.upstream.resume_reading()

    # -- upstream side ---------------------------------------------------------------------

    def upstream_made(self, transport: asyncio.Transport) -> None:
        if self.closed:
            transport.close()
            return
        self.upstream = transport
        transport.set_write_buffer_limits(high=1024 * 1024)
        self._schedule()

    def to_client(self, data: bytes) -> None:
        if self.client is not None and not self.client.is_closing():
            self.client.write(data)

    def upstream_eof(self) -> None:
        if self.client is not None and self.client.can_write_eof():
            self.client.write_eof()

    def client_paused_by_upstream(self, paused: bool) -> None:
        if self.client is None or self.closed:
            return
        if paused:
            self.client.pause_reading()
        elif self.held_bytes <= HOLD_LIMIT:
            self.client.resume_reading()

    # -- the delay line --------------------------------------------------------------------

    def _schedule(self) -> None:
        if self.timer is not None or self.upstream is None or self.closed:
            return
        if self.held:
            self.timer = self.loop.call_at(self.held[0][0], self._release)
        elif self.client_eof and self.upstream.can_write_eof():
            self.upstream.write_eof()

    def _release(self) -> None:
        self.timer = None
        if self.upstream is None or self.closed:
            return
        now = self.loop.time()
        while self.held and self.held[0][0] <= now:
            _, data = self.held.popleft()
            self.held_bytes -= len(data)
            self.upstream.write(data)
        if self.client is not None and self.held_bytes <= HOLD_LIMIT:
            self.client.resume_reading()
        self._schedule()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.timer is not None:
            self.timer.cancel()
        for transport in (self.client, self.upstream):
            if transport is not None:
                transport.close()


def _wait_for_eof(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    sys.stdin.buffer.read()
    loop.call_soon_threadsafe(stop.set)


async def serve(upstream: tuple[str, int], rate: int, rtt: float) -> None:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, WAN_MSS)  # inherited by accepts
    sock.bind(("127.0.0.1", 0))
    server = await loop.create_server(lambda: _Link(upstream, rate, rtt), sock=sock, backlog=512)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    # the parent holds our stdin open: when it ends, even killed, the proxy ends with it
    threading.Thread(target=_wait_for_eof, args=(loop, stop), daemon=True).start()
    host, port = sock.getsockname()[:2]
    print(f"listening {host}:{port}", flush=True)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks._wanproxy", description=__doc__)
    p.add_argument("--upstream", required=True, help="HOST:PORT to forward to")
    p.add_argument("--rate", type=int, required=True, help="bytes per second per connection")
    p.add_argument("--rtt", type=float, required=True, help="round-trip time in seconds")
    args = p.parse_args(argv)
    host, _, port = args.upstream.rpartition(":")
    asyncio.run(serve((host, int(port)), args.rate, args.rtt))
    return 0


if __name__ == "__main__":
    sys.exit(main())
