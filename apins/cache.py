"""The local cache shared by every remote board.

Layout: ``<root>/<scheme>-<16 hex of sha256(board identity)>/<pin>/<version>/<file>``.
Version files are immutable, so an entry, once present, is served without asking the store.
Every entry is written by temp file + rename in the same folder tree, so concurrent
processes never see a torn file. Each entry is verified before it is committed, and its
*stamp* (size, mtime_ns, ctime_ns, inode, xxh64) is recorded beside it, in
``<version>/.stamp-<32 hex of sha256(file name)>`` (no folder of its own: making one costs
as much as a file; stamps older apins left in ``<version>/.stamps/`` are still read). A
lookup re-hashes a file only when its stat no longer matches the
stamp, and drops it if the bytes changed (so it is fetched again). ``ctime`` cannot be set
by ``utime``, so any write through the file system is caught; silent media corruption that
changes no metadata is not. ``data.txt`` mtime records the last use (for pruning). Mutable
resources (a URL board's manifest) are kept with their HTTP validators under
``<board dir>/.validated/``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import xxhash

from ._redact import redact_url
from ._safe_path import safe_relative
from .errors import InvalidMetadata
from .hashing import file_xxh64

log = logging.getLogger("apins.cache")

_TMP = ".tmp"
_VALIDATED = ".validated"
_STAMP_PREFIX = ".stamp-"
#: where older apins kept stamps (read, never written)
_LEGACY_STAMPS = ".stamps"

#: stat of files this process verified against their stamp: path -> stat key
_trusted: dict[str, tuple[int, int, int, int]] = {}
_TRUSTED_LIMIT = 100_000


def _stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def default_cache_root() -> Path:
    """``$PINS_CACHE_DIR``, else the platform's user cache folder for apins."""
    env = os.environ.get("PINS_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("apins"))


@dataclass(frozen=True, slots=True)
class Validated:
    """A cached copy of a mutable resource and the validators to revalidate it."""

    path: Path
    etag: str | None
    last_modified: str | None
    fetched_at: float


@dataclass(frozen=True, slots=True)
class PruneResult:
    removed: list[Path]
    freed_bytes: int


@functools.lru_cache(maxsize=256)
def _board_dir_name(identity: str) -> str:
    """``<scheme>-<16 hex of sha256(identity)>``: a board's folder under the cache root."""
    scheme = identity.split(":", 1)[0].lower() if ":" in identity else "board"
    scheme = "".join(c for c in scheme if c.isalnum()) or "board"
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]
    return f"{scheme}-{digest}"


def _safe_part(s: str) -> str:
    """One path segment (a pin or version) that is safe to use in the cache."""
    if isinstance(s, str) and "/" in s:
        raise InvalidMetadata(f"unsafe cache path component: {s!r}")
    return safe_relative(s, what="a cache path component")


