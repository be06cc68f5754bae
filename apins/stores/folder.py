"""FolderStore: a board root on the local file system (board_folder, board_local, board_temp).

All disk work runs in worker threads so the event loop never blocks. A version is published
by writing it into a staging folder and renaming it into place: readers see the whole version
or nothing. Staging happens *outside* the board folder, in a hidden sibling folder on the same
file system (``<parent>/.<board>.apins-staging``), because pins-python lists every entry of the
board folder as a pin and every entry of a pin folder as a version, hidden or not. A crash
leaves only entries there, which :meth:`FolderStore.sweep` removes.
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
from ..errors import BoardNotFound, PinsError
from .base import ObjectInfo, ObjectNotFound, ProgressCallback, ProgressEvent, join_key

TMP_PREFIX = ".apins-tmp-"
#: suffix of the hidden sibling folder where a folder board stages versions and temp files
STAGING_SUFFIX = ".apins-staging"
_COPY_CHUNK = 8 * 1024 * 1024


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

    def __init__(self, root: str | os.PathLike[str], *, missing_ok: bool = False) -> None:
        self.root = Path(root).expanduser()
        #: a missing root reads as an empty board (board_local, board_temp), not BoardNotFound
        self.missing_ok = missing_ok
        self.identity = "file:" + str(self.root.absolute())
        self._scratch: Path | bool | None = False  # False: not chosen yet; None: none usable

    def __repr__(self) -> str:
        return f"FolderStore({str(self.root)!r})"

    def require_root(self) -> None:
        """Raise BoardNotFound unless the board's folder exists (reading never creates it)."""
        if self.root.is_dir() or (self.missing_ok and not self.root.exists()):
            return
        what = "is a file, not a folder" if self.root.exists() else "does not exist"
        raise BoardNotFound(
            f"No board at {str(self.root)!r}: the path {what}. Check the path; writing a pin "
            "there creates the board."
        )

    def local_path(self, key: str) -> Path:
        rel = key.removesuffix("/")
        if not rel:
            return self.root
        return self.root.joinpath(*safe_relative(rel, what="a key").split("/"))

    # -- reading ---------------------------------------------------------------------------

    async def list(self, prefix: str) -> builtins.list[ObjectInfo]:
        return await anyio.to_thread.run_sync(self._list, prefix)

    def _list(self, prefix: str) -> builtins.list[ObjectInfo]:
        self.require_root()
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
        self.require_root()
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
            tmp = self._temp_name(path.parent)
            try:
                tmp.write_bytes(data)
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
            st = path.stat()
            return ObjectInfo(key, st.st_size, _etag(st), _mtime(st))

        return await anyio.to_thread.run_sync(write)

    async def put_file(
        self, key: str, path: Path, *, progress: ProgressCallback | None = None
    ) -> ObjectInfo:
        def copy() -> ObjectInfo:
            dest = self.local_path(key)
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._temp_name(dest.parent)
            try:
                _copy_file(path, tmp, key, progress)
                os.replace(tmp, dest)
            finally:
                tmp.unlink(missing_ok=True)
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
        """Remove a whole folder (a version or a pin): moved out of the board first (it
        disappears from every listing at once), then deleted."""

        def rm() -> None:
            target = self.local_path(prefix)
            if not target.exists():
                return
            aside = self._temp_name(target.parent, "del-")
            try:
                os.rename(target, aside)
            except FileNotFoundError:
                return  # another process removed it first
            shutil.rmtree(aside, ignore_errors=True)

        await anyio.to_thread.run_sync(rm)

    # -- staging -------------------------------------------------------------------------------

    def scratch_root(self) -> Path | None:
        """The hidden sibling folder where this board stages, or None when there is none
        on the board's file system (then staging falls back to the pin's folder)."""
        if self._scratch is False:
            self._scratch = _choose_scratch(self.root)
        return self._scratch if isinstance(self._scratch, Path) else None

    def _temp_name(self, beside: Path, kind: str = "") -> Path:
        """A fresh name on the board's file system, outside the board when possible."""
        name = f"{TMP_PREFIX}{kind}{uuid.uuid4().hex}"
        scratch = self.scratch_root()
        if scratch is None:
            return beside / name
        scratch.mkdir(exist_ok=True)  # a closing peer may have removed it when empty
        return scratch / name

    def staging_dir(self, prefix: str) -> Path:
        """A fresh folder on the same file system as ``prefix`` (for one version)."""
        if self.root.exists() and not self.root.is_dir():
            self.require_root()
        parent = self.local_path(prefix.rstrip("/")).parent
        if self.scratch_root() is None:
            parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            tmp = self._temp_name(parent)
            with contextlib.suppress(FileNotFoundError):  # scratch removed under us: again
                tmp.mkdir()
                return tmp
        tmp = self._temp_name(parent)
        tmp.mkdir()
        return tmp

    def is_staged(self, path: Path) -> bool:
        """True if ``path`` lies in a staging folder of this board (so it can be moved)."""
        scratch = self.scratch_root()
        return path.parent.name.startswith(TMP_PREFIX) and (
            scratch is None or path.parent.parent == scratch
        )

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
                    if self.is_staged(src):
                        os.replace(src, dest)  # staged by the board on this file system
                    else:
                        _copy_file(src, dest, join_key(prefix, name), progress)
                (staging / marker[0]).write_bytes(marker[1])
                final.parent.mkdir(parents=True, exist_ok=True)
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

    # -- sweeping --------------------------------------------------------------------------------

    async def sweep(self, grace: float, pin: str | None = None) -> builtins.list[str]:
        """Remove what crashed writers left: staging entries untouched for ``grace`` seconds,
        and hidden temp entries inside the board (from older apins versions, or a board with
        no sibling folder). ``pin`` limits the in-board part to that pin's folder.
        Returns the removed entries' names."""
        return await anyio.to_thread.run_sync(self._sweep, grace, pin)

    def _sweep(self, grace: float, pin: str | None) -> builtins.list[str]:
        cutoff = time.time() - grace
        removed: builtins.list[str] = []
        scratch = self.scratch_root()
        places = [] if scratch is None else [scratch]
        if pin is None:
            places.append(self.root)
            places.extend(e for e in _subdirs(self.root) if not e.name.startswith("."))
        else:
            places.append(self.local_path(pin))
        for place in places:
            for entry in _entries(place):
                if not entry.name.startswith(TMP_PREFIX) or _newest_mtime(entry) > cutoff:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        entry.unlink()
                where = entry.name if place == scratch else entry.relative_to(self.root)
                removed.append(str(where))
        return sorted(removed)

    def location_url(self, folder_key: str) -> str:
        """The ``file://`` URL of the folder ``folder_key``, ending in ``/``."""
        return self.local_path(folder_key).absolute().as_uri() + "/"

    def browse_url(self, folder_key: str) -> str:
        """The version folder itself (``file://``): a browser lists its files."""
        return self.location_url(folder_key)

    async def aclose(self) -> None:
        scratch = self._scratch
        if isinstance(scratch, Path):
            with contextlib.suppress(OSError):
                scratch.rmdir()  # only when empty: peers may be staging there
            self._scratch = False


