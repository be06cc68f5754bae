"""Write a download's bytes at their offsets off the event loop, hashing them in file order.

XXH64 must see the file's bytes in order, but concurrent ranges land out of order. The
:class:`OrderedWriter` keeps one *frontier*: the offset up to which the hasher has been fed.
A batch written exactly at the frontier is hashed from memory in the same call that writes
it, so an in-order stream is never read back. Bytes written ahead of the frontier
are read back from the file (the page cache) once the frontier reaches them, one chunk at a
time, so memory stays bounded whatever the order of arrival.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import anyio

from ..errors import TransferError

if TYPE_CHECKING:
    from xxhash import xxh64 as Hasher


def write_all(fd: int, bufs: Sequence[memoryview], offset: int, hasher: Hasher | None) -> None:
    """pwritev ``bufs`` at ``offset`` until every byte is written, then hash them (if asked).

    Safe in a worker thread: both the write and xxhash release the GIL.
    """
    views = [memoryview(b) for b in bufs]
    while views:
        n = os.pwritev(fd, views[:1024], offset)  # IOV_MAX is 1024 on Linux
        offset += n
        while views and n >= len(views[0]):
            n -= len(views[0])
            views.pop(0)
        if n:
            views[0] = views[0][n:]
    if hasher is not None:
        for b in bufs:
            hasher.update(b)


def _hash_back(fd: int, hasher: Hasher, start: int, end: int, chunk: int) -> None:
    """Feed bytes ``[start, end)`` of the file to the hasher, ``chunk`` bytes at a time,
    through one reused buffer (no allocation per chunk in the worker thread)."""
    buf = memoryview(bytearray(min(chunk, end - start)))
    pos = start
    while pos < end:
        n = os.preadv(fd, [buf[: min(len(buf), end - pos)]], pos)
        if not n:
            raise TransferError("the file shrank while it was being hashed")
        hasher.update(buf[:n])
        pos += n


class OrderedWriter:
    """Writes of one file split into ``spans`` and the XXH64 of its bytes, in order.

    Each span is written front to back by one stream at a time (a resumed stream continues
    where the last one stopped); :meth:`write` records how far each span is written. All
    bookkeeping happens on the event loop; worker threads only write, read and hash.

    With one stream, batches are written on the event loop (``threaded`` False): a thread
    hop per batch cost more CPU than the write into the page cache. The engine sets
    ``threaded`` once several streams run, so one stream's write never holds up the others.
    """

    def __init__(self, fd: int, spans: Sequence[tuple[int, int]], hasher: Hasher, chunk: int):
        self.fd = fd
        self.hasher = hasher
        self._starts = [s for s, _ in spans]
        self._ends = [e for _, e in spans]
        #: per span, the end of its written prefix
        self._written = list(self._starts)
        self._chunk = chunk
        #: bytes [0, pos) have been hashed
        self.pos = 0
        self._busy = False
        #: bytes read back from the file to be hashed (the ones that arrived out of order)
        self.reread = 0
        #: write (and hash) in a worker thread rather than on the event loop
        self.threaded = False

    @property
    def size(self) -> int:
        return self._ends[-1] if self._ends else 0

    async def write(self, bufs: Sequence[memoryview], offset: int) -> int:
        """Write ``bufs`` at ``offset`` (in a worker thread) and return the bytes written;
        hash them on the way when they sit at the frontier, else catch up later."""
        n = sum(len(b) for b in bufs)
        live = not self._busy and offset == self.pos
        if live:
            self._busy = True
        try:
            if self.threaded:
                await anyio.to_thread.run_sync(
                    write_all, self.fd, bufs, offset, self.hasher if live else None
                )
            else:
                write_all(self.fd, bufs, offset, self.hasher if live else None)
        finally:
            if live:
                self._busy = False
        if live:
            self.pos = offset + n
        self._mark(offset, offset + n)
        await self.catch_up()
        return n

    def _mark(self, lo: int, hi: int) -> None:
        i = max(0, bisect.bisect_right(self._starts, lo) - 1)
        while i < len(self._ends) and self._starts[i] < hi:
            if lo <= self._written[i]:  # contiguous with the span's written prefix
                self._written[i] = max(self._written[i], min(hi, self._ends[i]))
            i += 1

    def _written_end(self) -> int:
        """The end of the written bytes that continue from the frontier without a gap."""
        i = max(0, bisect.bisect_right(self._starts, self.pos) - 1)
        end = self.pos
        while i < len(self._ends) and self._starts[i] <= end:
            end = max(end, self._written[i])
            if self._written[i] < self._ends[i]:
                break
            i += 1
        return end

    async def catch_up(self) -> None:
        """Hash, by reading them back, the written bytes the frontier can now reach; one
        task at a time (a write meanwhile is picked up by the task already catching up)."""
        if self._busy:
            return
        self._busy = True
        try:
            while (target := self._written_end()) > self.pos:
                start = self.pos
                stop = min(target, start + 16 * self._chunk)
                await anyio.to_thread.run_sync(
                    _hash_back, self.fd, self.hasher, start, stop, self._chunk
                )
                self.pos = stop
                self.reread += stop - start
        finally:
            self._busy = False

    def digest(self) -> str:
        """The hex XXH64 of the whole file; every byte must have been written."""
        if self.pos != self.size:  # every span reports its bytes; a gap is a bug
            raise TransferError(f"internal error: {self.pos} of {self.size} bytes were hashed")
        return self.hasher.hexdigest()
