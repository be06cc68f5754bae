"""Publish one version folder on an object store with the shortest window in which a
peer can see its data files without its data.txt.

An object store has no rename, so a version's files appear one by one under its final
prefix; pins-python and R list such a folder as a version (apins does not: it requires
data.txt). So the order is: every part of every multipart file first (invisible until
completed), then the small files and the completions together, then data.txt. The
window is a couple of round trips at the very end, not the whole upload.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import anyio

from .._one_error import raise_collapsed
from ..settings import TransferSettings
from ..stores.base import ProgressCallback, Store
from .upload import PendingUpload, upload_file, upload_parts

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

#: seconds the clean-up of a failed version may take
CLEANUP_TIMEOUT = 30.0


async def commit_files(
    store: Store,
    prefix: str,
    files: Sequence[tuple[str, Path]],
    marker: tuple[str, bytes],
    *,
    settings: TransferSettings,
    progress: ProgressCallback | None = None,
    limiter: anyio.CapacityLimiter | None = None,
) -> None:
    """Upload the data files, then the data.txt marker, last.

    Multipart files are sent part by part first and completed only once every part of
    every file is there, together with the single-request files. If anything fails (or the
    call is cancelled), pending uploads are aborted and the version's data files deleted
    before the error is re-raised, so no partial version is left behind.
    """
    pending: list[PendingUpload] = []
    small: list[tuple[str, Path]] = []
    names = iter(files)
    todo: Iterator[PendingUpload | tuple[str, Path]] = iter(())

    async def send_parts() -> None:
        for name, path in names:
            up = await upload_parts(
                store, prefix + name, path, settings=settings, progress=progress, limiter=limiter
            )
            if up is None:
                small.append((name, path))
            else:
                pending.append(up)

    async def finish() -> None:
        for item in todo:
            if isinstance(item, PendingUpload):
                await item.complete()
            else:
                await upload_file(
                    store, prefix + item[0], item[1],
                    settings=settings, progress=progress, limiter=limiter,
                )  # fmt: skip

    workers = max(1, min(len(files), settings.max_concurrency))
    try:
        try:
            async with anyio.create_task_group() as tg:
                for _ in range(workers):
                    tg.start_soon(send_parts)
            todo = iter([*pending, *small])
            async with anyio.create_task_group() as tg:
                for _ in range(workers):
                    tg.start_soon(finish)
        except BaseExceptionGroup as group:
            raise_collapsed(group)
    except BaseException:
        with anyio.move_on_after(CLEANUP_TIMEOUT, shield=True), contextlib.suppress(Exception):
            for up in pending:
                await up.abort()
            # every name of this new version, also those cut off mid-request
            await store.delete_many([prefix + name for name, _ in files])
        raise
    name, content = marker
    await store.put_bytes(prefix + name, content)
