"""Upload one local file: a single streamed put, or a multipart upload with parts in parallel.

Promises (design invariant 5): the file is never read whole into memory; at most
``max_concurrency`` parts of ``part_size`` bytes are held at once. A multipart upload that
fails or is cancelled is aborted, so it leaves no orphaned parts behind.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import anyio

from .._one_error import raise_collapsed
from ..settings import TransferSettings
from ..stores.base import (
    FileSpan,
    MultipartStore,
    ObjectInfo,
    ProgressCallback,
    Store,
    WriteCheckingStore,
)
from ._util import Meter, spans
from .retry import with_retries

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

#: the most parts one multipart upload may have (S3's limit; GCS/Azure allow at least as many)
MAX_PARTS = 10_000
#: seconds an abort may take after a failure before we give up on it
ABORT_TIMEOUT = 30.0


@runtime_checkable
class SinglePutStore(Protocol):
    """A store that can stream one local file to a key in a single request."""

    async def put_file_single(
        self, key: str, path: Path, *, on_bytes: Callable[[int], None] | None = None
    ) -> ObjectInfo:
        """Send ``path`` as the body of one request, reading it from disk as it goes.

        ``on_bytes(n)`` is called (on the event loop) as bytes are sent. Raises TransientError
        for failures worth retrying; the caller retries.
        """
        ...


async def upload_file(
    store: Store,
    key: str,
    path: Path,
    *,
    settings: TransferSettings,
    progress: ProgressCallback | None = None,
    limiter: anyio.CapacityLimiter | None = None,
) -> ObjectInfo:
    """Upload ``path`` to ``key`` and return the stored object's info.

    Files of ``settings.multipart_threshold`` bytes or more go multipart when the store is a
    MultipartStore; smaller ones in one streamed request. Transient failures are retried
    (per part); after that TransferError is raised.
    """
    path = Path(path)
    size = path.stat().st_size
    meter = Meter(key, size, "upload", progress, settings.chunk_size)
    if size >= settings.multipart_threshold and _goes_multipart(store):
        assert isinstance(store, MultipartStore)
        info = await _multipart(store, key, path, size, settings, meter, limiter)
    elif limiter is None:
        info = await _single(store, key, path, size, settings, meter)
    else:
        async with limiter:
            info = await _single(store, key, path, size, settings, meter)
    meter.finish()
    return info


def _goes_multipart(store: Store) -> bool:
    """A MultipartStore uploads large files in parts unless it says ``parallel_parts`` is
    False for where it writes (GCS at a bucket root: nowhere to stage parts unseen)."""
    return isinstance(store, MultipartStore) and bool(getattr(store, "parallel_parts", True))


async def _single(
    store: Store, key: str, path: Path, size: int, settings: TransferSettings, meter: Meter
) -> ObjectInfo:
    if isinstance(store, SinglePutStore):

        async def attempt() -> ObjectInfo:
            sent = 0

            def on_bytes(n: int) -> None:
                nonlocal sent
                sent += n
                meter.add(n)

            try:
                return await store.put_file_single(key, path, on_bytes=on_bytes)
            except BaseException:
                meter.rewind(sent)
                raise

        applied = None
        if isinstance(store, WriteCheckingStore):
            checking = store

            async def applied() -> ObjectInfo | None:
                return await checking.put_applied(key, FileSpan(path, 0, size))

        info = await with_retries(
            attempt, settings=settings, what=f"uploading {key}", applied=applied
        )
        meter.done = size
        return info
    if size >= settings.multipart_threshold:
        raise TypeError(
            f"{type(store).__name__} can neither stream a file nor upload multipart; "
            f"{path.name} ({size} bytes) is too large to send from memory"
        )
    data = await anyio.Path(path).read_bytes()
    info = await store.put_bytes(key, data)
    meter.add(len(data))
    return info


async def _multipart(
    store: MultipartStore,
    key: str,
    path: Path,
    size: int,
    settings: TransferSettings,
    meter: Meter,
    limiter: anyio.CapacityLimiter | None,
) -> ObjectInfo:
    pending = await _send_parts(store, key, path, size, settings, meter, limiter)
    try:
        return await pending.complete()
    except BaseException:
        with anyio.move_on_after(ABORT_TIMEOUT, shield=True):
            await pending.abort()
        raise


@dataclass
class PendingUpload:
    """A multipart upload whose parts are all sent but which is not completed yet: the
    object does not exist until :meth:`complete` (nothing is visible to any reader)."""

    store: MultipartStore
    key: str
    upload_id: str
    etags: dict[int, str]
    settings: TransferSettings

    async def complete(self) -> ObjectInfo:
        store, key, upload_id = self.store, self.key, self.upload_id
        parts = sorted(self.etags.items())

        async def completed() -> ObjectInfo | None:
            if not isinstance(store, WriteCheckingStore):
                return None
            return await store.complete_applied(key, upload_id, parts)

        return await with_retries(
            lambda: store.complete_multipart(key, upload_id, parts),
            settings=self.settings,
            what=f"uploading {key}",
            applied=completed,
        )

    async def abort(self) -> None:
        await _abort_quietly(self.store, self.key, self.upload_id, self.settings)


async def upload_parts(
    store: Store,
    key: str,
    path: Path,
    *,
    settings: TransferSettings,
    progress: ProgressCallback | None = None,
    limiter: anyio.CapacityLimiter | None = None,
) -> PendingUpload | None:
    """Send every part of ``path`` as a multipart upload to ``key`` without completing it.

    Returns None (and sends nothing) when the file goes in one request instead (below
    ``settings.multipart_threshold``, or a store without multipart uploads). A failure
    aborts the upload before it is raised.
    """
    size = os.stat(path).st_size
    if size < settings.multipart_threshold or not _goes_multipart(store):
        return None
    assert isinstance(store, MultipartStore)
    meter = Meter(key, size, "upload", progress, settings.chunk_size)
    pending = await _send_parts(store, key, path, size, settings, meter, limiter)
    meter.finish()
    return pending


async def _send_parts(
    store: MultipartStore,
    key: str,
    path: Path,
    size: int,
    settings: TransferSettings,
    meter: Meter,
    limiter: anyio.CapacityLimiter | None,
) -> PendingUpload:
    part_size = max(settings.part_size, math.ceil(size / MAX_PARTS))
    what = f"uploading {key}"
    upload_id = await with_retries(
        lambda: store.create_multipart(key), settings=settings, what=what
    )
    etags: dict[int, str] = {}
    try:
        pending: Iterator[tuple[int, tuple[int, int]]] = iter(enumerate(spans(size, part_size), 1))

        async def send(number: int, start: int, end: int) -> None:
            async def attempt() -> str:
                # streamed from disk by the store: memory stays at a few chunks per part
                return await store.upload_part(key, upload_id, number, FileSpan(path, start, end))

            async def applied() -> str | None:
                if not isinstance(store, WriteCheckingStore):
                    return None
                return await store.part_applied(key, upload_id, number, FileSpan(path, start, end))

            etags[number] = await with_retries(
                attempt, settings=settings, what=f"uploading part {number} of {key}",
                applied=applied,
            )  # fmt: skip
            meter.add(end - start)

        failures: list[Exception] = []

        async def worker() -> None:
            for number, (start, end) in pending:
                if failures:
                    return
                try:
                    if limiter is None:
                        await send(number, start, end)
                    else:
                        async with limiter:
                            await send(number, start, end)
                except Exception as exc:
                    # No new parts, but the parts in flight finish rather than being cancelled:
                    # a cancelled request the server still completes would create its part
                    # after the abort below had looked (GCS parts are plain objects).
                    failures.append(exc)
                    return

        count = math.ceil(size / part_size)
        try:
            async with anyio.create_task_group() as tg:
                for _ in range(max(1, min(settings.max_concurrency, count))):
                    tg.start_soon(worker)
        except BaseExceptionGroup as group:
            raise_collapsed(group)
        if failures:
            raise_collapsed(BaseExceptionGroup(f"uploading {key} failed", failures))
    except BaseException:
        with anyio.move_on_after(ABORT_TIMEOUT, shield=True):
            await _abort_quietly(store, key, upload_id, settings)
        raise
    return PendingUpload(store, key, upload_id, etags, settings)


async def _abort_quietly(
    store: MultipartStore, key: str, upload_id: str, settings: TransferSettings
) -> None:
    """Abort an upload; a failure to abort must not hide the error that caused it."""
    with contextlib.suppress(Exception):
        await with_retries(
            lambda: store.abort_multipart(key, upload_id),
            settings=settings,
            what=f"aborting the upload of {key}",
        )
