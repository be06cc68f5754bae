"""Download one object into a local file: one stream or concurrent byte ranges, with resume.

Promises (design invariants 3 and 5):

* every request after the first carries ``If-Match`` with the ETag seen when the download began,
  so an object replaced mid-download raises :class:`~apins.errors.ObjectChanged`;
* a body cut mid-way resumes from the last byte received (the range start moves forward);
* the XXH64 of the whole file is computed during the download: bytes that arrive in file order
  are hashed in memory as they are written; only bytes that arrive ahead of that order (from a
  later range) are read back from the file to be hashed (see :mod:`._ordered`);
* writes are batched (about ``chunk_size`` per ``pwritev``); with several streams they run
  in worker threads, so one stream's write never stalls the others;
* memory stays below about ``max_concurrency * 2 * chunk_size`` whatever the file size;
* on failure ``dest`` is removed: nothing half-written is left to be mistaken for the file.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
import xxhash

from .._one_error import raise_collapsed
from ..errors import ObjectChanged
from ..settings import TransferSettings
from ..stores.base import ObjectInfo, PreconditionFailed, ProgressCallback, ReadStream, Store
from ._ordered import OrderedWriter
from ._util import Meter
from ._util import spans as split_spans
from .retry import TransientError, with_retries

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

log = logging.getLogger("apins.download")


@dataclass(frozen=True, slots=True)
class DownloadResult:
    """The object that was downloaded and the XXH64 (hex, seed 0) of the bytes written."""

    info: ObjectInfo
    xxh64: str


@dataclass(slots=True)
class _Span:
    """The bytes one stream still has to write: ``[pos, end)``. ``more`` (the lead stream's)
    may move ``end`` on when the stream reaches it; False means the stream stops there."""

    pos: int
    end: int
    more: Callable[[_Span], bool] | None = None
    #: called with the byte count of every body chunk received (the lead's rate watch)
    watch: Callable[[int], None] | None = None


@dataclass(slots=True)
class _Job:
    """Everything one download's parts share."""

    store: Store
    key: str
    writer: OrderedWriter
    info: ObjectInfo
    settings: TransferSettings
    meter: Meter

    async def open(self, start: int, end: int | None) -> ReadStream:
        """Open ``[start, end)`` guarded by the ETag; a changed object raises ObjectChanged."""
        try:
            stream = await self.store.open_read(
                self.key, start=start, end=end, if_match=self.info.etag
            )
        except PreconditionFailed as exc:
            raise self.changed() from exc
        got = stream.info
        if got.size != self.info.size or (
            got.etag is not None and self.info.etag is not None and got.etag != self.info.etag
        ):
            await stream.aclose()
            raise self.changed()
        return stream

    def changed(self) -> ObjectChanged:
        return ObjectChanged(
            f"{self.key} changed while it was being downloaded (it no longer has "
            f"ETag {self.info.etag}, size {self.info.size}); try again"
        )

    async def fetch(
        self,
        span: _Span,
        *,
        stream: ReadStream | None = None,
        ranged: bool = True,
        reopen_end: int | None = None,
    ) -> None:
        """Write bytes ``[span.pos, span.end)`` at their offsets, resuming after a cut
        connection.

        ``stream`` is an already open first response to use; ``ranged`` False asks for the
        whole body on the first attempt (no Range header), resumes always ask for a range,
        up to ``reopen_end`` when given (the lead stream's: the end of the object).
        """
        first_pos = span.pos
        pending = stream

        async def attempt() -> None:
            nonlocal pending
            if pending is not None:
                current, pending = pending, None
            elif not ranged and span.pos == 0:
                current = await self.open(0, None)
            else:
                stop = reopen_end if reopen_end is not None else span.end
                current = await self.open(span.pos, stop if ranged else None)
            await self._drain(current, span)
            if span.pos < span.end:
                raise TransientError(
                    f"connection closed after {span.pos - first_pos} of "
                    f"{span.end - first_pos} bytes of {self.key}"
                )

        await with_retries(attempt, settings=self.settings, what=f"downloading {self.key}")

    async def _drain(self, stream: ReadStream, span: _Span) -> None:
        """Write the stream's bytes in ``[span.pos, span.end)``, advancing ``span.pos`` as
        they are written (in batches of about ``chunk_size``, in a worker thread).

        A server that ignored the Range header sends the body from 0: bytes below the cursor
        are skipped, so the hash and the file see each byte exactly once.
        """
        body_pos = stream.start if stream.ranged else 0
        batch: list[memoryview] = []
        queued = 0  # bytes in batch
        limit = self.settings.chunk_size
        watch = span.watch
        views = getattr(stream, "views", None)  # chunks that may be views of one reused buffer
        body = views(limit) if views is not None else stream.chunks(limit)
        try:
            async for chunk in body:
                # a reused buffer is written before the next chunk overwrites it
                flush_at = 1 if getattr(stream, "reusing", False) else limit
                if watch is not None:
                    watch(len(chunk))
                chunk_start = body_pos
                body_pos += len(chunk)
                lo = max(chunk_start, span.pos + queued)
                while True:
                    hi = min(body_pos, span.end)
                    if hi > lo:
                        batch.append(memoryview(chunk)[lo - chunk_start : hi - chunk_start])
                        queued += hi - lo
                        lo = hi
                    if queued >= flush_at:
                        await self._flush(batch, span)
                        queued = 0
                    if lo < span.end or span.more is None or not span.more(span):
                        break
                if span.pos + queued >= span.end:
                    break
            await self._flush(batch, span)
        except TransientError:
            # keep what arrived, so the next attempt asks only for the rest
            await self._flush(batch, span)
            if span.pos < span.end:
                raise TransientError(
                    f"connection to {self.key} dropped at byte {span.pos}; resuming from there"
                ) from None
        finally:
            closing = getattr(body, "aclose", None)  # a generator left mid-way lets go now
            if closing is not None:
                await closing()
            await stream.aclose()

    async def _flush(self, batch: list[memoryview], span: _Span) -> None:
        if batch:
            n = await self.writer.write(batch, span.pos)
            batch.clear()
            span.pos += n
            self.meter.add(n)


async def download(
    store: Store,
    key: str,
    dest: Path,
    *,
    settings: TransferSettings,
    info: ObjectInfo | None = None,
    progress: ProgressCallback | None = None,
    limiter: anyio.CapacityLimiter | None = None,
) -> DownloadResult:
    """Download ``key`` into ``dest`` (created or overwritten) and return its info and XXH64.

    ``info`` (from an earlier head or listing) saves a request; its ETag guards every range.
    Objects of ``settings.range_threshold`` bytes or more may move as concurrent ranges of
    ``settings.part_size`` (at most ``max_concurrency`` in flight, and within ``limiter``):
    see :func:`_ranged` for when. Raises ObjectNotFound, ObjectChanged, TransferError (after
    retries).
    """
    if info is None:
        info = await store.head(key)
    dest = Path(dest)
    meter = Meter(key, info.size, "download", progress, settings.chunk_size)
    fd = os.open(dest, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    ok = False
    try:
        spans = split_spans(info.size, settings.part_size)
        writer = OrderedWriter(fd, spans, xxhash.xxh64(), settings.chunk_size)
        job = _Job(store, key, writer, info, settings, meter)
        if info.size >= settings.range_threshold and info.size > settings.part_size and info.etag:
            await _ranged(job, spans, limiter)
        else:
            await _single(job, limiter)
        digest = writer.digest()
        ok = True
    finally:
        os.close(fd)
        if not ok:
            dest.unlink(missing_ok=True)
    meter.finish()
    log.debug("downloaded %s: %d bytes, %d read back to be hashed", key, info.size, writer.reread)
    return DownloadResult(info, digest)


async def _single(job: _Job, limiter: anyio.CapacityLimiter | None) -> None:
    span = _Span(0, job.info.size)
    if limiter is None:
        await job.fetch(span, ranged=False)
    else:
        async with limiter:
            await job.fetch(span, ranged=False)


class _Claims:
    """Which spans are taken: spans are handed out in order, each to one stream."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.spans = spans
        self.next = 0

    def take(self) -> int | None:
        if self.next >= len(self.spans):
            return None
        self.next += 1
        return self.next - 1

    def extend(self, span: _Span) -> bool:
        """Give the stream at ``span.end`` the next span too, if nobody has taken it."""
        index = self.next
        if index >= len(self.spans) or self.spans[index][0] != span.end:
            return False
        self.next += 1
        span.end = self.spans[index][1]
        return True


class _RateWatch:
    """Measures the lead stream's average rate over periods of two seconds from its first byte
    and calls ``slow()`` the first time a period's average is below ``floor`` bytes per second,
    judged once ``SETTLE`` seconds of the period have passed: a short hiccup (a start-up
    stall, a busy moment of the machine) is averaged out by the bytes around it, while a
    stream that stays slow is caught within about ``SETTLE``."""

    SETTLE = 0.5

    def __init__(
        self,
        floor: float,
        slow: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.floor = floor
        self.slow: Callable[[], None] | None = slow
        self.clock = clock
        self.start: float | None = None
        self.bytes = 0

    def __call__(self, n: int) -> None:
        if self.slow is None:
            return
        now = self.clock()
        if self.start is None:  # the clock starts at the first byte: latency is not rate
            self.start = now
            return
        self.bytes += n
        elapsed = now - self.start
        if elapsed >= self.SETTLE:
            if self.bytes < self.floor * elapsed:
                slow, self.slow = self.slow, None
                slow()
            elif elapsed >= 4 * self.SETTLE:  # a new period: a later slowdown is not diluted
                self.start, self.bytes = now, 0


async def _ranged(
    job: _Job, spans: list[tuple[int, int]], limiter: anyio.CapacityLimiter | None
) -> None:
    """Download a large object as one stream that is joined by ranges when it is slow.

    With ``settings.split_below`` set (the default), the first request asks for the whole
    object and that *lead* stream carries it alone for as long as it keeps up at least
    ``split_below`` bytes per second (its average from the first byte, judged after half a
    second; see ``_RateWatch``): one fast stream already saturates the client (writing and
    hashing) and adds no request or out-of-order write. Falling behind starts
    ``max_concurrency - 1`` more streams, each taking the next untaken span; the lead stops at
    the end of its span.
    With ``split_below`` None every stream is a range of one span from the start.
    """
    settings = job.settings
    size = job.info.size
    os.ftruncate(job.writer.fd, size)
    claims = _Claims(spans)
    adaptive = settings.split_below is not None and settings.max_concurrency > 1

    # The first request doubles as a probe: a server that ignores Range sends the whole body,
    # which then simply becomes the single stream. Its slot is handed from this task to the
    # task that reads its body, so it is held on behalf of a token rather than of a task.
    token = object()
    if limiter is not None:
        await limiter.acquire_on_behalf_of(token)
    try:
        first_end = size if adaptive else spans[0][1]
        first = await with_retries(
            lambda: job.open(0, first_end), settings=settings, what=f"downloading {job.key}"
        )
    except BaseException:
        if limiter is not None:
            limiter.release_on_behalf_of(token)
        raise
    if not first.ranged:
        try:
            await job.fetch(_Span(0, size), stream=first, ranged=False)
        finally:
            if limiter is not None:
                limiter.release_on_behalf_of(token)
        return

    async def run_span(index: int) -> None:
        start, end = spans[index]
        if limiter is None:
            await job.fetch(_Span(start, end))
        else:
            async with limiter:
                await job.fetch(_Span(start, end))

    async def worker() -> None:
        while (index := claims.take()) is not None:
            await run_span(index)

    try:
        async with anyio.create_task_group() as tg:

            def split() -> None:
                log.debug("%s: the first stream is slow; adding ranges", job.key)
                job.writer.threaded = True
                for _ in range(settings.max_concurrency - 1):
                    tg.start_soon(worker)

            claims.take()
            lead = _Span(0, spans[0][1])
            if adaptive:
                lead.more = claims.extend
                assert settings.split_below is not None
                lead.watch = _RateWatch(settings.split_below, split)
            else:
                split()

            async def lead_worker() -> None:
                try:
                    await job.fetch(lead, stream=first, reopen_end=size if adaptive else None)
                finally:
                    if limiter is not None:
                        limiter.release_on_behalf_of(token)
                await worker()

            tg.start_soon(lead_worker)
    except BaseExceptionGroup as group:
        raise_collapsed(group)
    await job.writer.catch_up()
