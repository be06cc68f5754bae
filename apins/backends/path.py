"""PathBackend: the pins board layout (``<pin>/<version>/{data.txt, files}``) on any Store.

One implementation serves the folder, S3 and (read-only) URL boards. A version exists only
when its data.txt does: listings look for ``<pin>/<version>/data.txt`` keys, so a half-written
version on an object store stays invisible. Remote files go through the transfer engine into
the cache, verified against ``pin_hash`` before they are committed there.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from .._one_error import collapsed
from .._safe_path import safe_relative
from .._write_behind import WriteBehind
from ..cache import Cache
from ..errors import (
    InvalidMetadata,
    OfflineError,
    PinNotFound,
    ReadOnlyBoard,
    TransferError,
    VersionConflict,
    VersionNotFound,
)
from ..hashing import file_xxh64, verify_pin_hash
from ..meta import AnyMeta, Meta, dump_manifest, dump_meta, parse_meta
from ..names import validate_pin_name
from ..settings import TransferSettings
from ..stores.base import (
    LocalStore,
    ObjectInfo,
    ObjectNotFound,
    ProgressCallback,
    Store,
    UploadListingStore,
    join_key,
)
from ..transfer.retry import offline_probe
from ..versions import VersionInfo, is_newer, sort_versions

if sys.version_info < (3, 11):  # pragma: no cover
    pass

log = logging.getLogger("apins")

MANIFEST = "_pins.yaml"
#: seconds after which the next write of a pin sweeps what a crashed writer left there
SWEEP_GRACE = 600.0
_KNOWN_LIMIT = 200_000
DATA_TXT = "data.txt"


class PathBackend:
    """Pins laid out as folders/keys on a Store."""

    def __init__(
        self,
        store: Store,
        *,
        cache: Cache | None = None,
        settings: TransferSettings | None = None,
        description: str | None = None,
    ) -> None:
        self.store = store
        self.cache = cache
        self.settings = settings or TransferSettings()
        self.identity = store.identity
        self.read_only = store.read_only
        self.local = isinstance(store, LocalStore)
        self._description = description
        self._limiter: anyio.CapacityLimiter | None = None
        self._scratch: Path | None = None
        #: size and ETag of objects seen in listings: a download or server-side copy of a
        #: version file needs no HEAD request (its If-Match still guards against a change)
        self._known: dict[str, ObjectInfo] = {}
        #: pins swept in full (listing their unfinished uploads too) by this board object
        self._swept: set[str] = set()
        #: data.txt files to cache, written in batches (a search fetches hundreds at once)
        self._cache_writes = WriteBehind(self._write_cached)

    def describe(self) -> str:
        return self._description or repr(self.store)

    def known_info(self, key: str) -> ObjectInfo | None:
        """Size and ETag of ``key`` from the latest listing, if it was seen there."""
        return self._known.get(key)

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        """Board-wide bound on requests in flight (created in the running loop)."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.settings.max_connections)
        return self._limiter

    # -- listing ---------------------------------------------------------------------------

    async def _complete_versions(
        self, prefix: str, *, fallback: bool = False
    ) -> dict[str, set[str]]:
        """pin → versions with data.txt, from one (paginated) listing under ``prefix``.

        With ``fallback`` (the cache can serve this offline), an unreachable store fails at
        once instead of after every retry (see :func:`apins.transfer.retry.offline_probe`).
        """
        found: dict[str, set[str]] = {}
        with offline_probe(fallback):
            objects = await self.store.list(prefix)
        if len(self._known) + len(objects) > _KNOWN_LIMIT:
            self._known.clear()
        for obj in objects:
            parts = obj.key.split("/")
            if len(parts) == 3 and parts[2] == DATA_TXT and parts[0] and parts[1]:
                if parts[0].startswith(".") or parts[1].startswith("."):
                    continue
                try:
                    safe_relative(obj.key, what="a listed key")
                except InvalidMetadata as e:
                    log.warning("Skipping a version: %s", e)
                    continue
                found.setdefault(parts[0], set()).add(parts[1])
            self._known[obj.key] = obj
        return found

    def _has_cached(self, name: str | None = None) -> bool:
        if self.cache is None:
            return False
        if name is None:
            return bool(self.cache.cached_pins(self.identity))
        return self.cache.has_cached_version(self.identity, name)

    async def list_pins(self) -> list[str]:
        try:
            found = await self._complete_versions("", fallback=self._has_cached())
        except TransferError as e:
            pins = self.cache.cached_pins(self.identity) if self.cache else []
            if not pins:
                raise OfflineError(f"Cannot reach the board ({e}) and nothing is cached.") from e
            _warn_offline(e)
            return pins
        return sorted(found)

    async def latest_versions(self) -> dict[str, VersionInfo]:
        """The latest complete version of every pin, from one listing of the board."""
        try:
            found = await self._complete_versions("", fallback=self._has_cached())
        except TransferError as e:
            if self.cache is None or not self.cache.cached_pins(self.identity):
                raise OfflineError(f"Cannot reach the board ({e}) and nothing is cached.") from e
            _warn_offline(e)
            found = {
                p: set(self.cache.cached_versions(self.identity, p))
                for p in self.cache.cached_pins(self.identity)
            }
        return {
            pin: sort_versions([VersionInfo.from_name(v) for v in vs])[-1]
            for pin, vs in sorted(found.items())
            if vs
        }

    def listed_sizes(self) -> dict[str, int]:
        """Bytes under each ``pin/version`` in the listings seen so far (data.txt included)."""
        out: dict[str, int] = {}
        for key, info in self._known.items():
            pin, _, rest = key.partition("/")
            version, _, name = rest.partition("/")
            if name:
                where = f"{pin}/{version}"
                out[where] = out.get(where, 0) + info.size
        return out

    async def versions_by_pin(self) -> dict[str, list[VersionInfo]]:
        """Every pin's complete versions, oldest first, from one listing of the whole board
        (no cache fallback: for callers such as ``mirror`` that need the board itself)."""
        found = await self._complete_versions("")
        return {
            pin: sort_versions([VersionInfo.from_name(v) for v in vs])
            for pin, vs in sorted(found.items())
        }

    async def list_versions(self, name: str) -> list[VersionInfo]:
        validate_pin_name(name)
        try:
            found = await self._complete_versions(name + "/", fallback=self._has_cached(name))
        except TransferError as e:
            cached = self.cache.cached_versions(self.identity, name) if self.cache else []
            if not cached:
                raise OfflineError(
                    f"Cannot reach the board to list versions of {name!r} ({e}), and the cache "
                    "holds none."
                ) from e
            _warn_offline(e)
            return sort_versions([VersionInfo.from_name(v) for v in cached])
        versions = found.get(name)
        if not versions:
            raise PinNotFound(f"Pin {name!r} does not exist on this board.")
        return sort_versions([VersionInfo.from_name(v) for v in versions])

    async def pin_exists(self, name: str) -> bool:
        try:
            await self.list_versions(name)
        except PinNotFound:
            return False
        return True

    async def latest_version(self, name: str) -> VersionInfo:
        return (await self.list_versions(name))[-1]

    async def pin_url(self, name: str, version: str | None) -> str:
        """Where version ``version`` (default: the latest) of ``name`` lives on this board."""
        return self.store.location_url(await self._version_folder(name, version))

    async def browse_url(self, name: str, version: str | None) -> str:
        """The web page of that version's folder, as the store has one (Store.browse_url)."""
        return self.store.browse_url(await self._version_folder(name, version))

    async def _version_folder(self, name: str, version: str | None) -> str:
        """``name/version`` of an existing version (default: the latest)."""
        versions = await self.list_versions(name)
        chosen = versions[-1].version if version is None else version
        if chosen not in {v.version for v in versions}:
            raise VersionNotFound(f"Pin {name!r} has no version {chosen!r}.")
        return f"{name}/{chosen}"

    async def poll_versions(self, name: str, newest: str | None) -> list[VersionInfo] | None:
        """The pin's versions read from the board now (for pin_watch): one listing under
        ``<name>/``, never the cache; raises PinNotFound, or TransferError when unreachable.
        """
        validate_pin_name(name)
        found = await self._complete_versions(name + "/")
        versions = found.get(name)
        if not versions:
            raise PinNotFound(f"Pin {name!r} does not exist on this board.")
        return sort_versions([VersionInfo.from_name(v) for v in versions])

    # -- reading ---------------------------------------------------------------------------

    async def read_meta_raw(self, name: str, version: str) -> bytes:
        """The exact bytes of a version's data.txt (cached like its files)."""
        validate_pin_name(name)
        _check_version_name(name, version)
        return await self._read_small(name, version, join_key(name, version, DATA_TXT))

    async def read_meta(self, name: str, version: str) -> AnyMeta:
        if self.local:
            meta = await self._read_local_meta(name, version)
        else:
            meta = parse_meta(await self.read_meta_raw(name, version), name=name, version=version)
        meta.version = version
        meta.local = {"version": version}
        if self.local:
            assert isinstance(self.store, LocalStore)
            meta.local["dir"] = str(self.store.local_path(join_key(name, version)))
        return meta

    async def _read_local_meta(self, name: str, version: str) -> AnyMeta:
        """A folder board's data.txt, parsed once while the file is unchanged (its stat)."""
        from .._memo import LOCAL_METAS, file_stamp

        assert isinstance(self.store, LocalStore)
        validate_pin_name(name)
        _check_version_name(name, version)
        path = str(self.store.local_path(join_key(name, version, DATA_TXT)))
        try:
            before = file_stamp(os.stat(path))
        except OSError:
            before = None  # missing: read_meta_raw reports it
        if before is not None:
            hit = LOCAL_METAS.get(path, before)
            if hit is not None:
                return hit
        read_at = time.time_ns()
        meta = parse_meta(await self.read_meta_raw(name, version), name=name, version=version)
        if before is not None:
            with contextlib.suppress(OSError):
                LOCAL_METAS.put(path, before, file_stamp(os.stat(path)), read_at, meta)
        return meta

    async def read_meta_head(self, name: str, version: str, limit: int) -> bytes:
        """A version's data.txt when it is at most ``limit`` bytes (cached like read_meta_raw);
        else more than ``limit`` of its first bytes, the rest left unread."""
        validate_pin_name(name)
        _check_version_name(name, version)
        return await self._read_small(name, version, join_key(name, version, DATA_TXT), limit)

    async def _read_small(
        self, name: str, version: str, key: str, limit: int | None = None
    ) -> bytes:
        if self.local:
            assert isinstance(self.store, LocalStore)
            path = self.store.local_path(key)
            try:
                return await anyio.Path(path).read_bytes()
            except (FileNotFoundError, NotADirectoryError):
                require_root = getattr(self.store, "require_root", None)
                if require_root is not None:
                    require_root()
                raise VersionNotFound(f"Pin {name!r} has no version {version!r}.") from None
        if self.cache is not None:
            hit = self.cache.lookup(self.identity, name, version, DATA_TXT)
            if hit is not None:
                try:
                    data = hit.read_bytes()  # a few hundred bytes on local disk: no thread hop
                except FileNotFoundError:
                    pass  # a concurrent cache_prune removed it after the lookup: fetch it again
                else:
                    self.cache.touch(self.identity, name, version)
                    return data
        try:
            data = await self._get_bytes(key, limit)
        except ObjectNotFound:
            raise VersionNotFound(f"Pin {name!r} has no version {version!r}.") from None
        if self.cache is not None and (limit is None or len(data) <= limit):
            await self._cache_writes.put((name, version, DATA_TXT, data))
        return data

    def _write_cached(self, entries: list[tuple[str, str, str, bytes]]) -> None:
        """Cache small files fetched by concurrent reads (one batch, in a worker thread)."""
        assert self.cache is not None
        for (name, version, filename, _), done in zip(
            entries, self.cache.put_many(self.identity, entries), strict=True
        ):
            if isinstance(done, Exception):
                log.warning("Could not cache %s of %s/%s: %s", filename, name, version, done)

    async def _get_bytes(self, key: str, limit: int | None = None) -> bytes:
        """The object's bytes; with ``limit``, reading stops once more than that came."""
        from ..transfer.retry import with_retries

        async def once() -> bytes:
            chunks: list[bytes] = []
            got = 0
            size = self.settings.chunk_size if limit is None else min(self.settings.chunk_size,
                                                                       limit + 1)  # fmt: skip
            async with self.limiter:
                stream = await self.store.open_read(key)
                try:
                    async for c in stream.chunks(size):
                        chunks.append(c)
                        got += len(c)
                        if limit is not None and got > limit:
                            break
                finally:
                    await stream.aclose()  # a half-read body drops its connection
            return b"".join(chunks)

        return await with_retries(once, settings=self.settings, what=f"reading {key}")

    async def fetch_files(
        self,
        name: str,
        version: str,
        meta: AnyMeta,
        *,
        progress: ProgressCallback | None = None,
        private: bool = False,
    ) -> list[Path]:
        files = _safe_files(name, version, meta.files)
        if self.local:
            assert isinstance(self.store, LocalStore)
            paths = [self.store.local_path(join_key(name, version, f)) for f in files]
            missing = [str(p) for p in paths if not p.is_file()]
            if missing:
                raise VersionNotFound(
                    f"Version {version!r} of pin {name!r} is missing files: {', '.join(missing)}"
                )
            hashes = await _hash_all(paths)
            verify_pin_hash(name, meta.pin_hash, hashes, files)
            return paths
        return await self._fetch_remote(name, version, meta, files, progress, private=private)

    async def _fetch_remote(
        self,
        name: str,
        version: str,
        meta: AnyMeta,
        files: list[str],
        progress: ProgressCallback | None,
        *,
        private: bool = False,
    ) -> list[Path]:
        from ..transfer.download import download

        files = _safe_files(name, version, files)
        cache = None if private else self.cache
        cached = [cache.lookup(self.identity, name, version, f) if cache else None for f in files]
        if all(p is not None for p in cached):
            if cache:
                cache.touch(self.identity, name, version)
            return [p for p in cached if p is not None]
        # download what is missing into temp files, verify, then commit
        if cache is not None:
            temps = [cache.temp_path(self.identity) for _ in files]
        else:
            scratch = self._scratch_dir()
            temps = [scratch / f"{i}-{Path(f).name}" for i, f in enumerate(files)]
        hashes: list[str] = [""] * len(files)

        async def get(i: int) -> None:
            key = join_key(name, version, files[i])
            hit = cached[i]
            if hit is not None:
                try:
                    hashes[i] = await anyio.to_thread.run_sync(file_xxh64, hit)
                    return
                except FileNotFoundError:  # a concurrent cache_prune removed it: download it
                    cached[i] = None
            try:
                result = await download(
                    self.store,
                    key,
                    temps[i],
                    info=self._known.get(key),
                    settings=self.settings,
                    progress=progress,
                    limiter=self.limiter,
                )
            except ObjectNotFound:
                raise VersionNotFound(
                    f"Version {version!r} of pin {name!r} is missing its file {files[i]!r}."
                ) from None
            hashes[i] = result.xxh64

        try:
            with collapsed():
                async with anyio.create_task_group() as tg:
                    for i in range(len(files)):
                        tg.start_soon(get, i)
            verify_pin_hash(name, meta.pin_hash, hashes, files)
        except BaseException:
            for i, t in enumerate(temps):
                if cached[i] is None:
                    t.unlink(missing_ok=True)
            raise
        if cache is None:
            return [temps[i] if cached[i] is None else cached[i] for i in range(len(files))]  # type: ignore[misc]
        out: list[Path] = []
        for i, f in enumerate(files):
            p = cached[i]
            if p is None:
                p = cache.commit(temps[i], self.identity, name, version, f, hashes[i])
            out.append(p)
        return out

    def _scratch_dir(self) -> Path:
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="apins-nocache-"))
        d = Path(tempfile.mkdtemp(dir=self._scratch))
        return d

    # -- writing ---------------------------------------------------------------------------

    def staging_dir(self, name: str) -> Path | None:
        """A hidden scratch folder beside the pin's versions (folder boards), else None."""
        if self.read_only or not self.local:
            return None
        make = getattr(self.store, "staging_dir", None)
        return None if make is None else Path(make(join_key(name, "_") + "/"))

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyBoard(f"{self.describe()} is read-only.")

    async def store_version(
        self,
        name: str,
        meta: Meta,
        files: Sequence[tuple[str, Path]],
        *,
        replace: VersionInfo | None = None,
        progress: ProgressCallback | None = None,
        raw_meta: bytes | None = None,
    ) -> str:
        from ..stores.folder import VersionExists

        self._check_writable()
        assert meta.version is not None
        version = meta.version
        prefix = join_key(name, version) + "/"
        marker = raw_meta if raw_meta is not None else dump_meta(meta)
        await self._sweep_before_write(name)
        try:
            await self.store.commit_version(
                prefix, list(files), (DATA_TXT, marker), progress=progress
            )
        except VersionExists:
            existing = await self.read_meta(name, version)
            if existing.pin_hash != meta.pin_hash:
                raise VersionConflict(
                    f"Pin {name!r} already has a version named {version!r} with other content "
                    "(two writes in the same second). Write again."
                ) from None
            log.info("Version %s of pin %r already exists with the same content.", version, name)
        if replace is not None:
            log.info("Replacing version %r with %r of pin %r.", replace.version, version, name)
            await self._settle_unversioned(name, version)
        return version

    async def _settle_unversioned(self, name: str, mine: str) -> None:
        """After an unversioned write published ``mine``: leave exactly one version.

        The rule every concurrent unversioned writer follows once its version is visible:
        if a newer version exists, remove ours and raise VersionConflict; else remove every
        older one. For any two published versions, whichever writer lists later sees both,
        so the older one always goes and the newest alone remains, whatever the timing.
        """
        own = VersionInfo.from_name(mine)
        listed = await self.list_versions(name)
        newer = [v for v in listed if is_newer(v, own)]
        if newer:
            with contextlib.suppress(VersionNotFound):
                await self.delete_version(name, mine)
            raise VersionConflict(
                f"Another unversioned write of pin {name!r} published {newer[-1].version!r} "
                f"while this one published {mine!r}; the newer one was kept and {mine!r} "
                "removed. Write again if your content should win."
            )
        for v in listed:
            if is_newer(own, v):
                with contextlib.suppress(VersionNotFound):
                    await self.delete_version(name, v.version)

    # -- sweeping ---------------------------------------------------------------------------

    async def _sweep_before_write(self, name: str) -> None:
        """The automatic sweep: what crashed writers left in this pin, once per pin per
        board object and then from the listing the write made anyway (no extra request)."""
        if name not in self._swept:
            self._swept.add(name)
            try:
                await self.sweep(SWEEP_GRACE, name)
            except TransferError as e:
                log.warning("Could not sweep leftovers of pin %r: %s", name, e)
            return
        if self.local:
            with contextlib.suppress(OSError):
                await self.sweep(SWEEP_GRACE, name)  # a look into two folders: cheap
            return
        known = self._known_under(name + "/")
        doomed = _orphans(known, time.time() - SWEEP_GRACE)
        if doomed:
            await self._remove_orphans(doomed, known)

    def _known_under(self, prefix: str) -> list[ObjectInfo]:
        return [o for k, o in self._known.items() if k.startswith(prefix)]

    async def _remove_orphans(
        self, doomed: dict[str, list[str]], objects: Sequence[ObjectInfo]
    ) -> list[str]:
        gone: set[str] = set()
        for folder, keys in sorted(doomed.items()):
            log.info("Removing %s: a version folder without data.txt (a crashed write)", folder)
            await self.store.delete_many(keys)
            await self._drop_folders([folder])
            gone.update(keys)
            for k in keys:
                self._known.pop(k, None)
        pins = {folder.split("/")[0] + "/" for folder in doomed}
        emptied = [
            p for p in pins if not any(o.key.startswith(p) and o.key not in gone for o in objects)
        ]
        await self._drop_folders(sorted(emptied))
        return sorted(doomed)

    async def sweep(self, grace: float, name: str | None = None) -> list[str]:
        """Remove what crashed writers left (on the whole board, or in pin ``name``): staging
        folders (folder boards), version folders without data.txt and unfinished multipart
        uploads (object stores), untouched for ``grace`` seconds. Returns what was removed."""
        self._check_writable()
        if name is not None:
            validate_pin_name(name)
        if grace < 0:
            raise ValueError(f"grace must not be negative; got {grace!r}")
        local_sweep = getattr(self.store, "sweep", None)
        if self.local and local_sweep is not None:
            return list(await local_sweep(grace, name))
        prefix = "" if name is None else name + "/"
        cutoff = time.time() - grace
        objects = await self.store.list(prefix)
        for o in objects:
            self._known[o.key] = o
        removed = await self._remove_orphans(_orphans(objects, cutoff), objects)
        if isinstance(self.store, UploadListingStore):
            for up in await self.store.list_uploads(prefix):
                when = up.last_activity
                if when is not None and when.timestamp() > cutoff:
                    continue
                log.info("Aborting the unfinished upload of %s (a crashed write)", up.key)
                with contextlib.suppress(ObjectNotFound):
                    await self.store.abort_multipart(up.key, up.upload_id)
                removed.append(f"{up.key} (unfinished upload {up.upload_id})")
        return removed

    async def delete_version(self, name: str, version: str) -> None:
        self._check_writable()
        validate_pin_name(name)
        _check_version_name(name, version)  # "" would name the whole pin folder
        prefix = join_key(name, version) + "/"
        delete_prefix = getattr(self.store, "delete_prefix", None)
        if self.local and delete_prefix is not None:
            assert isinstance(self.store, LocalStore)
            if not await anyio.Path(self.store.local_path(prefix)).is_dir():
                raise VersionNotFound(f"Pin {name!r} has no version {version!r}.")
            await delete_prefix(prefix)
            return
        keys = [o.key for o in await self.store.list(prefix)]
        if not keys:
            raise VersionNotFound(f"Pin {name!r} has no version {version!r}.")
        marker = join_key(prefix, DATA_TXT)
        # data.txt first: the version disappears at once, then its files go
        if marker in keys:
            await self.store.delete_many([marker])
        await self.store.delete_many([k for k in keys if k != marker])
        await self._drop_folders([prefix])

    async def _drop_folders(self, folders: Sequence[str]) -> None:
        """Delete the keys ``<folder>/`` of emptied folders (a no-op where there are none).

        Deleting the objects is not always enough for a folder to leave delimited listings
        (what pins-python and R use): SeaweedFS keeps the emptied directory, listed as a
        common prefix, until its own key is deleted.
        """
        await self.store.delete_many(list(folders))

    async def delete_pin(self, name: str) -> None:
        self._check_writable()
        validate_pin_name(name)
        delete_prefix = getattr(self.store, "delete_prefix", None)
        if self.local and delete_prefix is not None:
            await delete_prefix(name + "/")
            return
        keys = [o.key for o in await self.store.list(name + "/")]
        markers = [k for k in keys if k.endswith("/" + DATA_TXT)]
        await self.store.delete_many(markers)
        await self.store.delete_many([k for k in keys if k not in set(markers)])
        folders = {k.rsplit("/", 1)[0] + "/" for k in keys}
        await self._drop_folders(sorted(folders, key=len, reverse=True))
        await self._drop_folders([name + "/"])

    async def write_manifest(self) -> dict[str, list[str]]:
        self._check_writable()
        found = await self._complete_versions("")
        manifest = {
            pin: [
                f"{pin}/{v.version}/" for v in sort_versions([VersionInfo.from_name(x) for x in vs])
            ]
            for pin, vs in sorted(found.items())
        }
        await self.store.put_bytes(MANIFEST, dump_manifest(manifest))
        return manifest

    async def aclose(self) -> None:
        await self.store.aclose()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


