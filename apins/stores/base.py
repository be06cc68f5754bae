"""The Store protocol: the small byte-moving seam every board driver implements.

A Store addresses objects by *key*: a '/'-separated path relative to the board root
(``"mtcars/20240101T000000Z-abcde/data.txt"``). It knows nothing about pins; the pin
logic lives once, in :mod:`apins.backends.path`, on top of any Store.

Required: ``identity``, ``read_only``, ``list``, ``list_dirs``, ``head``, ``open_read``,
``put_bytes``, ``put_file``, ``delete_many``, ``commit_version``, ``aclose``.
Optional capabilities are separate protocols (:class:`LocalStore`, :class:`MultipartStore`,
:class:`CopyStore`) checked with ``isinstance``.
"""

from __future__ import annotations

import builtins
import io
import os
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..errors import PinsError, TransferError, UnsupportedType


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What a store says about one object."""

    key: str
    size: int
    etag: str | None = None
    last_modified: datetime | None = None


class ObjectNotFound(PinsError, FileNotFoundError):
    """No object at that key (HTTP 404, NoSuchKey, missing file)."""


class NotModified(PinsError):
    """A conditional read found the object unchanged (HTTP 304)."""

    def __init__(self, key: str, etag: str | None = None) -> None:
        super().__init__(f"{key} not modified")
        self.key = key
        self.etag = etag


class PreconditionFailed(TransferError):
    """An If-Match / If-Range condition failed: the object changed (HTTP 412)."""


class RangeNotSatisfiable(TransferError):
    """The requested byte range lies outside the object (HTTP 416)."""


@runtime_checkable
class ReadStream(Protocol):
    """An open (possibly ranged) read. ``info.size`` is the size of the *whole* object."""

    info: ObjectInfo
    #: first byte offset of the body; the body ends at ``start + length``
    start: int
    length: int
    #: True when the server honoured the requested range (206), False when it sent the whole body
    ranged: bool

    def chunks(self, chunk_size: int = ...) -> AsyncIterator[bytes]:
        """Yield the body in chunks of about ``chunk_size`` bytes."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """Bytes moved so far for one transfer. ``total`` is None when unknown."""

    key: str
    done: int
    total: int | None
    direction: str  # "download" | "upload"
    finished: bool = False


ProgressCallback = Callable[[ProgressEvent], None]


@runtime_checkable
class Store(Protocol):
    """Move bytes to and from one board root."""

    #: stable, secret-free identity of the board root (used to key the cache)
    identity: str
    read_only: bool

    async def list(self, prefix: str) -> builtins.list[ObjectInfo]:
        """Every object whose key starts with ``prefix`` (all pages), any depth."""
        ...

    async def list_dirs(self, prefix: str) -> builtins.list[str]:
        """Names of the immediate 'directories' under ``prefix`` (which ends in '/' or is '')."""
        ...

    async def head(self, key: str) -> ObjectInfo:
        """Size and ETag of one object; raises ObjectNotFound."""
        ...

    async def open_read(
        self,
        key: str,
        *,
        start: int = 0,
        end: int | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> ReadStream:
        """Open ``key`` for reading bytes ``[start, end)`` (end exclusive, None = to the end).

        Raises ObjectNotFound, NotModified (if_none_match matched), PreconditionFailed
        (if_match did not), RangeNotSatisfiable.
        """
        ...

    async def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        """Write a small object in one request."""
        ...

    async def put_file(
        self, key: str, path: Path, *, progress: ProgressCallback | None = None
    ) -> ObjectInfo:
        """Stream a local file to ``key`` (multipart above the store's threshold)."""
        ...

    async def delete_many(self, keys: Sequence[str]) -> None:
        """Delete these keys; missing keys are not an error."""
        ...

    async def commit_version(
        self,
        prefix: str,
        files: Sequence[tuple[str, Path]],
        marker: tuple[str, bytes],
        *,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Publish a version folder so that it appears complete or not at all.

        ``files`` are (name, local path) pairs stored at ``prefix + name``; ``marker`` is the
        (name, content) of data.txt, written last: it is what makes the version visible.
        """
        ...

    def location_url(self, folder_key: str) -> str:
        """Where the folder ``folder_key`` (``name/version``) lives, as a URL ending in ``/``:
        ``file://``, ``s3://``, ``gs://`` or the http(s) address, never with a credential."""
        ...

    def browse_url(self, folder_key: str) -> str:
        """A page a web browser can show for the folder ``folder_key`` (pin_browse), never
        with a credential; raises UnsupportedType when the store has no such page."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class LocalStore(Protocol):
    """A store whose objects are local files (the folder board): no download, no cache."""

    def local_path(self, key: str) -> Path: ...


@dataclass(frozen=True, slots=True)
class FileSpan:
    """Bytes ``[start, end)`` of a local file: a part body streamed from disk, never held
    in memory whole."""

    path: Path
    start: int
    end: int

    def __len__(self) -> int:
        return self.end - self.start

    def open(self) -> SpanReader:
        """A seekable, read-only file object over just this span (blocking I/O)."""
        return SpanReader(self)

    async def chunks(
        self, size: int, on_bytes: Callable[[int], None] | None = None
    ) -> AsyncIterator[bytes]:
        """The span's bytes, read from disk ``size`` at a time in a worker thread (never the
        whole span); ``on_bytes(n)`` is called as each chunk is handed out. A request body."""
        import anyio

        reader = await anyio.to_thread.run_sync(self.open)
        try:
            while True:
                data = await anyio.to_thread.run_sync(reader.read, size)
                if not data:
                    return
                if on_bytes is not None:
                    on_bytes(len(data))
                yield data
        finally:
            reader.close()


class SpanReader(io.RawIOBase):
    """Reads one :class:`FileSpan`; positions are relative to the span's start."""

    def __init__(self, span: FileSpan) -> None:
        super().__init__()
        self._span = span
        self._f = open(span.path, "rb")  # noqa: SIM115 - closed by close()
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        size = len(self._span)
        base = {0: 0, 1: self._pos, 2: size}[whence]
        self._pos = max(0, min(size, base + offset))
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        n = min(len(view), len(self._span) - self._pos)
        if n <= 0:
            return 0
        got = os.preadv(self._f.fileno(), [view[:n]], self._span.start + self._pos)
        self._pos += got
        return got

    def close(self) -> None:
        if not self.closed:
            self._f.close()
        super().close()


@runtime_checkable
class WriteCheckingStore(Protocol):
    """A store that can tell whether a write whose answer was lost took effect, so the
    write is not repeated blindly (see ``applied`` in :func:`apins.transfer.retry.with_retries`).
    Each check returns None when the write did not (visibly) take effect."""

    async def put_applied(self, key: str, body: bytes | FileSpan) -> ObjectInfo | None:
        """The object at ``key`` if it holds exactly ``body``."""
        ...

    async def part_applied(
        self, key: str, upload_id: str, number: int, body: bytes | FileSpan
    ) -> str | None:
        """The ETag of part ``number`` of the upload if it holds exactly ``body``."""
        ...

    async def complete_applied(
        self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> ObjectInfo | None:
        """The object at ``key`` if it is the completion of exactly these ``parts``."""
        ...


@runtime_checkable
class MultipartStore(Protocol):
    """Multipart upload primitives, driven by :mod:`apins.transfer.upload`.

    A store whose attribute ``parallel_parts`` is False (GCS at a bucket root) sends every
    file in one request instead."""

    async def create_multipart(self, key: str) -> str: ...

    async def upload_part(
        self, key: str, upload_id: str, number: int, data: bytes | FileSpan
    ) -> str:
        """Upload one part; a FileSpan is streamed from disk."""
        ...

    async def complete_multipart(
        self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> ObjectInfo: ...

    async def abort_multipart(self, key: str, upload_id: str) -> None: ...


@dataclass(frozen=True, slots=True)
class PendingInfo:
    """A multipart upload that was begun and neither completed nor aborted."""

    key: str
    upload_id: str
    #: its latest activity (newest part, else its start); None if the server did not say
    last_activity: datetime | None


@runtime_checkable
class UploadListingStore(Protocol):
    """A store that can list and abort unfinished multipart uploads (S3)."""

    async def list_uploads(self, prefix: str) -> builtins.list[PendingInfo]: ...

    async def abort_multipart(self, key: str, upload_id: str) -> None: ...


@runtime_checkable
class CopyStore(Protocol):
    """Server-side copy inside one store (or between stores on one endpoint)."""

    async def copy_from(
        self, source: Store, source_key: str, key: str, *, info: ObjectInfo | None = None
    ) -> ObjectInfo | None:
        """Copy without moving bytes through the client; return None if not possible here.

        ``info`` (the source object's size and ETag, e.g. from a listing) saves a HEAD.
        """
        ...


def no_web_page(where: str, uri: str) -> UnsupportedType:
    """pin_browse's error for a store without a web console (a custom S3 or GCS endpoint)."""
    return UnsupportedType(
        f"{where} has no web page to open: a custom endpoint has no web console. "
        f"pin_url() gives the version's address ({uri}); pin_browse(..., local=True) opens "
        "the cached copy."
    )


def join_key(*parts: str) -> str:
    """Join key parts with single slashes, dropping empty parts."""
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))