class Cache:
    """Immutable version files by (board identity, pin, version), plus validated URLs."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_root()

    def __repr__(self) -> str:
        return f"Cache({str(self.root)!r})"

    # -- layout ----------------------------------------------------------------------------

    def board_dir(self, identity: str) -> Path:
        return self.root / _board_dir_name(identity)

    def version_dir(self, identity: str, pin: str, version: str) -> Path:
        return self.board_dir(identity) / _safe_part(pin) / _safe_part(version)

    def file_path(self, identity: str, pin: str, version: str, filename: str) -> Path:
        parts = safe_relative(filename, what="a cached file name").split("/")
        return self.version_dir(identity, pin, version).joinpath(*parts)

    # -- immutable entries -----------------------------------------------------------------

    def _stamp_path(self, identity: str, pin: str, version: str, filename: str) -> Path:
        digest = hashlib.sha256(filename.encode("utf-8")).hexdigest()[:32]
        return self.version_dir(identity, pin, version) / f"{_STAMP_PREFIX}{digest}"

    def lookup(self, identity: str, pin: str, version: str, filename: str) -> Path | None:
        """The cached file, or None. Only complete, verified files are returned: one whose
        stat differs from its stamp is re-hashed, and removed if its bytes changed."""
        path = self.file_path(identity, pin, version, filename)
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            log.debug("cache miss: %s %s/%s/%s", identity, pin, version, filename)
            return None
        key = _stat_key(st)
        log.debug("cache hit: %s %s/%s/%s", identity, pin, version, filename)
        if _trusted.get(str(path)) == key:
            return path
        stamp_path = self._stamp_path(identity, pin, version, filename)
        stamp = _read_stamp(stamp_path)
        if stamp is None:  # stamped by an older apins?
            stamp = _read_stamp(_legacy(stamp_path))
        if stamp is not None and stamp.get("file") == filename:
            recorded = stamp.get("stat")
            if isinstance(recorded, list) and tuple(recorded) == key:
                _trust(path, key)
                return path
            try:
                digest = file_xxh64(path)
            except OSError:
                return None
            if digest == stamp.get("xxh64"):  # touched, same bytes: stamp it again
                with contextlib.suppress(OSError):
                    self._write_stamp(path, stamp_path, filename, digest)
                return path
        # altered since it was verified, or never stamped: not trusted; fetch it again
        (log.debug if stamp is None else log.warning)(
            "cache entry %s/%s/%s changed on disk since it was verified; fetching it again",
            pin, version, filename,
        )  # fmt: skip
        self._discard(path, stamp_path)
        return None

    def _discard(self, path: Path, stamp_path: Path) -> None:
        _trusted.pop(str(path), None)
        aside = path.with_name(f".{path.name}.{uuid.uuid4().hex}.bad")
        with contextlib.suppress(OSError):
            os.rename(path, aside)  # not under its name any more: no one else serves it
            os.unlink(aside)
        for stale in (stamp_path, _legacy(stamp_path)):
            with contextlib.suppress(OSError):
                stale.unlink()

    def _write_stamp(self, path: Path, stamp_path: Path, filename: str, digest: str) -> None:
        st = os.stat(path)
        tmp = stamp_path.with_name(f".{uuid.uuid4().hex}{_TMP}")
        body = {"file": filename, "stat": list(_stat_key(st)), "xxh64": digest}
        tmp.write_text(json.dumps(body), "utf-8")
        os.replace(tmp, stamp_path)
        _trust(path, _stat_key(st))

    def touch(self, identity: str, pin: str, version: str) -> None:
        """Record a use of this version (data.txt mtime), for pruning."""
        marker = self.file_path(identity, pin, version, "data.txt")
        with contextlib.suppress(OSError):
            os.utime(marker)

    def temp_path(self, identity: str) -> Path:
        """A fresh temp file name in this board's cache dir (same file system as entries)."""
        tmp = self.board_dir(identity) / _TMP
        tmp.mkdir(parents=True, exist_ok=True)
        return tmp / uuid.uuid4().hex

    def commit(
        self,
        tmp: Path,
        identity: str,
        pin: str,
        version: str,
        filename: str,
        xxh64: str | None = None,
        *,
        read_only: bool = False,
    ) -> Path:
        """Move a verified temp file into place (atomic rename), make it read-only and stamp
        it. ``xxh64`` is its hash, as verified (computed here when not given); ``read_only``:
        the temp file was created read-only already."""
        dest = self.file_path(identity, pin, version, filename)
        stamp_path = self._stamp_path(identity, pin, version, filename)
        digest = xxh64 if xxh64 is not None else file_xxh64(tmp)
        for attempt in range(3):
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not read_only:
                with contextlib.suppress(OSError):
                    os.chmod(tmp, 0o444)
            try:
                os.replace(tmp, dest)
            except FileNotFoundError:  # a concurrent prune removed the folder: again
                if attempt == 2:
                    raise
                continue
            with contextlib.suppress(OSError):  # pruned at once: the entry is gone anyway
                self._write_stamp(dest, stamp_path, filename, digest)
            return dest
        raise AssertionError("unreachable")

    def put_bytes(self, identity: str, pin: str, version: str, filename: str, data: bytes) -> Path:
        tmp = self.temp_path(identity)
        tmp.write_bytes(data)
        digest = xxhash.xxh64(data).hexdigest()
        return self.commit(tmp, identity, pin, version, filename, digest)

    def put_many(
        self, identity: str, entries: Sequence[tuple[str, str, str, bytes]]
    ) -> list[Path | Exception]:
        """:meth:`put_bytes` of many small files ``(pin, version, filename, data)`` in one
        call (one thread hop for the caller): the temp folder is made once. Each entry is
        committed on its own; a failed one gives its error in place of its path."""
        tmp_dir = self.board_dir(identity) / _TMP
        out: list[Path | Exception] = []
        try:
            tmp_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            return [e] * len(entries)
        for pin, version, filename, data in entries:
            tmp = tmp_dir / uuid.uuid4().hex
            try:
                _write_read_only(tmp, data)
                digest = xxhash.xxh64(data).hexdigest()
                out.append(
                    self.commit(tmp, identity, pin, version, filename, digest, read_only=True)
                )
            except (OSError, ValueError) as e:  # ValueError: an unsafe name
                with contextlib.suppress(OSError):
                    tmp.unlink()
                out.append(e)
        return out

    def cached_versions(self, identity: str, pin: str) -> list[str]:
        """Versions of ``pin`` whose data.txt is cached (for offline reads), sorted by name."""
        pin_dir = self.board_dir(identity) / _safe_part(pin)
        try:
            return sorted(
                e.name
                for e in os.scandir(pin_dir)
                if e.is_dir()
                and not e.name.startswith(".")
                and (Path(e.path) / "data.txt").is_file()
            )
        except FileNotFoundError:
            return []

    def has_cached_version(self, identity: str, pin: str) -> bool:
        """True when some version of ``pin`` has its data.txt cached (stops at the first)."""
        pin_dir = self.board_dir(identity) / _safe_part(pin)
        try:
            with os.scandir(pin_dir) as entries:
                return any(
                    e.is_dir()
                    and not e.name.startswith(".")
                    and os.path.isfile(os.path.join(e.path, "data.txt"))
                    for e in entries
                )
        except (FileNotFoundError, NotADirectoryError):
            return False

    def cached_pins(self, identity: str) -> list[str]:
        board = self.board_dir(identity)
        try:
            return sorted(
                e.name
                for e in os.scandir(board)
                if e.is_dir()
                and not e.name.startswith(".")
                and self.cached_versions(identity, e.name)
            )
        except FileNotFoundError:
            return []

    # -- validated (mutable) resources -----------------------------------------------------

    def _validated_paths(self, identity: str, url: str) -> tuple[Path, Path]:
        d = self.board_dir(identity) / _VALIDATED
        h = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return d / h, d / f"{h}.json"

    def get_validated(self, identity: str, url: str) -> Validated | None:
        body, side = self._validated_paths(identity, url)
        try:
            info = json.loads(side.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not body.is_file() or info.get("url") != url:
            return None
        log.debug("cache has %s (ETag %s)", redact_url(url), info.get("etag"))
        return Validated(
            body, info.get("etag"), info.get("last_modified"), info.get("fetched_at", 0.0)
        )

    def put_validated(
        self, identity: str, url: str, data: bytes, etag: str | None, last_modified: str | None
    ) -> Validated:
        body, side = self._validated_paths(identity, url)
        body.parent.mkdir(parents=True, exist_ok=True)
        now = time.time()
        tmp = body.with_name(f"{body.name}.{uuid.uuid4().hex}{_TMP}")
        tmp.write_bytes(data)
        os.replace(tmp, body)
        meta = {"url": url, "etag": etag, "last_modified": last_modified, "fetched_at": now}
        tmp_side = side.with_name(f"{side.name}.{uuid.uuid4().hex}{_TMP}")
        tmp_side.write_text(json.dumps(meta), "utf-8")
        os.replace(tmp_side, side)
        log.debug("cache stored %s (ETag %s, %d bytes)", redact_url(url), etag, len(data))
        return Validated(body, etag, last_modified, now)

    def refresh_validated(self, identity: str, url: str) -> None:
        """Mark a validated entry as just confirmed (a 304 answer)."""
        log.debug("cache revalidated %s: not modified", redact_url(url))
        _, side = self._validated_paths(identity, url)
        try:
            info = json.loads(side.read_text("utf-8"))
            info["fetched_at"] = time.time()
            tmp_side = side.with_name(f"{side.name}.{uuid.uuid4().hex}{_TMP}")
            tmp_side.write_text(json.dumps(info), "utf-8")
            os.replace(tmp_side, side)
        except (OSError, ValueError):
            pass

    # -- housekeeping ----------------------------------------------------------------------

    def _versions(self) -> Iterator[tuple[Path, float, int]]:
        """(version dir, last use, size) for every cached version."""
        if not self.root.is_dir():
            return
        for board in self.root.iterdir():
            if not board.is_dir() or board.name.startswith("."):
                continue
            for pin in board.iterdir():
                if not pin.is_dir() or pin.name.startswith("."):
                    continue
                for ver in pin.iterdir():
                    if not ver.is_dir() or ver.name.startswith("."):
                        continue
                    size = _size(ver)
                    marker = ver / "data.txt"
                    used = marker.stat().st_mtime if marker.exists() else ver.stat().st_mtime
                    yield ver, used, size

    def info(self) -> dict[str, int]:
        """Bytes held per board directory."""
        out: dict[str, int] = {}
        if not self.root.is_dir():
            return out
        for board in self.root.iterdir():
            if board.is_dir():
                out[board.name] = _size(board)
        return out

    def prune(self, *, days: float | None = None, max_bytes: int | None = None) -> PruneResult:
        """Remove versions unused for ``days`` days, then least recently used ones until the
        cache holds at most ``max_bytes``."""
        entries = sorted(self._versions(), key=lambda e: e[1])
        removed: list[Path] = []
        freed = 0
        keep: list[tuple[Path, float, int]] = []
        cutoff = time.time() - days * 86400 if days is not None else None
        for ver, used, size in entries:
            if cutoff is not None and used < cutoff:
                _remove_dir(ver)
                removed.append(ver)
                freed += size
            else:
                keep.append((ver, used, size))
        if max_bytes is not None:
            total = sum(e[2] for e in keep)
            for ver, _, size in keep:
                if total <= max_bytes:
                    break
                _remove_dir(ver)
                removed.append(ver)
                freed += size
                total -= size
        # temp files older than a day are debris of crashed downloads
        for tmpdir in self.root.glob(f"*/{_TMP}"):
            for f in tmpdir.iterdir():
                try:
                    if time.time() - f.stat().st_mtime > 86400:
                        f.unlink()
                except OSError:
                    pass
        return PruneResult(removed, freed)


def _size(folder: Path) -> int:
    """Bytes of the cached files under ``folder`` (stamps and other bookkeeping excluded;
    files removed meanwhile by another process count as 0)."""
    total = 0
    for f in folder.rglob("*"):
        if f.name.startswith(_STAMP_PREFIX) or _LEGACY_STAMPS in f.parts[len(folder.parts) :]:
            continue
        with contextlib.suppress(OSError):
            if f.is_file():
                total += f.stat().st_size
    return total


def _trust(path: Path, key: tuple[int, int, int, int]) -> None:
    if len(_trusted) > _TRUSTED_LIMIT:
        _trusted.clear()
    _trusted[str(path)] = key


def _legacy(stamp_path: Path) -> Path:
    """Where an older apins kept the stamp at ``stamp_path``."""
    return stamp_path.with_name(_LEGACY_STAMPS) / stamp_path.name[len(_STAMP_PREFIX) :]


def _write_read_only(path: Path, data: bytes) -> None:
    """A new file holding ``data``, created read-only (no chmod afterwards)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o444)
    with open(fd, "wb") as f:
        f.write(data)


def _read_stamp(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _remove_dir(path: Path) -> None:
    aside = path.with_name(f".{path.name}.{uuid.uuid4().hex}.del")
    try:
        os.rename(path, aside)
    except OSError:
        return
    for f in aside.rglob("*"):
        with contextlib.suppress(OSError):
            os.chmod(f, 0o644 if f.is_file() else 0o755)
    shutil.rmtree(aside, ignore_errors=True)


def cache_info(root: str | os.PathLike[str] | None = None) -> dict[str, int]:
    """Bytes held per board in the cache (``$PINS_CACHE_DIR`` or the platform cache folder)."""
    return Cache(root).info()


def cache_prune(
    days: float | None = None,
    max_bytes: int | None = None,
    root: str | os.PathLike[str] | None = None,
) -> PruneResult:
    """Remove cached versions unused for ``days`` days, then the least recently used ones
    until the cache holds at most ``max_bytes``. Boards re-download what they need."""
    if days is None and max_bytes is None:
        raise ValueError("cache_prune needs days= (age) or max_bytes= (total size), or both.")
    return Cache(root).prune(days=days, max_bytes=max_bytes)
