"""Board: every pin verb, once, over any Backend (folder, S3, URL, Connect)."""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from . import _redact
from ._deadline import bounded
from ._one_error import collapsed, public_verb
from ._write_options import ACCESS_TYPES, write_access_type
from .backends.base import Backend
from .errors import (
    BoardNotFound,
    InvalidPinName,
    PickleNotAllowed,
    PinNotFound,
    PinsError,
    ReadOnlyBoard,
    UnsupportedType,
    VersionNotFound,
)
from .hashing import HashingWriter, check_requested_hash, file_xxh64, pin_hash
from .meta import AnyMeta, Meta, MetaV0, format_created, parse_created
from .names import check_data_file_name, validate_pin_name
from .stores.base import LocalStore, ProgressCallback
from .transfer.progress import Progress, progress_scope
from .versions import VersionInfo, WriteAction, select_prune, version_name, write_action

if TYPE_CHECKING:
    from .formats import Output
    from .watch import PinWatch

log = logging.getLogger("apins.board")

#: pin_read's tries when a concurrent cache_prune removes a cached file under it: from the
#: cache, then re-fetched and held by hard links, then downloaded past the cache (which no
#: prune can take away)
_READ_ATTEMPTS = 3

Version = VersionInfo


#: files up to this size (in all) are parsed on the event loop: a thread hop costs more
#: than parsing them (a 10-row parquet file is 4 KiB; larger ones, or slow formats such as
#: rds, would hold the loop too long)
_INLINE_PARSE = 64 * 1024


async def _parse(read: Callable[[], Any], paths: Sequence[Path]) -> Any:
    """``read()``: at once for small files (well under a millisecond), else in a thread."""
    try:
        size = sum(os.stat(p).st_size for p in paths)
    except OSError:
        size = _INLINE_PARSE + 1  # let the reader meet (and report) the problem, in a thread
    if size <= _INLINE_PARSE:
        return read()
    return await anyio.to_thread.run_sync(read)


def _env_allow_pickle() -> bool:
    raw = os.environ.get("PINS_ALLOW_PICKLE_READ")
    if raw is None or raw.strip() == "":
        return False
    try:
        return bool(int(raw))
    except ValueError:
        raise PinsError(f"PINS_ALLOW_PICKLE_READ must be 0 or 1, not {raw!r}.") from None