def _choose_scratch(root: Path) -> Path | None:
    """``<parent>/.<board name>.apins-staging`` if it can live on the board's file system."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        absolute = root.resolve()
        if absolute.parent == absolute:  # the file system root has no sibling
            return None
        scratch = absolute.parent / f".{absolute.name}{STAGING_SUFFIX}"
        scratch.mkdir(exist_ok=True)
        if os.stat(scratch).st_dev != os.stat(absolute).st_dev:
            return None
        return scratch
    except OSError:
        return None


def _entries(folder: Path) -> builtins.list[Path]:
    try:
        with os.scandir(folder) as it:
            return [Path(e.path) for e in it]
    except (FileNotFoundError, NotADirectoryError):
        return []


def _subdirs(folder: Path) -> builtins.list[Path]:
    return [p for p in _entries(folder) if p.is_dir() and not p.is_symlink()]


def _newest_mtime(path: Path) -> float:
    """The latest modification time of ``path`` or anything under it (0 if it vanished)."""
    try:
        newest = path.lstat().st_mtime
    except FileNotFoundError:
        return 0.0
    if path.is_dir() and not path.is_symlink():
        for dirpath, dirnames, filenames in os.walk(path):
            for n in dirnames + filenames:
                with contextlib.suppress(FileNotFoundError):
                    newest = max(newest, os.lstat(os.path.join(dirpath, n)).st_mtime)
    return newest


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
