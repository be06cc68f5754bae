"""Copying one version between boards, as bytes, by the fastest route the two boards allow.

Routes, tried in this order:

* server-side: both boards are object stores on one endpoint (``CopyStore.copy_from``), so
  data files are copied by the server (CopyObject / UploadPartCopy) and no object bytes pass
  through the client; then data.txt is written, last;
* streamed: the source is a remote path board (S3, URL): each file is downloaded (ranges,
  retries, XXH64 on the fly) into a temp folder (on a folder target: a hidden folder beside
  the version, so that publishing is a rename) and checked against ``pin_hash``;
* fetched: anything else (folder, Connect): the source backend's ``fetch_files``, which
  verifies every file.

Streamed and fetched versions are published by the target backend's ``store_version`` with the
source's data.txt bytes, so the target's commit rule holds (folder: atomic rename; object
stores: data.txt last; Connect: one bundle).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.to_thread

from .._one_error import collapsed
from ..backends.base import Backend
from ..backends.path import DATA_TXT, PathBackend
from ..errors import StoreAccessError, TransferError
from ..hashing import verify_pin_hash
from ..meta import AnyMeta, Meta, parse_meta
from ..stores.base import CopyStore, ProgressCallback, ProgressEvent, join_key
from ..stores.folder import TMP_PREFIX
from .plan import SideVersion


@dataclass(frozen=True, slots=True)
class Copied:
    """Bytes of data files copied, and how many of them were copied server-side."""

    bytes: int
    server_side: int = 0


def _meta_for_store(meta: AnyMeta, version: str) -> Meta:
    """A Meta for ``store_version`` (the data.txt bytes themselves are passed separately)."""
    if isinstance(meta, Meta):
        meta.version = version
        return meta
    return Meta(file=meta.file, pin_hash=meta.pin_hash, version=version)


class VersionCopier:
    """Copies versions from ``source`` to ``target``; file transfers share ``files``."""

    def __init__(
        self,
        source: Backend,
        target: Backend,
        files: anyio.CapacityLimiter,
        progress: ProgressCallback | None,
    ) -> None:
        self.source = source
        self.target = target
        self.files = files
        self.progress = progress
        self._scratch: Path | None = None
        self._server_side = (
            type(source) is PathBackend
            and isinstance(target, PathBackend)
            and not source.local
            and not target.local
            and isinstance(target.store, CopyStore)
        )

    async def aclose(self) -> None:
        """Remove the scratch folder."""
        if self._scratch is not None:
            await anyio.to_thread.run_sync(shutil.rmtree, self._scratch, True)
            self._scratch = None

    async def copy(self, pin: str, sv: SideVersion, tpin: str) -> Copied:
        """Copy one version; return what moved. Raises on any failure, leaving nothing visible."""
        raw = await self.source.read_meta_raw(pin, sv.id)
        meta = parse_meta(raw, name=pin, version=sv.id)
        if self._server_side:
            done = await self._server_copy(pin, sv, tpin, meta, raw)
            if done is not None:
                return done
            self._server_side = False  # not on one endpoint: stream from now on
        src = self.source
        if type(src) is PathBackend and not src.local:  # plain key layout (not URL boards)
            return await self._streamed(src, pin, sv, tpin, meta, raw)
        return await self._fetched(pin, sv, tpin, meta, raw)

    # -- server-side -----------------------------------------------------------------------

    async def _server_copy(
        self, pin: str, sv: SideVersion, tpin: str, meta: AnyMeta, raw: bytes
    ) -> Copied | None:
        source, target = self.source, self.target
        assert isinstance(source, PathBackend) and isinstance(target, PathBackend)
        sstore, tstore = source.store, target.store
        assert isinstance(tstore, CopyStore)
        names = meta.files
        sizes: list[int | None] = [None] * len(names)
        copied: list[str] = []

        async def one(i: int) -> None:
            src_key = join_key(pin, sv.id, names[i])
            key = join_key(tpin, sv.name, names[i])
            try:
                async with self.files:
                    info = await tstore.copy_from(
                        sstore, src_key, key, info=source.known_info(src_key)
                    )
            except StoreAccessError:
                info = None  # the target's credentials cannot read the source: stream instead
            if info is None:
                return
            copied.append(key)
            expected = meta.file_sizes[i] if isinstance(meta, Meta) else None
            if expected is not None and info.size != expected:
                raise TransferError(
                    f"server-side copy of {src_key} gave {info.size} bytes; data.txt says "
                    f"{expected}"
                )
            sizes[i] = info.size
            if self.progress is not None:
                self.progress(ProgressEvent(key, info.size, info.size, "copy", finished=True))

        try:
            with collapsed():
                async with anyio.create_task_group() as tg:
                    for i in range(len(names)):
                        tg.start_soon(one, i)
            if any(s is None for s in sizes):
                await tstore.delete_many(copied)
                return None
            await tstore.put_bytes(join_key(tpin, sv.name, DATA_TXT), raw)  # last: now visible
        except BaseException:
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await tstore.delete_many(copied)
            raise
        return Copied(sum(s or 0 for s in sizes), server_side=len(names))

    # -- streamed from a remote path board -------------------------------------------------

    async def _staging(self, tpin: str, version: str) -> Path:
        target = self.target
        staging_dir = getattr(getattr(target, "store", None), "staging_dir", None)
        if target.local and staging_dir is not None:
            # beside the version on the target's file system: store_version renames, no copy
            prefix = join_key(tpin, version) + "/"
            return Path(await anyio.to_thread.run_sync(staging_dir, prefix))
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="apins-mirror-"))
        return Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=self._scratch))

    async def _streamed(
        self, src: PathBackend, pin: str, sv: SideVersion, tpin: str, meta: AnyMeta, raw: bytes
    ) -> Copied:
        from ..transfer.download import download

        names = meta.files
        staging = await self._staging(tpin, sv.name)
        try:
            paths = [staging.joinpath(*n.split("/")) for n in names]
            hashes = [""] * len(names)
            sizes = [0] * len(names)

            async def one(i: int) -> None:
                paths[i].parent.mkdir(parents=True, exist_ok=True)
                async with self.files:
                    result = await download(
                        src.store,
                        join_key(pin, sv.id, names[i]),
                        paths[i],
                        info=src.known_info(join_key(pin, sv.id, names[i])),
                        settings=src.settings,
                        progress=self.progress,
                        limiter=src.limiter,
                    )
                hashes[i], sizes[i] = result.xxh64, result.info.size

            with collapsed():
                async with anyio.create_task_group() as tg:
                    for i in range(len(names)):
                        tg.start_soon(one, i)
            verify_pin_hash(pin, meta.pin_hash, hashes, names)
            await self.target.store_version(
                tpin,
                _meta_for_store(meta, sv.name),
                list(zip(names, paths, strict=True)),
                progress=self.progress,
                raw_meta=raw,
            )
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(shutil.rmtree, staging, True)
        return Copied(sum(sizes))

    # -- anything else: fetch_files --------------------------------------------------------

    async def _fetched(
        self, pin: str, sv: SideVersion, tpin: str, meta: AnyMeta, raw: bytes
    ) -> Copied:
        async with self.files:
            paths = await self.source.fetch_files(pin, sv.id, meta, progress=self.progress)
        names = meta.files
        await self.target.store_version(
            tpin,
            _meta_for_store(meta, sv.name),
            list(zip(names, paths, strict=True)),
            progress=self.progress,
            raw_meta=raw,
        )
        sizes = await anyio.to_thread.run_sync(lambda: [p.stat().st_size for p in paths])
        return Copied(sum(sizes))