class Board:
    """A board of pins. Create one with :func:`apins.board_folder`, :func:`apins.board_s3`, ...

    Constructors do no I/O. Use ``async with`` (or ``await board.aclose()``) to release
    connections and temporary files.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        versioned: bool = True,
        allow_pickle_read: bool | None = None,
        meta_concurrency: int = 16,
        cleanup: Path | None = None,
        output: Output | None = None,
        progress: Progress = False,
    ) -> None:
        # before any request: records of apins and its clients are scrubbed as they are made
        _redact.install()
        self._backend = backend
        self.versioned = versioned
        self.allow_pickle_read = allow_pickle_read
        #: what ``pin_read`` returns for tables when it is not given ``output=``
        self.output: Output | None = output
        #: the ``progress=`` of transfer verbs that are not given one (True: a tqdm bar)
        self.progress: Progress = progress
        self._meta_concurrency = meta_concurrency
        self._cleanup = cleanup

    def __repr__(self) -> str:
        return f"<apins.Board {self._backend.describe()}>"

    @property
    def backend(self) -> Backend:
        return self._backend

    @property
    def deadline(self) -> float | None:
        """Seconds each verb may take (``TransferSettings.deadline``), None for no limit."""
        settings = getattr(self._backend, "settings", None)
        return getattr(settings, "deadline", None)

    def board_deparse(self) -> str:
        """A constructor call that recreates this board (no secrets)."""
        return self._backend.describe()

    async def __aenter__(self) -> Board:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @public_verb
    async def aclose(self) -> None:
        """Close connections and remove what this board created temporarily."""
        await self._backend.aclose()
        if self._cleanup is not None:
            await anyio.to_thread.run_sync(shutil.rmtree, self._cleanup, True)

    # -- listing ---------------------------------------------------------------------------

    @public_verb
    @bounded
    async def pin_exists(self, name: str) -> bool:
        """True if the board has a pin called ``name`` with at least one complete version."""
        return await self._backend.pin_exists(name)

    @public_verb
    @bounded
    async def pin_list(self) -> list[str]:
        """Names of every pin on the board, sorted."""
        return await self._backend.list_pins()

    @public_verb
    @bounded
    async def pin_versions(self, name: str, as_df: bool = False) -> Any:
        """The complete versions of a pin, oldest first (a pandas DataFrame with ``as_df``)."""
        versions = await self._backend.list_versions(name)
        if not as_df:
            return versions
        import pandas as pd

        return pd.DataFrame(
            [{"created": v.created, "hash": v.hash, "version": v.version} for v in versions]
        )

    @public_verb
    @bounded
    async def pin_meta(self, name: str, version: str | None = None) -> AnyMeta:
        """The metadata (data.txt) of the latest version, or of ``version``."""
        return await self._meta(name, await self._key_name(name), version)

    async def _key_name(self, name: str) -> str:
        """The pin's name as a key of shared reads: Connect's bare names get their owner."""
        resolve = getattr(self._backend, "resolve_write_name", None)
        if resolve is None:
            return name
        full, _ = await resolve(name)
        return str(full)

    async def _meta(self, name: str, key_name: str, version: str | None) -> AnyMeta:
        """pin_meta with concurrent calls shared (see docs/services.md).

        "Which version is the latest" is asked of the board on every call (callers that
        overlap share one request that started after they arrived); a named version's
        parsed data.txt comes from the process's memo when the version is immutable.
        """
        from ._flight import FLIGHTS
        from ._memo import METAS

        backend = self._backend
        ident = backend.identity
        if version is None:
            latest = await FLIGHTS.run(
                ("latest", ident, key_name), lambda: backend.latest_version(name), fresh=True
            )
            version = latest.version
        remember = not backend.local and getattr(backend, "meta_is_immutable", _always)(
            name, version
        )
        key = (ident, key_name, version)
        if remember:
            hit = METAS.get(key)
            if hit is not None:
                return hit
        meta = await FLIGHTS.run(("meta", *key), lambda: backend.read_meta(name, version))
        if remember:
            METAS.put(key, meta)
        return copy.deepcopy(meta)  # callers that shared the read each get their own

    async def _files(
        self, name: str, key_name: str, meta: AnyMeta, progress: ProgressCallback | None
    ) -> list[Path]:
        """fetch_files, one run for every concurrent caller of the same version."""
        from ._flight import FLIGHTS

        version = meta.version or ""
        key = ("files", self._backend.identity, key_name, version, meta.pin_hash or "")
        paths = await FLIGHTS.run(
            key, lambda: self._backend.fetch_files(name, version, meta, progress=progress)
        )
        return list(paths)

    def _forget(self, key_name: str, version: str | None = None) -> None:
        from ._memo import METAS

        METAS.forget(self._backend.identity, key_name, version)

    @public_verb
    @bounded
    async def pin_search(self, search: str | None = None, as_df: bool = False) -> Any:
        """Metadata of the pins whose name or title matches the regex ``search`` (all if None).

        Metadata is fetched concurrently (bounded); a pin whose metadata cannot be read is
        skipped with a warning in the log.
        """
        searcher = getattr(self._backend, "search_pins", None)
        latest = getattr(self._backend, "latest_versions", None)
        if searcher is not None:
            metas: list[AnyMeta] = await searcher(search)
        elif latest is not None:
            # one listing for the whole board, then every data.txt concurrently
            versions: dict[str, VersionInfo] = await latest()
            metas = await self._gather_meta(list(versions), versions)
        else:
            metas = await self._gather_meta(await self.pin_list(), {})
        if search is not None:
            try:
                rx = re.compile(search)
            except re.error as e:
                raise PinsError(
                    f"pin_search: {search!r} is not a valid regular expression: {e}"
                ) from None
            metas = [m for m in metas if rx.search(m.name or "") or rx.search(m.title or "")]
        if not as_df:
            return metas
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "name": m.name,
                    "type": m.types[0] if m.types else None,
                    "title": m.title,
                    "created": m.created_datetime,
                    "file_size": m.total_size,
                    "meta": m,
                }
                for m in metas
            ]
        )

    async def _gather_meta(
        self, names: Sequence[str], versions: Mapping[str, VersionInfo]
    ) -> list[AnyMeta]:
        out: list[AnyMeta | None] = [None] * len(names)
        limit = anyio.Semaphore(self._meta_concurrency)

        async def one(i: int) -> None:
            async with limit:
                try:
                    known = versions.get(names[i])
                    if known is None:
                        out[i] = await self.pin_meta(names[i])
                    else:
                        out[i] = await self._backend.read_meta(names[i], known.version)
                except PinsError as e:
                    log.warning("Skipping pin %r in search: %s", names[i], e)

        with collapsed():
            async with anyio.create_task_group() as tg:
                for i in range(len(names)):
                    tg.start_soon(one, i)
        return [m for m in out if m is not None]

    def pin_watch(self, name: str, *, interval: float = 1.0, retries: int = 5) -> PinWatch:
        """Watch a pin: ``async for meta in board.pin_watch(name)`` yields the latest
        version's metadata, then that of every newer version, oldest first.

        The board is polled every ``interval`` seconds (one listing or one conditional
        request; see docs/services.md). Versions written between two polls all come out, in
        order; one deleted before it was seen is skipped. A failing poll is tried again
        ``retries`` times with growing waits, then its PinsError comes out of the loop.
        Nothing runs between iterations: cancel the task, or stop iterating, and it stops.
        """
        from .watch import PinWatch

        return PinWatch(self, name, interval=interval, retries=retries)

    # -- reading ---------------------------------------------------------------------------

    @public_verb
    @bounded
    async def pin_read(
        self,
        name: str,
        version: str | None = None,
        hash: str | None = None,
        *,
        output: Output | None = None,
        type: str | None = None,
        progress: Progress = None,
    ) -> Any:
        """Read a pin's data: a pyarrow Table for table types (``output="pandas"``/``"polars"``
        converts), plain Python data for json, the object for joblib/pickle (with consent).

        ``hash`` must be a prefix of the version's hash (as in R pins); every file is checked
        against the recorded hash in any case.
        """
        from .formats import get_format, read_v0

        key_name = await self._key_name(name)
        meta = await self._meta(name, key_name, version)
        types = meta.types
        chosen = type or types[0]
        if chosen not in types:
            raise UnsupportedType(f"Pin {name!r} has no {chosen!r} file; it has {types}.")
        if isinstance(meta, Meta) and chosen == "file":
            raise UnsupportedType(
                f"Pin {name!r} holds files (type 'file'); use pin_download() to get their paths."
            )
        fmt = get_format(chosen) if isinstance(meta, Meta) else None
        if fmt is not None and fmt.pickle_based:
            self._check_pickle(name, chosen)
        if output is None:
            output = self.output
        for attempt in range(_READ_ATTEMPTS):
            private = attempt == _READ_ATTEMPTS - 1 and not self._backend.local
            pinned: list[Path] = []
            with progress_scope(progress, self.progress, name) as callback:
                if private:  # files of our own, past the cache: deleted after the read
                    paths = pinned = await self._backend.fetch_files(
                        name, meta.version or "", meta, progress=callback, private=True
                    )
                else:
                    paths = await self._files(name, key_name, meta, callback)
            if hash is not None:
                check_requested_hash(name, hash, meta.pin_hash or "")
            try:
                if attempt and not private:  # held by our own links: safe from a prune
                    paths = pinned = await anyio.to_thread.run_sync(self._hold, paths)
                if isinstance(meta, MetaV0):
                    reader = functools.partial(read_v0, meta.type, paths, output=output)
                    return await _parse(reader, paths)
                assert fmt is not None
                if len(types) > 1 or len(paths) > 1:
                    picked = [p for p in paths if p.suffix == f".{fmt.extension}"]
                    if not picked:
                        raise UnsupportedType(f"Pin {name!r} has no .{fmt.extension} file.")
                    paths = picked[:1]
                return await _parse(functools.partial(fmt.read, paths, output=output), paths)
            except FileNotFoundError:
                # a cache_prune in another process removed a cached file between its
                # lookup and its opening: fetch it again
                if attempt == _READ_ATTEMPTS - 1 or self._backend.local:
                    raise
            finally:
                for p in pinned:
                    with contextlib.suppress(OSError):
                        p.unlink()
                        p.parent.rmdir()
        raise AssertionError("unreachable")

    def _hold(self, paths: list[Path]) -> list[Path]:
        """Hard links to cached files in the cache's temp folder (which prune leaves alone),
        each with its name (formats look at suffixes)."""
        cache = getattr(self._backend, "cache", None)
        if cache is None:
            return paths
        held: list[Path] = []
        try:
            for p in paths:
                folder = cache.temp_path(self._backend.identity)
                folder.mkdir()
                link = folder / p.name
                os.link(p, link)
                held.append(link)
        except BaseException:
            for h in held:
                with contextlib.suppress(OSError):
                    h.unlink()
                    h.parent.rmdir()
            raise
        return held

    def _check_pickle(self, name: str, ptype: str) -> None:
        allowed = self.allow_pickle_read
        if allowed is None:
            allowed = _env_allow_pickle()
        if not allowed:
            raise PickleNotAllowed(
                f"Pin {name!r} is a {ptype} pin. Reading it unpickles data, which can run "
                "arbitrary code. If you trust whoever wrote this board, create the board with "
                "allow_pickle_read=True or set PINS_ALLOW_PICKLE_READ=1."
            )

    @public_verb
    @bounded
    async def pin_download(
        self,
        name: str,
        version: str | None = None,
        hash: str | None = None,
        *,
        progress: Progress = None,
    ) -> list[str]:
        """Local paths of the pin's files (the board files themselves on a folder board)."""
        key_name = await self._key_name(name)
        meta = await self._meta(name, key_name, version)
        with progress_scope(progress, self.progress, name) as callback:
            paths = await self._files(name, key_name, meta, callback)
        if hash is not None:
            check_requested_hash(name, hash, meta.pin_hash or "")
        return [str(p) for p in paths]

    # -- writing ---------------------------------------------------------------------------

    def _check_writable(self, verb: str) -> None:
        if self._backend.read_only:
            raise ReadOnlyBoard(
                f"{verb}() is not possible on {self.board_deparse()}: this board is read-only. "
                "Write with the board that publishes these files (e.g. board_folder or "
                "board_s3), then call write_board_manifest() there."
            )

    async def _write_name(self, name: str) -> tuple[str, str]:
        """(the pin's full name on this board, the stem of its data file names).

        Path boards check the name (§4) and use it for both; Connect resolves ``owner/name``
        and names files after the bare name, as both pins libraries do.
        """
        resolve = getattr(self._backend, "resolve_write_name", None)
        if resolve is not None:
            full, stem = await resolve(name)
            return str(full), str(stem)
        validate_pin_name(name)
        return name, name

    def _staging(self, name: str) -> Path:
        """Where a new version is serialised: a hidden folder inside the pin's folder on a
        folder board (moved into place by rename, swept if a crash leaves it), else a
        system temp folder."""
        staging_dir = getattr(self._backend, "staging_dir", None)
        if staging_dir is not None:
            path = staging_dir(name)
            if path is not None:
                return Path(path)
        return Path(tempfile.mkdtemp(prefix="apins-write-"))

    def _fresh_dirs(self, name: str) -> list[Path]:
        """The board and pin folders a write would create (folder boards), outermost first."""
        root = local_dir(self)
        if root is None:
            return []
        return [d for d in (root, root / name) if not d.exists()]

    @public_verb
    @bounded
    async def pin_write(
        self,
        x: Any,
        name: str | None = None,
        type: str | None = None,
        title: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        versioned: bool | None = None,
        created: datetime | None = None,
        *,
        force_identical_write: bool = False,
        tags: Sequence[str] | None = None,
        urls: Sequence[str] | None = None,
        progress: Progress = None,
        access_type: str | None = None,
    ) -> Meta:
        """Write ``x`` as a new version of pin ``name`` and return its metadata.

        ``type``: csv, json, parquet, arrow, joblib or pickle (default: parquet for tables,
        json for plain data). Identical content is not written again unless
        ``force_identical_write``. ``versioned=None`` follows the board, or keeps versioning a
        pin that already has several versions. ``access_type`` (Connect boards only): who may
        read the pin, ``"acl"`` (new pins' default), ``"logged_in"`` or ``"all"``; an existing
        pin keeps its access unless this is given.
        """
        self._check_writable("pin_write")
        self._check_access_type(access_type)
        token = write_access_type.set(access_type)
        try:
            meta = await self._pin_write(
                x, name, type, title, description, metadata, versioned, created,
                force_identical_write, tags, urls, progress,
            )  # fmt: skip
        finally:
            write_access_type.reset(token)
        if access_type is not None:
            await self.backend.set_access(meta.name, access_type)  # type: ignore[attr-defined]
        return meta

    def _check_access_type(self, access_type: str | None) -> None:
        if access_type is None:
            return
        if not hasattr(self.backend, "set_access"):
            raise UnsupportedType(
                f"access_type applies to Posit Connect boards only, not {self.board_deparse()}."
            )
        if access_type not in ACCESS_TYPES:
            raise PinsError(
                f"access_type must be one of {', '.join(ACCESS_TYPES)}, not {access_type!r}."
            )

    async def _pin_write(
        self,
        x: Any,
        name: str | None,
        type: str | None,
        title: str | None,
        description: str | None,
        metadata: Mapping[str, Any] | None,
        versioned: bool | None,
        created: datetime | None,
        force_identical_write: bool,
        tags: Sequence[str] | None,
        urls: Sequence[str] | None,
        progress: Progress,
    ) -> Meta:
        from .formats import default_title, get_format, is_table, to_arrow_table

        if name is None:
            raise InvalidPinName("pin_write needs a name= for the pin.")
        name, stem = await self._write_name(name)
        table_input = is_table(x)
        if type is None:
            type = "parquet" if table_input else "json"
        fmt = get_format(type)
        if table_input and not fmt.pickle_based:
            # once: an Arrow stream may be single-use, and title and writer both need it
            x = await anyio.to_thread.run_sync(to_arrow_table, x)
        if not fmt.can_write:
            raise UnsupportedType(f"apins cannot write pins of type {type!r}.")
        filename = check_data_file_name(stem, f"{stem}.{fmt.extension}")
        fresh = await anyio.to_thread.run_sync(self._fresh_dirs, name)
        staging = await anyio.to_thread.run_sync(self._staging, name)
        try:
            path = staging / filename

            def serialise() -> tuple[str, int]:
                with open(path, "wb") as raw:
                    w = HashingWriter(raw)
                    fmt.write(x, w)
                    w.flush()
                return w.hexdigest(), w.size

            digest, size = await anyio.to_thread.run_sync(serialise)
            if title is None:
                title = await anyio.to_thread.run_sync(lambda: default_title(stem, x, fmt.type))
            meta = self._new_meta(
                name,
                [filename],
                [size],
                [digest],
                fmt.type,
                title,
                description,
                metadata,
                created,
                tags,
                urls,
            )
            return await self._commit(
                name, meta, [(filename, path)], versioned, force_identical_write, progress
            )
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_discard, [staging], fresh)
            raise
        finally:
            await anyio.to_thread.run_sync(shutil.rmtree, staging, True)

    @public_verb
    @bounded
    async def pin_upload(
        self,
        paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        versioned: bool | None = None,
        created: datetime | None = None,
        *,
        force_identical_write: bool = False,
        tags: Sequence[str] | None = None,
        urls: Sequence[str] | None = None,
        progress: Progress = None,
    ) -> Meta:
        """Pin one or several files as they are (type ``file``); read them with pin_download."""
        self._check_writable("pin_upload")
        items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        if not items:
            raise PinsError("pin_upload needs at least one path.")
        sources = [Path(p) for p in items]
        for p in sources:
            if not p.is_file():
                raise PinsError(f"pin_upload: {str(p)!r} is not a file.")
            if p.name == "data.txt":
                raise PinsError("pin_upload cannot pin a file called data.txt (the metadata file).")
        names = [p.name for p in sources]
        if len(set(names)) != len(names):
            raise PinsError(f"pin_upload: two files share a name: {names}")
        if name is None:
            if len(sources) != 1:
                raise InvalidPinName("pin_upload of several files needs a name=.")
            name = sources[0].name
        name, stem = await self._write_name(name)
        hashes = [await anyio.to_thread.run_sync(file_xxh64, p) for p in sources]
        sizes = [p.stat().st_size for p in sources]
        if title is None:
            title = (
                f"{stem}: a pinned {sources[0].suffix or ''} file".replace("  ", " ")
                if len(sources) == 1
                else f"{stem}: {len(sources)} pinned files"
            )
        meta = self._new_meta(
            name, names, sizes, hashes, "file", title, description, metadata, created, tags, urls
        )
        fresh = await anyio.to_thread.run_sync(self._fresh_dirs, name)
        try:
            return await self._commit(
                name,
                meta,
                list(zip(names, sources, strict=True)),
                versioned,
                force_identical_write,
                progress,
            )
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_discard, [], fresh)
            raise

    def _new_meta(
        self,
        name: str,
        files: list[str],
        sizes: list[int],
        hashes: list[str],
        ptype: str,
        title: str | None,
        description: str | None,
        metadata: Mapping[str, Any] | None,
        created: datetime | None,
        tags: Sequence[str] | None,
        urls: Sequence[str] | None,
    ) -> Meta:
        if metadata is not None and not isinstance(metadata, Mapping):
            raise PinsError("metadata= must be a mapping (dict) of plain values.")
        when = created or datetime.now(timezone.utc).replace(microsecond=0)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        digest = pin_hash(hashes)
        single = len(files) == 1
        return Meta(
            file=files[0] if single else files,
            file_size=sizes[0] if single else sizes,
            pin_hash=digest,
            type=ptype,
            title=title,
            description=description,
            tags=list(tags) if tags is not None else None,
            urls=list(urls) if urls is not None else None,
            created=format_created(when),
            api_version=1,
            user=dict(metadata or {}),
            name=name,
            version=None if created is None else version_name(when, digest),
        )

    async def _commit(
        self,
        name: str,
        meta: Meta,
        files: list[tuple[str, Path]],
        versioned: bool | None,
        force_identical_write: bool,
        progress: Progress,
    ) -> Meta:
        try:
            existing = await self._backend.list_versions(name)
        except (PinNotFound, BoardNotFound):  # a write creates the board
            existing = []
        if existing and not force_identical_write:
            try:
                latest = await self._backend.read_meta(name, existing[-1].version)
            except PinsError:
                latest = None
            if latest is not None and latest.pin_hash == meta.pin_hash:
                log.info('The hash of pin "%s" has not changed; not storing a new version.', name)
                assert isinstance(latest, Meta)
                return latest
        if meta.version is None:
            meta.version = self._next_version_name(meta, existing)
        action = write_action(versioned, self.versioned, len(existing))
        replace = existing[0] if action is WriteAction.REPLACE else None
        log.debug("Writing pin %r, version %s", name, meta.version)
        with progress_scope(progress, self.progress, name) as callback:
            meta.version = await self._backend.store_version(
                name, meta, files, replace=replace, progress=callback
            )
        sizes = meta.file_size if isinstance(meta.file_size, list) else [meta.file_size]
        log.info(
            "Wrote version %s of pin %r (%d file%s, %d bytes) on %r",
            meta.version, name, len(files), "" if len(files) == 1 else "s",
            sum(s or 0 for s in sizes), self,
        )  # fmt: skip
        local_info = getattr(self._backend, "local_info", None)
        meta.local = local_info(name, meta.version) if local_info else {"version": meta.version}
        meta.name = name
        return meta

    @staticmethod
    def _next_version_name(meta: Meta, existing: Sequence[VersionInfo]) -> str:
        """Name the new version so that it sorts after every existing one.

        Version names carry second-precision times; a second write within the same second
        (or after a clock step back) is dated one second after the newest version, so that
        "latest" by name is always the last write.
        """
        assert meta.created is not None and meta.pin_hash is not None
        when = parse_created(meta.created)
        dated = [v.created for v in existing if v.created is not None]
        if dated and max(dated) >= when:
            when = max(dated) + timedelta(seconds=1)
            meta.created = format_created(when)
        return version_name(when, meta.pin_hash)

    # -- sharing (Connect) ------------------------------------------------------------------

    def _sharing_backend(self, verb: str) -> Any:
        if not hasattr(self.backend, "share"):
            raise UnsupportedType(
                f"{verb} shares pins through Posit Connect's permissions; "
                f"{self.board_deparse()} is not a Connect board."
            )
        return self.backend

    @public_verb
    async def pin_share(
        self,
        name: str,
        *,
        users: str | Sequence[str] = (),
        groups: str | Sequence[str] = (),
        role: str = "viewer",
    ) -> None:
        """Let Connect ``users`` and ``groups`` (names) read pin ``name`` (role ``"viewer"``) or
        also write it (``"owner"``: a collaborator). Sharing again changes the role. Connect
        boards only; other boards raise UnsupportedType.
        """
        from .connect import access

        backend = self._sharing_backend("pin_share")
        await backend.share(
            name,
            users=access.names_of(users, "users"),
            groups=access.names_of(groups, "groups"),
            role=access.check_role(role),
        )

    @public_verb
    async def pin_unshare(
        self, name: str, *, users: str | Sequence[str] = (), groups: str | Sequence[str] = ()
    ) -> None:
        """Remove what pin_share gave these Connect ``users`` and ``groups`` (absent entries are
        fine); the pin's owner keeps access. Connect boards only.
        """
        from .connect import access

        backend = self._sharing_backend("pin_unshare")
        await backend.unshare(
            name, users=access.names_of(users, "users"), groups=access.names_of(groups, "groups")
        )

    # -- addresses ------------------------------------------------------------------------

    @public_verb
    async def pin_url(self, name: str, version: str | None = None) -> str:
        """Where pin ``name`` (version ``version``, default the latest) lives: a Connect content
        URL (a ``_rev<bundle>`` URL for a version), a ``file://`` URL of the version folder,
        ``s3://`` / ``gs://`` URIs, an Azure blob URL, or the http(s) URL of a URL board.
        """
        if version is not None:
            version = str(version)
        pin_url = getattr(self.backend, "pin_url", None)
        if pin_url is None:
            raise UnsupportedType(f"pin_url is not available on {self.board_deparse()}.")
        return str(await pin_url(name, version))

    @public_verb
    async def pin_browse(self, name: str, version: str | None = None, local: bool = False) -> str:
        """Open the home of pin ``name`` (version ``version``, default the latest) in the web
        browser (``webbrowser``, which honours BROWSER) and return the URL opened.

        Folder boards open the version folder (``file://``), URL boards its http(s) URL,
        Connect the pin's dashboard page (a version: its ``_rev`` URL), S3 on AWS the S3
        console's page of the version, GCS the Cloud Console's, Azure the blob URL of the
        version's ``data.txt`` (no SAS or key). S3 and GCS on a custom endpoint (MinIO,
        SeaweedFS, an emulator) have no web console: UnsupportedType says so. ``local=True``
        opens the folder of the local copy instead (downloaded into the cache first; a
        folder board's own folder); a board without a cache raises UnsupportedType.
        """
        import webbrowser

        if version is not None:
            version = str(version)  # Connect's bundle ids may come as ints
        if local:
            url = await self._local_folder_url(name, version)
        else:
            browse_url = getattr(self.backend, "browse_url", None)
            if browse_url is None:
                raise UnsupportedType(f"pin_browse is not available on {self.board_deparse()}.")
            url = str(await browse_url(name, version))
        opened = await anyio.to_thread.run_sync(webbrowser.open, url)
        if not opened:
            log.warning("No web browser could open %s.", url)
        return url

    async def _local_folder_url(self, name: str, version: str | None) -> str:
        """The ``file://`` URL of the folder holding the version's local files."""
        backend = self._backend
        if not backend.local and getattr(backend, "cache", None) is None:
            raise UnsupportedType(
                f"pin_browse(local=True) needs a cache, and {self.board_deparse()} has none."
            )
        return _folder_uri(await self.pin_download(name, version))

    # -- deleting --------------------------------------------------------------------------

    @public_verb
    @bounded
    async def pin_version_delete(self, name: str, version: str) -> None:
        """Delete one version of a pin."""
        self._check_writable("pin_version_delete")
        await self._backend.delete_version(name, version)
        self._forget(await self._key_name(name), version)

    @public_verb
    @bounded
    async def pin_versions_prune(
        self, name: str, n: int | None = None, days: float | None = None
    ) -> list[VersionInfo]:
        """Delete old versions, keeping the ``n`` newest or those younger than ``days``.

        The newest version is never deleted. Returns the versions deleted.
        """
        self._check_writable("pin_versions_prune")
        versions = await self._backend.list_versions(name)
        doomed = select_prune(versions, n=n, days=days)
        key_name = await self._key_name(name)
        for v in doomed:
            await self._backend.delete_version(name, v.version)
            self._forget(key_name, v.version)
        if doomed:
            log.info("Deleted versions of %r: %s", name, ", ".join(v.version for v in doomed))
        return doomed

    @public_verb
    @bounded
    async def pin_delete(self, names: str | Sequence[str]) -> None:
        """Delete whole pins (every version). Raises PinNotFound for a missing pin first."""
        self._check_writable("pin_delete")
        todo = [names] if isinstance(names, str) else list(names)
        for n in todo:
            if not await self._backend.pin_exists(n):
                raise PinNotFound(f"Cannot delete pin {n!r}: it does not exist.")
        for n in todo:
            await self._backend.delete_pin(n)
            self._forget(await self._key_name(n))

    # -- board level -----------------------------------------------------------------------

    @public_verb
    @bounded
    async def sweep(self, grace: float = 600.0, name: str | None = None) -> list[str]:
        """Remove what crashed apins writers left on the board (or in pin ``name``), once it
        has been untouched for ``grace`` seconds: staging folders (folder boards), version
        folders without data.txt and unfinished multipart uploads (S3), bundles uploaded but
        never deployed (Connect). Returns what was removed. Every write also sweeps its own
        pin after the same grace period.

        Use ``grace=0`` only when no apins writer is at work on the board.
        """
        self._check_writable("sweep")
        sweeper = getattr(self._backend, "sweep", None)
        if sweeper is None:
            return []
        removed: list[str] = await sweeper(grace, name)
        if removed:
            log.info("Swept %d leftover(s) of crashed writes: %s", len(removed), removed)
        return removed

    @public_verb
    @bounded
    async def write_board_manifest(self) -> dict[str, list[str]]:
        """Write ``_pins.yaml`` (every pin and version) for readers such as R's board_url."""
        self._check_writable("write_board_manifest")
        return await self._backend.write_manifest()


def _always(name: str, version: str) -> bool:
    return True


def _discard(staging: Sequence[Path], fresh: Sequence[Path]) -> None:
    """After a failed write: remove its staging folders and the (empty) folders it created."""
    for s in staging:
        shutil.rmtree(s, ignore_errors=True)
    for d in reversed(fresh):
        with contextlib.suppress(OSError):
            d.rmdir()  # only if empty: another writer may have put something there


def _folder_uri(paths: Sequence[str]) -> str:
    """The ``file://`` URL (ending in ``/``) of the folder that holds all of ``paths``."""
    folder = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in paths])
    return Path(folder).as_uri() + "/"


def local_dir(board: Board) -> Path | None:
    """The folder of a folder board, else None."""
    store = getattr(board.backend, "store", None)
    if isinstance(store, LocalStore):
        return Path(getattr(store, "root", ""))
    return None


__all__ = ["Board", "Version", "VersionNotFound"]
