"""UrlBackend: a read-only pins board served as static files over HTTP(S).

It is a :class:`PathBackend` whose listing comes from a ``_pins.yaml`` manifest (R's
board_url) or from a dict of pin URLs (pins-python's board_url), instead of a store listing.

Caching rules:

* the manifest, a dict pin folder's data.txt and a raw file's validators are *mutable*: kept
  with their ETag / Last-Modified and revalidated by a conditional request (304 → served from
  the cache, no body), or served with no request at all within ``max_age`` seconds;
* version folders named by a manifest (or a dict list) are *immutable*: once cached, their
  files are served with no request, like every other remote board;
* a dict pin folder's files are cached under its ``pin_hash``: a changed pin downloads anew,
  an unchanged one does not.

If the server cannot be reached, cached manifests and metadata are served with a warning.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import anyio
import anyio.to_thread

from ..cache import Cache, Validated
from ..errors import (
    InvalidMetadata,
    InvalidPinName,
    ObjectChanged,
    OfflineError,
    PinNotFound,
    TransferError,
    VersionNotFound,
)
from ..meta import AnyMeta, Meta, dump_meta, parse_created, parse_manifest, parse_meta
from ..names import validate_pin_name
from ..settings import TransferSettings
from ..stores._urls import basename, folder_of, public_url, resolve_inside
from ..stores.base import NotModified, ObjectInfo, ProgressCallback
from ..stores.http import HTTPStore, http_date
from ..transfer.retry import offline_probe, with_retries
from ..versions import VersionInfo, version_name
from .path import DATA_TXT, MANIFEST, PathBackend, _warn_offline

if TYPE_CHECKING:
    from ..transfer.download import DownloadResult

log = logging.getLogger("apins")
_cache_log = logging.getLogger("apins.cache")

#: the one version of a raw-file pin (it has no data.txt to name a version)
RAW_VERSION = "latest"
_HEX = re.compile(r"[0-9a-fA-F]{1,64}")
_FOLDER = ".folder"
_RAW = ".raw"


@dataclass(frozen=True, slots=True)
class PinSource:
    """Where one pin lives: immutable version folders, one mutable folder, or one raw file."""

    kind: Literal["versions", "folder", "file"]
    urls: tuple[str, ...]


def _version_of_folder(url: str) -> str:
    version = basename(url)
    if not version or version in (".", "..") or any(ord(c) < 32 for c in version):
        raise InvalidMetadata(f"Cannot name a version after the folder {public_url(url)!r}.")
    return version


class UrlBackend(PathBackend):
    """Pins on an HTTP server, listed by a manifest or by a fixed dict of URLs."""

    store: HTTPStore

    def __init__(
        self,
        store: HTTPStore,
        *,
        manifest_url: str | None = None,
        pins: Mapping[str, PinSource] | None = None,
        cache: Cache | None = None,
        settings: TransferSettings | None = None,
        max_age: float | None = None,
        allow_external: bool = False,
        description: str | None = None,
    ) -> None:
        super().__init__(store, cache=cache, settings=settings, description=description)
        self.manifest_url = manifest_url
        self.max_age = max_age
        self.allow_external = allow_external
        self._static = dict(pins or {})
        self._loaded: dict[str, PinSource] | None = None
        self._generation = 0
        self._lock: anyio.Lock | None = None
        #: dict pin folder → (version, data.txt bytes) of its last validated data.txt
        self._folder_memo: dict[str, tuple[str, bytes]] = {}
        if manifest_url is not None:
            store.route(MANIFEST, manifest_url)
        for name, src in self._static.items():
            self._mount(name, src)

    def _mount(self, name: str, src: PinSource) -> None:
        if src.kind == "versions":
            for url in src.urls:
                self.store.mount(f"{name}/{_version_of_folder(url)}/", url)
        elif src.kind == "folder":
            self.store.mount(f"{name}/{_FOLDER}/", src.urls[0])
        else:
            self.store.route(f"{name}/{_RAW}", src.urls[0])

    # -- mutable resources -------------------------------------------------------------------

    def _fresh(self, v: Validated | None) -> bool:
        fresh = (
            v is not None and self.max_age is not None and time.time() - v.fetched_at < self.max_age
        )
        if fresh:
            _cache_log.debug("cache copy younger than max_age=%ss: not revalidated", self.max_age)
        return fresh

    async def _fetch_validated(
        self, key: str, url: str, what: str, *, strict: bool = False
    ) -> bytes:
        """The body of a mutable resource: cached, revalidated, or fetched anew.

        ``strict`` (pin_watch): always ask the server (a conditional request when cached),
        and raise instead of serving the cached copy when it cannot be reached.
        """
        cache = self.cache
        v = cache.get_validated(self.identity, url) if cache is not None else None
        if v is not None and self._fresh(v) and not strict:
            return await anyio.Path(v.path).read_bytes()

        async def once() -> tuple[ObjectInfo, bytes]:
            async with self.limiter:
                stream = await self.store.open_read(
                    key,
                    if_none_match=v.etag if v else None,
                    if_modified_since=v.last_modified if v else None,
                )
                try:
                    data = b"".join([c async for c in stream.chunks(self.settings.chunk_size)])
                finally:
                    await stream.aclose()
            return stream.info, data

        try:
            with offline_probe(v is not None):
                info, data = await with_retries(
                    once, settings=self.settings, what=f"reading {what}"
                )
        except NotModified:
            assert cache is not None and v is not None
            await anyio.to_thread.run_sync(cache.refresh_validated, self.identity, url)
            return await anyio.Path(v.path).read_bytes()
        except TransferError as e:
            if strict:
                raise
            if v is None:
                raise OfflineError(
                    f"Cannot read {what} at {public_url(url)} ({e}), and the cache holds no copy."
                ) from e
            _warn_offline(e)
            return await anyio.Path(v.path).read_bytes()
        if cache is not None:
            modified = http_date(info.last_modified) if info.last_modified else None
            await anyio.to_thread.run_sync(
                cache.put_validated, self.identity, url, data, info.etag, modified
            )
        return data

    # -- listing -----------------------------------------------------------------------------

    async def _sources(self, *, strict: bool = False) -> dict[str, PinSource]:
        """pin → source: the dict given, or the manifest (revalidated; one fetch at a time)."""
        if self.manifest_url is None:
            return self._static
        if self._lock is None:
            self._lock = anyio.Lock()
        seen = self._generation
        async with self._lock:
            if self._generation != seen and self._loaded is not None and not strict:
                return self._loaded  # a fetch finished while we waited: share it
            raw = await self._fetch_validated(
                MANIFEST, self.manifest_url, "the board manifest", strict=strict
            )
            loaded = self._parse_manifest(raw)
            self._loaded = loaded
            self._generation += 1
            return loaded

    def _parse_manifest(self, raw: bytes) -> dict[str, PinSource]:
        assert self.manifest_url is not None
        folder = folder_of(self.manifest_url)
        out: dict[str, PinSource] = {}
        for name, entries in parse_manifest(raw).items():
            try:
                validate_pin_name(name)
            except InvalidPinName as e:
                raise InvalidMetadata(f"_pins.yaml lists an invalid pin name: {e}") from None
            urls: list[str] = []
            for entry in entries:
                entry = entry if entry.endswith("/") else entry + "/"
                url = resolve_inside(
                    folder, entry, allow_external=self.allow_external, what="_pins.yaml"
                )
                if url not in urls:
                    urls.append(url)
            src = PinSource("versions", tuple(urls))
            self._mount(name, src)
            out[name] = src
        return out

    async def _source(self, name: str) -> PinSource:
        validate_pin_name(name)
        src = (await self._sources()).get(name)
        if src is None:
            raise PinNotFound(f"Pin {name!r} is not on this board ({self.describe()}).")
        return src

    async def list_pins(self) -> list[str]:
        return sorted(await self._sources())

    async def latest_versions(self) -> dict[str, VersionInfo]:
        """The last listed version of every pin (the manifest is read once)."""
        return {name: (await self.list_versions(name))[-1] for name in await self.list_pins()}

    async def list_versions(self, name: str) -> list[VersionInfo]:
        """Versions in the manifest's (or list's) order: the last one is the latest, as in R."""
        src = await self._source(name)
        if src.kind == "file":
            return [VersionInfo.from_name(RAW_VERSION)]
        if src.kind == "folder":
            version, _ = await self._folder_meta(name, src)
            return [VersionInfo.from_name(version)]
        return [VersionInfo.from_name(_version_of_folder(u)) for u in src.urls]

    async def poll_versions(self, name: str, newest: str | None) -> list[VersionInfo] | None:
        """For pin_watch: one conditional GET of ``_pins.yaml`` (a dict pin folder: of its
        data.txt), 304 when unchanged; a raw-file pin has one version and costs nothing."""
        validate_pin_name(name)
        if self.manifest_url is not None:
            src = (await self._sources(strict=True)).get(name)
        else:
            src = self._static.get(name)
        if src is None:
            raise PinNotFound(f"Pin {name!r} is not on this board ({self.describe()}).")
        if src.kind == "folder":
            version, _ = await self._folder_meta(name, src, strict=True)
            return [VersionInfo.from_name(version)]
        if src.kind == "file":
            return [VersionInfo.from_name(RAW_VERSION)]
        return [VersionInfo.from_name(_version_of_folder(u)) for u in src.urls]

    def meta_is_immutable(self, name: str, version: str) -> bool:
        """Version folders named by a manifest or a list never change; a dict pin's single
        folder or raw file may."""
        if self.manifest_url is not None:
            return True
        src = self._static.get(name)
        return src is not None and src.kind == "versions"

    # -- metadata ----------------------------------------------------------------------------

    async def _folder_meta(
        self, name: str, src: PinSource, *, strict: bool = False
    ) -> tuple[str, bytes]:
        """Revalidate a dict pin folder's data.txt; return (its version, its bytes)."""
        raw = await self._fetch_validated(
            f"{name}/{_FOLDER}/{DATA_TXT}", src.urls[0] + DATA_TXT, f"data.txt of pin {name!r}",
            strict=strict,
        )  # fmt: skip
        meta = parse_meta(raw, name=name)
        version = _version_of_folder(src.urls[0])
        if isinstance(meta, Meta) and meta.created and meta.pin_hash:
            version = version_name(parse_created(meta.created), meta.pin_hash)
        self._folder_memo[name] = (version, raw)
        return version, raw

    def _dict_source(self, name: str) -> PinSource | None:
        """The source of a dict-form pin (None on a manifest board); raises PinNotFound."""
        validate_pin_name(name)
        if self.manifest_url is not None:
            return None
        src = self._static.get(name)
        if src is None:
            raise PinNotFound(f"Pin {name!r} is not on this board ({self.describe()}).")
        return src

    @staticmethod
    def _raw_meta(name: str, src: PinSource) -> Meta:
        """R's metadata for a raw-file pin: just its file name and type ``file``."""
        return Meta(
            file=basename(src.urls[0]) or name, type="file", api_version=1, name=name,
            version=RAW_VERSION, local={"version": RAW_VERSION, "url": public_url(src.urls[0])},
        )  # fmt: skip

    async def read_meta_raw(self, name: str, version: str) -> bytes:
        src = self._dict_source(name)
        if src is not None and src.kind == "file":
            if version != RAW_VERSION:
                raise VersionNotFound(f"Pin {name!r} is a single file with no version {version!r}.")
            return dump_meta(self._raw_meta(name, src))
        if src is not None and src.kind == "folder":
            memo = self._folder_memo.get(name)
            if memo is None or memo[0] != version:
                memo = await self._folder_meta(name, src)
            if memo[0] != version:
                raise VersionNotFound(
                    f"Pin {name!r} has no version {version!r}; its folder now holds {memo[0]!r}."
                )
            return memo[1]
        return await super().read_meta_raw(name, version)

    async def read_meta(self, name: str, version: str) -> AnyMeta:
        src = self._dict_source(name)
        if src is not None and src.kind == "file":
            await self.read_meta_raw(name, version)  # checks the version
            return self._raw_meta(name, src)
        meta = await super().read_meta(name, version)
        folder = src.urls[0] if src is not None else self.store.url_for(f"{name}/{version}/")
        meta.local["url"] = public_url(folder)
        return meta

    async def _ensure_mounted(self, name: str, version: str) -> None:
        prefix = f"{name}/{version}/"
        if not self.store.is_mounted(prefix) and self.manifest_url is not None:
            await self._sources()
        if not self.store.is_mounted(prefix):
            raise VersionNotFound(f"Pin {name!r} has no version {version!r} on this board.")

    async def _get_bytes(self, key: str, limit: int | None = None) -> bytes:
        name, version, _ = key.split("/", 2)
        await self._ensure_mounted(name, version)
        return await super()._get_bytes(key, limit)

    # -- files -------------------------------------------------------------------------------

    async def fetch_files(
        self,
        name: str,
        version: str,
        meta: AnyMeta,
        *,
        progress: ProgressCallback | None = None,
        private: bool = False,
    ) -> list[Path]:
        src = self._static.get(name) if self.manifest_url is None else None
        if src is not None and src.kind == "file":
            return [await self._fetch_raw(name, src.urls[0], progress, private=private)]
        if src is not None and src.kind == "folder":
            slot = self._folder_slot(name, meta)
            self.store.mount(f"{name}/{slot}/", src.urls[0])
            return await self._fetch_guarded(name, slot, meta, progress, private)
        cache = None if private else self.cache
        if cache is None or not all(
            cache.lookup(self.identity, name, version, f) for f in meta.files
        ):
            await self._ensure_mounted(name, version)
        return await self._fetch_guarded(name, version, meta, progress, private)

    def _folder_slot(self, name: str, meta: AnyMeta) -> str:
        """Cache slot of a mutable folder's files: its pin_hash (or its data.txt's digest)."""
        if meta.pin_hash and _HEX.fullmatch(meta.pin_hash):
            return f"h-{meta.pin_hash.lower()}"
        raw = self._folder_memo.get(name, ("", b""))[1]
        return "d-" + hashlib.sha256(raw).hexdigest()[:24]

    async def _fetch_guarded(
        self,
        name: str,
        version: str,
        meta: AnyMeta,
        progress: ProgressCallback | None,
        private: bool = False,
    ) -> list[Path]:
        """Fetch a version's files; a file replaced mid-download is fetched once more."""
        fetch = functools.partial(self._fetch_remote, private=private)
        try:
            return await fetch(name, version, meta, meta.files, progress)
        except ObjectChanged as e:
            log.info("%s; downloading pin %r again from the start.", e, name)
            return await fetch(name, version, meta, meta.files, progress)

    async def _fetch_raw(
        self, name: str, url: str, progress: ProgressCallback | None, *, private: bool = False
    ) -> Path:
        """A raw-file pin: revalidated by a conditional HEAD, cached under its validators."""
        key = f"{name}/{_RAW}"
        filename = basename(url) or name
        cache = None if private else self.cache
        if cache is None:
            dest = self._scratch_dir() / filename
            await self._download_guarded(key, dest, None, progress)
            return dest
        v = cache.get_validated(self.identity, url)
        hit: Path | None = None
        if v is not None:
            slot = json.loads(await anyio.Path(v.path).read_text("utf-8")).get("slot", "")
            hit = cache.lookup(self.identity, name, slot, filename) if slot else None
        if hit is not None and self._fresh(v):
            return hit
        try:
            with offline_probe(hit is not None):
                info = await self.store.head(
                    key,
                    if_none_match=v.etag if hit is not None and v else None,
                    if_modified_since=v.last_modified if hit is not None and v else None,
                )
        except NotModified:
            assert hit is not None
            await anyio.to_thread.run_sync(cache.refresh_validated, self.identity, url)
            return hit
        except TransferError as e:
            if hit is None:
                raise OfflineError(
                    f"Cannot reach {public_url(url)} ({e}), and the cache holds no copy."
                ) from e
            _warn_offline(e)
            return hit
        slot = None
        if info.etag or info.last_modified:
            tag = f"{info.etag}|{info.last_modified}|{info.size}"
            slot = "f-" + hashlib.sha256(tag.encode()).hexdigest()[:24]
            found = cache.lookup(self.identity, name, slot, filename)
            if found is not None:
                await self._remember_raw(cache, url, slot, info)
                return found
        tmp = cache.temp_path(self.identity)
        try:
            result = await self._download_guarded(key, tmp, info, progress)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if slot is None:  # no validators: keep it under its content hash, never revalidate
            return cache.commit(
                tmp, self.identity, name, "x-" + result.xxh64, filename, result.xxh64
            )
        path = cache.commit(tmp, self.identity, name, slot, filename, result.xxh64)
        await self._remember_raw(cache, url, slot, result.info)
        return path

    async def _download_guarded(
        self, key: str, dest: Path, info: ObjectInfo | None, progress: ProgressCallback | None
    ) -> DownloadResult:
        """Download one file; if it is replaced mid-download, start once more from scratch."""
        from ..transfer.download import download

        try:
            return await download(
                self.store, key, dest, settings=self.settings, info=info, progress=progress,
                limiter=self.limiter,
            )  # fmt: skip
        except ObjectChanged as e:
            log.info("%s; downloading it again from the start.", e)
            return await download(
                self.store, key, dest, settings=self.settings, progress=progress,
                limiter=self.limiter,
            )  # fmt: skip

    async def _remember_raw(self, cache: Cache, url: str, slot: str, info: ObjectInfo) -> None:
        modified = http_date(info.last_modified) if info.last_modified else None
        body = json.dumps({"slot": slot}).encode()
        await anyio.to_thread.run_sync(
            cache.put_validated, self.identity, url, body, info.etag, modified
        )


def source_for(url: str | Sequence[str]) -> PinSource:
    """Classify a dict value: a folder URL ('/' at the end), a raw file, or version folders."""
    if isinstance(url, str):
        return PinSource("folder" if url.endswith("/") else "file", (url,))
    urls = tuple(u if u.endswith("/") else u + "/" for u in url)
    if not urls:
        raise ValueError("A pin's list of version URLs must not be empty.")
    return PinSource("versions", urls)
