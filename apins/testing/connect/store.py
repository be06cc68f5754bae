"""Persistence under ``--root``: ``state.json`` plus an archive and a folder per bundle.

Layout::

    root/state.json                    users, content, bundles, permissions, finished tasks
    root/bundles/<id>.tar.gz           the uploaded archive, byte for byte
    root/bundles/<id>/                 its files, extracted by the deploy task

The state is written with temp file + rename, so a crash never leaves a torn ``state.json``.
File work runs in worker threads (``asyncio.to_thread``), never on the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from pathlib import Path
from typing import BinaryIO

import msgspec

from .models import State


class Store:
    """Owns the root folder; ``save()`` persists the in-memory ``State`` it is given."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bundle_dir = root / "bundles"
        self._state_path = root / "state.json"
        self._lock = asyncio.Lock()

    def load(self) -> State:
        """Read the state (an empty one for a new root), creating the folders it needs."""
        self.bundle_dir.mkdir(parents=True, exist_ok=True)
        if not self._state_path.exists():
            return State()
        return msgspec.json.decode(self._state_path.read_bytes(), type=State)

    async def save(self, state: State) -> None:
        """Persist a snapshot of ``state`` (taken now, written in a thread, writes serialised)."""
        data = msgspec.json.encode(state)
        async with self._lock:
            await asyncio.to_thread(self._write_atomic, data)

    def _write_atomic(self, data: bytes) -> None:
        tmp = self._state_path.with_suffix(".json.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._state_path)

    def archive_path(self, bundle_id: int) -> Path:
        """Where bundle ``bundle_id``'s uploaded .tar.gz lives."""
        return self.bundle_dir / f"{bundle_id}.tar.gz"

    def files_path(self, bundle_id: int) -> Path:
        """Where bundle ``bundle_id``'s extracted files live (after a deploy)."""
        return self.bundle_dir / str(bundle_id)

    async def remove_bundle_files(self, bundle_id: int) -> None:
        """Delete a bundle's archive and extracted files (missing ones are fine)."""
        await asyncio.to_thread(self._remove_bundle_files, bundle_id)

    def _remove_bundle_files(self, bundle_id: int) -> None:
        self.archive_path(bundle_id).unlink(missing_ok=True)
        shutil.rmtree(self.files_path(bundle_id), ignore_errors=True)


class ArchiveWriter:
    """Streams an upload into ``<id>.tar.gz.part`` with md5/sha1/size; ``commit`` renames it."""

    def __init__(self, final: Path) -> None:
        self._final = final
        self._part = final.with_name(final.name + ".part")
        self._file: BinaryIO | None = None
        self.md5 = hashlib.md5()
        self.sha1 = hashlib.sha1()
        self.size = 0

    def open(self) -> None:
        """Create the partial file (blocking: call in a thread)."""
        self._file = open(self._part, "wb")  # noqa: SIM115 - closed in commit/abort

    def write(self, chunk: bytes) -> None:
        """Append and hash one chunk (blocking: call in a thread)."""
        assert self._file is not None
        self._file.write(chunk)
        self.md5.update(chunk)
        self.sha1.update(chunk)
        self.size += len(chunk)

    def commit(self) -> None:
        """Flush and move the partial file to its final name (blocking)."""
        assert self._file is not None
        self._file.close()
        os.replace(self._part, self._final)

    def abort(self) -> None:
        """Drop the partial file (blocking)."""
        if self._file is not None:
            self._file.close()
        self._part.unlink(missing_ok=True)
