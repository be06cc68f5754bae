"""FolderStore: a board root on the local file system (board_folder, board_local, board_temp).

All disk work runs in worker threads so the event loop never blocks. A version is published
by writing it into a hidden temporary folder beside its final place and renaming it there:
readers see the whole version or nothing, and a crash leaves only a hidden folder that
listings ignore.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import shutil
import stat
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

import anyio
import anyio.to_thread

from .._safe_path import safe_relative
from ..errors import PinsError
from .base import ObjectInfo, ObjectNotFound, ProgressCallback, ProgressEvent, join_key

TMP_PREFIX = ".apins-tmp-"
_COPY_CHUNK = 8 * 1024 * 1024
_STALE_TMP_SECONDS = 6 * 3600


class VersionExists(PinsError):
    """The version folder already exists (same second, same hash prefix)."""


def _etag(st: os.stat_result) -> str:
    return f"{st.st_mtime_ns:x}-{st.st_size:x}"


class _FileStream:
    def __init__(self, path: Path, info: ObjectInfo, start: int, end: int) -> None:
        self.info = info
        self.start = start
        self.length = max(0, end - start)
        self.ranged = True
        self._path = path

    async def chunks(self, chunk_size: int = 1024 * 1024) -> AsyncIterator[bytes]:
        f = await anyio.open_file(self._path, "rb")
        try:
            await f.seek(self.start)
            left = self.length
            while left > 0:
                data = await f.read(min(chunk_size, left))
                if not data:
                    break
                left -= len(data)
                yield data
        finally:
            await f.aclose()

    async def aclose(self) -> None:
        return None


class FolderStore:
    """Objects are files under ``root``; keys are relative paths."""

    read_only = False

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser()
        self.identity = "file:" + str(self.root.absolute())

    def __repr__(self) -> str:
        return f"FolderStore({str(self.root)!r})"

    def local_path(self, key: str) -> Path:
        rel = key.removesuffix("/")
        if not rel:
            return self.root
        return self.root.joinpath(*safe_relative(rel, what="a key").split("/"))

    # -- reading ---------------------------------------------------------------------------

    async def list(self, prefix: str) -> builtins.list[ObjectInfo]:
        return await anyio.to_thread.run_sync(self._list, prefix)

    def _list(self, prefix: str) -> builtins.list[ObjectInfo]:
        base_key = prefix.rstrip("/")
        base = self.local_path(base_key) if base_key else self.root
        out: builtins.list[ObjectInfo] = []
        if not base.is_dir():
            return out
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for fn in filenames:
                if fn.startswith("."):
                    continue
                key = join_key(rel if rel != "." else "", fn)
                try:
                    st = os.stat(os.path.join(dirpath, fn))
                except FileNotFoundError:
                    continue
                out.append(ObjectInfo(key, st.st_size, _etag(st), _mtime(st)))
        return out

    async def list_dirs(self, prefix: str) -> builtins.list[str]:
        return await anyio.to_thread.run_sync(self._list_dirs, prefix)

    def _list_dirs(self, prefix: str) -> builtins.list[str]:
        base = self.local_path(prefix) if prefix.strip("/") else self.root
        try:
            with os.scandir(base) as it:
                return sorted(e.name for e in it if e.is_dir() and not e.name.startswith("."))
        except (FileNotFoundError, NotADirectoryError):
            return []

    async def head(self, key: str) -> ObjectInfo:
        path = self.local_path(key)
        try:
            st = await anyio.to_thread.run_sync(os.stat, path)
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(f"no file {key!r} on this board") from None
        if not stat.S_ISREG(st.st_mode):
            raise ObjectNotFound(f"{key!r} is not a file")
        return ObjectInfo(key, st.st_size, _etag(st), _mtime(st))

    async def open_read(
        self,
        key: str,
        *,
        start: int = 0,
        end: int | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> _FileStream:
        from .base import NotModified, PreconditionFailed

        info = await self.head(key)
        if if_none_match is not None and if_none_match == info.etag:
            raise NotModified(key, info.etag)
        if if_match is not None and if_match != info.etag:
            raise PreconditionFailed(f"{key} changed")
        return _FileStream(self.local_path(key), info, start, info.size if end is None else end)

    # -- writing ---------------------------------------------------------------------------

    async def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        def write() -> ObjectInfo:
            path = self.local_path(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex}")
            tmp.write_bytes(data)
            os.replace(tmp, path)
            st = path.stat()
            return ObjectInfo(key, st.st_size, _etag(st), _mtime(st))

        return await anyio.to_thread.run_sync(write)

    async def put_file(
        self, key: str, path: Path, *, progress: ProgressCallback | None = None
    ) -> ObjectInfo:
        def copy() -> ObjectInfo:
            dest = self.local_path(key)
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex}")
            _copy_file(path, tmp, key, progress)
            os.replace(tmp, dest)
            st = dest.stat()
            return ObjectInfo(key, st.st_size, _etag(st), _mtime(st))

        return await anyio.to_thread.run_sync(copy)

    async def delete_many(self, keys: Sequence[str]) -> None:
        def rm() -> None:
            for key in keys:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self.local_path(key))

        await anyio.to_thread.run_sync(rm)

    async def delete_prefix(self, prefix: str) -> None:
        """Remove a whole folder (a version or a pin): renamed aside first, then deleted."""

        def rm() -> None:
            target = self.local_path(prefix)
            if not target.exists():
                return
            aside = target.with_name(f"{TMP_PREFIX}del-{uuid.uuid4().hex}")
            try:
                os.rename(target, aside)  # disappears from listings atomically
            except FileNotFoundError:
                return  # another process removed it first
            shutil.rmtree(aside, ignore_errors=True)

        await anyio.to_thread.run_sync(rm)

    def staging_dir(self, prefix: str) -> Path:
        """A fresh hidden folder on the same file system as ``prefix`` (for one version)."""
        parent = self.local_path(prefix.rstrip("/")).parent
        parent.mkdir(parents=True, exist_ok=True)
        self._clean_stale(parent)
        tmp = parent / f"{TMP_PREFIX}{uuid.uuid4().hex}"
        tmp.mkdir()
        return tmp

    async def commit_version(
        self,
        prefix: str,
        files: Sequence[tuple[str, Path]],
        marker: tuple[str, bytes],
        *,
        progress: ProgressCallback | None = None,
    ) -> None:
        def commit() -> None:
            final = self.local_path(prefix.rstrip("/"))
            staging = self.staging_dir(prefix)
            try:
                for name, src in files:
                    dest = staging / name
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    if (
                        src.parent.name.startswith(TMP_PREFIX)
                        and src.parent.parent == staging.parent
                    ):
                        os.replace(src, dest)  # staged by the board on this file system
                    else:
                        _copy_file(src, dest, join_key(prefix, name), progress)
                (staging / marker[0]).write_bytes(marker[1])
                try:
                    os.rename(staging, final)
                except OSError as e:
                    if e.errno in (errno.EEXIST, errno.ENOTEMPTY) or final.exists():
                        raise VersionExists(f"version folder {prefix!r} already exists") from None
                    raise
            finally:
                if staging.exists():
                    shutil.rmtree(staging, ignore_errors=True)

        await anyio.to_thread.run_sync(commit)

    def _clean_stale(self, parent: Path) -> None:
        """Remove temporary folders left by crashed writers long ago."""
        now = time.time()
        try:
            with os.scandir(parent) as it:
                for e in it:
                    if e.name.startswith(TMP_PREFIX):
                        try:
                            if now - e.stat().st_mtime > _STALE_TMP_SECONDS:
                                shutil.rmtree(e.path, ignore_errors=True)
                        except FileNotFoundError:
                            pass
        except FileNotFoundError:
            pass

    async def aclose(self) -> None:
        return None


def _mtime(st: os.stat_result) -> datetime:
    return datetime.fromtimestamp(st.st_mtime, timezone.utc)


def _copy_file(src: Path, dest: Path, key: str, progress: ProgressCallback | None) -> None:
    total = os.path.getsize(src)
    if progress is None:
        shutil.copyfile(src, dest)
        return
    done = 0
    with open(src, "rb") as fi, open(dest, "wb") as fo:
        while chunk := fi.read(_COPY_CHUNK):
            fo.write(chunk)
            done += len(chunk)
            progress(ProgressEvent(key, done, total, "upload"))
    progress(ProgressEvent(key, done, total, "upload", finished=True))
