"""Publish one version folder on an object store: data files in parallel, data.txt last."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path

import anyio

from ..settings import TransferSettings
from ..stores.base import ProgressCallback, Store
from ._util import first_error
from .upload import upload_file

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
    """Upload the data files (concurrently), then the data.txt marker, last.

    If a data file fails (or the call is cancelled), the version's data files are deleted
    and the error re-raised, so no partial version is left behind (none is visible anyway:
    it has no marker).
    """
    names = iter(files)

    async def worker() -> None:
        for name, path in names:
            await upload_file(
                store, prefix + name, path, settings=settings, progress=progress, limiter=limiter
            )

    try:
        try:
            async with anyio.create_task_group() as tg:
                for _ in range(max(1, min(len(files), settings.max_concurrency))):
                    tg.start_soon(worker)
        except BaseExceptionGroup as group:
            raise first_error(group) from None
    except BaseException:
        with anyio.move_on_after(CLEANUP_TIMEOUT, shield=True), contextlib.suppress(Exception):
            # every name of this new version, also those cut off mid-request
            await store.delete_many([prefix + name for name, _ in files])
        raise
    name, content = marker
    await store.put_bytes(prefix + name, content)