def _orphans(objects: Sequence[ObjectInfo], cutoff: float) -> dict[str, list[str]]:
    """``<pin>/<version>/`` folders that have objects but no data.txt, none of them
    modified after ``cutoff`` (epoch seconds): folder → its keys."""
    folders: dict[str, list[ObjectInfo]] = {}
    for o in objects:
        parts = o.key.split("/")
        if len(parts) >= 3 and parts[0] and parts[1] and not parts[0].startswith("."):
            folders.setdefault(f"{parts[0]}/{parts[1]}/", []).append(o)
    doomed: dict[str, list[str]] = {}
    for folder, objs in folders.items():
        if any(o.key == folder + DATA_TXT for o in objs):
            continue
        stamps = [o.last_modified for o in objs]
        if all(t is not None and t.timestamp() <= cutoff for t in stamps):
            doomed[folder] = [o.key for o in objs]
    return doomed


def _check_version_name(name: str, version: Any) -> None:
    """A version is one non-empty path segment; anything else names no version."""
    if (
        not isinstance(version, str)
        or version in ("", ".", "..")
        or "/" in version
        or "\\" in version
        or not _is_safe(version)
    ):
        raise VersionNotFound(f"Pin {name!r} has no version {version!r}.")


def _safe_files(name: str, version: str, files: Sequence[str]) -> list[str]:
    """The data file names of a version, each checked before any request or file access."""
    what = f"data.txt of pin {name!r} version {version!r}"
    return [safe_relative(f, what=what) for f in files]


def _is_safe(segment: str) -> bool:
    try:
        safe_relative(segment, what="a version")
    except InvalidMetadata:
        return False
    return True


async def _hash_all(paths: Sequence[Path]) -> list[str]:
    """Hash local files in threads, without re-reading files unchanged since last hashed."""
    from .._hash_memo import remembered_xxh64

    out = [""] * len(paths)

    async def one(i: int) -> None:
        out[i] = await anyio.to_thread.run_sync(remembered_xxh64, paths[i])

    with collapsed():
        async with anyio.create_task_group() as tg:
            for i in range(len(paths)):
                tg.start_soon(one, i)
    return out


def _warn_offline(err: Any) -> None:
    warnings.warn(
        f"The board could not be reached ({err}); using what the cache holds (offline mode).",
        RuntimeWarning,
        stacklevel=3,
    )
