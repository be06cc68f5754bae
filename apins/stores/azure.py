"""Azure Blob Storage store: signed REST requests on apins's own aiohttp session.

Reads are ranged GETs guarded by ``If-Match``; large files upload as blocks (Put Block, in
parallel, streamed from disk) committed by one Put Block List; listings page with ``marker``;
server-side copies inside one account use Copy Blob. Signing lives in
:mod:`apins.stores._azure_auth`. Error mapping: 404 → ObjectNotFound; 304 → NotModified;
412 → PreconditionFailed; 416 → RangeNotSatisfiable; 401/403 → StoreAccessError; throttling,
5xx, timeouts and dropped connections → TransientError. No message ever contains a secret.
"""

from __future__ import annotations

import base64
import builtins
import functools
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from xml.etree import ElementTree

import anyio

from .._redact import shield
from ..errors import StoreAccessError, TransferError
from ..settings import TransferSettings
from ..transfer._util import for_each
from ..transfer.commit import commit_files
from ..transfer.retry import TransientError, transient_for_status, with_retries
from ..transfer.upload import upload_file
from ._azure_auth import API_VERSION, Account
from ._rest import send_checked
from ._s3http import _stream as body_stream
from .base import (
    FileSpan,
    NotModified,
    ObjectInfo,
    ObjectNotFound,
    PreconditionFailed,
    ProgressCallback,
    RangeNotSatisfiable,
    Store,
)
from .http import BodyStream, new_session
from .s3 import normalize_etag, normalize_prefix

if TYPE_CHECKING:
    import aiohttp

#: Azure error codes worth another attempt
_TRANSIENT_CODES = frozenset({"ServerBusy", "InternalError", "OperationTimedOut"})
#: seconds between polls of a pending server-side copy (doubling up to the cap)
_COPY_POLL = (0.05, 2.0)
_READ_CHUNK = 1024 * 1024


def _now() -> str:
    return format_datetime(datetime.now(timezone.utc), usegmt=True)


def _when(value: str | None) -> datetime | None:
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def _error_code(headers: Mapping[str, str], body: bytes) -> str:
    code = headers.get("x-ms-error-code", "")
    if code or not body:
        return code
    try:
        node = ElementTree.fromstring(body).find("Code")
    except ElementTree.ParseError:
        return ""
    return (node.text or "") if node is not None else ""


class AzureStore:
    """A board root in an Azure Blob container: keys are ``prefix + key``.

    ``prefix`` is normalised like S3's (``"sub"``, ``"sub/"`` and ``"/sub/"`` are one board),
    which is what pins-python's ``board_azure("container/sub")`` reads and writes.
    The constructor does no I/O; the session opens on first use.
    """

    read_only = False
    #: blobs per listing page (the service allows up to 5000)
    list_page_size = 5000

    def __init__(
        self,
        account: Account,
        container: str,
        prefix: str = "",
        *,
        settings: TransferSettings | None = None,
    ) -> None:
        if not container or "/" in container:
            raise ValueError(f"invalid Azure container name: {container!r}")
        self.account = account
        self.container = container
        self.prefix = normalize_prefix(prefix)
        self.settings = settings or TransferSettings()
        shield()  # the redacting log filter, and credentials found in the environment
        self.identity = f"az:{account.url}/{container}/{self.prefix}"
        #: REST operations sent, by name (e.g. "GetBlob"): instrumentation for tests and users
        self.request_counts: Counter[str] = Counter()
        self._session: aiohttp.ClientSession | None = None
        self._limiter: anyio.CapacityLimiter | None = None

    def __repr__(self) -> str:
        return (
            f"AzureStore(account_url={self.account.url!r}, container={self.container!r}, "
            f"prefix={self.prefix!r})"
        )

    # -- plumbing -----------------------------------------------------------------------------

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = new_session(self.settings)
        return self._session

    def location_url(self, folder_key: str) -> str:
        """The https URL of the blob prefix ``folder_key`` (no credential), ending in ``/``."""
        return self.blob_url(folder_key) + "/"

    def browse_url(self, folder_key: str) -> str:
        """The blob URL of the folder's ``data.txt``, without SAS or key: the one address
        under a version that is a blob (Azure answers a bare prefix with an error page). A
        browser shows it when the container allows anonymous reads; otherwise Azure's page
        says the blob needs authorization, and no credential is ever put in the URL (the
        portal's pages need the subscription and resource group, which a board never has)."""
        return self.blob_url(f"{folder_key}/data.txt")

    async def aclose(self) -> None:
        """Close the session; the store can be used again afterwards."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        close = getattr(self.account.signer, "aclose", None)
        if close is not None:
            await close()

    def _board_limiter(self) -> anyio.CapacityLimiter:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.settings.max_connections)
        return self._limiter

    def _where(self, key: str | None) -> str:
        return f"az://{self.container}/{self.prefix}{key or ''} at {self.account.url}"

    def _k(self, key: str) -> str:
        return self.prefix + key

    def blob_url(self, key: str | None) -> str:
        """The URL of ``key`` (None: the container), no query, no credential."""
        base = f"{self.account.url}/{quote(self.container, safe='')}"
        return base if key is None else f"{base}/{quote(self._k(key), safe='/~')}"

    async def _send(
        self,
        method: str,
        key: str | None,
        op: str,
        *,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        length: int | None = None,
        ok: tuple[int, ...] = (200, 201, 202, 206),
        if_none_match: str | None = None,
    ) -> aiohttp.ClientResponse:
        """One signed request; a status outside ``ok`` raises the mapped error. No retries."""
        url = self.blob_url(key)
        if query:
            url += "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
        send = {"x-ms-date": _now(), "x-ms-version": API_VERSION, **(headers or {})}
        if data is not None or method in ("PUT", "POST"):
            send["Content-Length"] = str(length if length is not None else len(data or b""))
            # aiohttp adds this to every PUT, body or not: sign what is sent
            send.setdefault("Content-Type", "application/octet-stream")
        url = await self.account.signer.authorize(method, url, send)
        self.request_counts[op] += 1

        def error(status: int, body: bytes, answer: Mapping[str, str]) -> Exception:
            code = _error_code(answer, body)
            return self._error(status, code, op, key, if_none_match, answer)

        return await send_checked(
            self._client(), method, url, settings=self.settings,
            what=f"Azure {op} on {self._where(key)}", ok=ok, on_error=error, headers=send,
            data=data,
        )  # fmt: skip

    def _error(
        self,
        status: int,
        code: str,
        op: str,
        key: str | None,
        if_none_match: str | None,
        headers: Mapping[str, str] | None = None,
    ) -> Exception:
        where = self._where(key)
        if status == 304:
            return NotModified(key or "", if_none_match)
        if code == "ContainerNotFound":
            return ObjectNotFound(f"container {self.container!r} does not exist ({where})")
        if status == 404:
            return ObjectNotFound(f"no object {where}")
        if status == 412:
            return PreconditionFailed(f"{where} no longer matches the expected ETag")
        if status == 416:
            return RangeNotSatisfiable(f"requested range lies outside {where}")
        if status in (401, 403):
            return StoreAccessError(
                f"Azure refused {op} on {where} ({code or status}) with the "
                f"{self.account.signer.kind}: check it and the container's permissions"
            )
        message = f"Azure {op} on {where} failed: {code or status}"
        transient = transient_for_status(status, message, headers)
        if transient is not None:
            return transient
        if code in _TRANSIENT_CODES:  # e.g. ServerBusy (sent with 503 as a rule)
            return TransientError(message)
        return TransferError(f"Azure {op} on {where} failed: {code or status}")

    async def _retry(self, op: str, fn: Callable[[], Any], key: str | None) -> Any:
        return await with_retries(
            fn, settings=self.settings, what=f"Azure {op} on {self._where(key)}"
        )

    def _info(self, key: str, size: int, headers: Mapping[str, str]) -> ObjectInfo:
        return ObjectInfo(
            key, size, normalize_etag(headers.get("ETag")), _when(headers.get("Last-Modified"))
        )

    # -- reading ------------------------------------------------------------------------------

    async def _list_page(self, query: dict[str, str]) -> tuple[ElementTree.Element, str]:
        resp = await self._send("GET", None, "ListBlobs", query=query)
        try:
            body = await resp.read()
        finally:
            resp.release()
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError as e:
            raise TransientError(f"Azure sent an unreadable listing: {e}") from None
        return root, root.findtext("NextMarker") or ""

    async def _pages(
        self, prefix: str, delimiter: str | None
    ) -> AsyncIterator[ElementTree.Element]:
        marker = ""
        while True:
            query = {
                "restype": "container",
                "comp": "list",
                "prefix": self._k(prefix),
                "maxresults": str(self.list_page_size),
            }
            if delimiter:
                query["delimiter"] = delimiter
            if marker:
                query["marker"] = marker
            page = functools.partial(self._list_page, query)
            root, marker = await self._retry("ListBlobs", page, prefix)
            yield root
            if not marker:
                return

    async def list(self, prefix: str) -> builtins.list[ObjectInfo]:
        """Every blob under ``prefix`` (all pages), keys relative to the board root."""
        cut = len(self.prefix)
        found: builtins.list[ObjectInfo] = []
        async for root in self._pages(prefix, None):
            for blob in root.iterfind("Blobs/Blob"):
                props = blob.find("Properties")
                get = props.findtext if props is not None else (lambda _n: None)
                found.append(
                    ObjectInfo(
                        (blob.findtext("Name") or "")[cut:],
                        int(get("Content-Length") or 0),
                        normalize_etag(get("Etag")),
                        _when(get("Last-Modified")),
                    )
                )
        return found

    async def list_dirs(self, prefix: str) -> builtins.list[str]:
        """Names of the immediate sub-'directories' of ``prefix`` (no slashes)."""
        full = len(self._k(prefix))
        names: builtins.list[str] = []
        async for root in self._pages(prefix, "/"):
            for node in root.iterfind("Blobs/BlobPrefix"):
                name = (node.findtext("Name") or "")[full:].rstrip("/")
                if name:
                    names.append(name)
        return names

    async def head(self, key: str) -> ObjectInfo:
        """Size and ETag of ``key``; raises ObjectNotFound."""

        async def once() -> ObjectInfo:
            resp = await self._send("HEAD", key, "GetBlobProperties")
            resp.release()
            return self._info(key, int(resp.headers.get("Content-Length", "0")), resp.headers)

        result: ObjectInfo = await self._retry("GetBlobProperties", once, key)
        return result

    async def open_read(
        self,
        key: str,
        *,
        start: int = 0,
        end: int | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> BodyStream:
        """Get Blob for bytes ``[start, end)``; one attempt (the engine retries)."""
        if end is not None and end <= start:
            raise RangeNotSatisfiable(f"empty range [{start}, {end}) of {self._where(key)}")
        headers: dict[str, str] = {}
        if start or end is not None:
            headers["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        if if_match:
            headers["If-Match"] = if_match
        if if_none_match:
            headers["If-None-Match"] = if_none_match
        resp = await self._send(
            "GET", key, "GetBlob", headers=headers, ok=(200, 206), if_none_match=if_none_match
        )
        return body_stream(resp, key)

    # -- writing ------------------------------------------------------------------------------

    async def _put(
        self,
        key: str,
        op: str,
        data: Any,
        length: int,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> aiohttp.ClientResponse:
        resp = await self._send(
            "PUT", key, op, query=query, headers=headers, data=data, length=length
        )
        resp.release()
        return resp

    async def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        """Put Blob of a small in-memory body."""
        resp = await self._retry(
            "PutBlob",
            lambda: self._put(
                key, "PutBlob", data, len(data), None, {"x-ms-blob-type": "BlockBlob"}
            ),
            key,
        )
        return self._info(key, len(data), resp.headers)

    async def put_file_single(
        self, key: str, path: Path, *, on_bytes: Callable[[int], None] | None = None
    ) -> ObjectInfo:
        """Put Blob streaming ``path`` from disk; one attempt (the engine retries)."""
        size = os.stat(path).st_size
        body = FileSpan(path, 0, size).chunks(_READ_CHUNK, on_bytes)
        resp = await self._put(key, "PutBlob", body, size, None, {"x-ms-blob-type": "BlockBlob"})
        return self._info(key, size, resp.headers)

    async def put_file(
        self, key: str, path: Path, *, progress: ProgressCallback | None = None
    ) -> ObjectInfo:
        """Upload a local file: streamed, in blocks above ``settings.multipart_threshold``."""
        return await upload_file(
            self,
            key,
            path,
            settings=self.settings,
            progress=progress,
            limiter=self._board_limiter(),
        )

    async def create_multipart(self, key: str) -> str:
        """Blocks need no server-side start: the id only makes this upload's block ids unique."""
        return uuid.uuid4().hex[:16]

    @staticmethod
    def _block_id(upload_id: str, number: int) -> str:
        # every block id of a blob must have the same length
        return base64.b64encode(f"{upload_id}-{number:06d}".encode()).decode()

    async def upload_part(
        self, key: str, upload_id: str, number: int, data: bytes | FileSpan
    ) -> str:
        """Put Block; a FileSpan is streamed from disk. Returns the block id."""
        block = self._block_id(upload_id, number)
        body = data.chunks(_READ_CHUNK) if isinstance(data, FileSpan) else data
        await self._put(key, "PutBlock", body, len(data), {"comp": "block", "blockid": block})
        return block

    async def complete_multipart(
        self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> ObjectInfo:
        """Put Block List: the blob appears, whole, with the blocks in order."""
        xml = "".join(f"<Latest>{block}</Latest>" for _, block in parts)
        body = f'<?xml version="1.0" encoding="utf-8"?><BlockList>{xml}</BlockList>'.encode()
        await self._put(
            key,
            "PutBlockList",
            body,
            len(body),
            {"comp": "blocklist"},
            {"Content-Type": "application/xml"},
        )
        return await self.head(key)

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        """Nothing to do: uncommitted blocks are invisible and the service drops them."""

    async def delete_many(self, keys: Sequence[str]) -> None:
        """Delete Blob for each key, concurrently; missing keys are fine."""

        async def delete(key: str) -> None:
            resp = await self._send("DELETE", key, "DeleteBlob", ok=(200, 202, 404))
            resp.release()

        await for_each(
            keys,
            lambda key: self._retry("DeleteBlob", lambda: delete(key), key),
            self.settings.meta_concurrency,
        )

    async def commit_version(
        self,
        prefix: str,
        files: Sequence[tuple[str, Path]],
        marker: tuple[str, bytes],
        *,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Upload the data files (concurrently), then the data.txt marker, last; a failure
        deletes the new version's files (see :func:`apins.transfer.commit.commit_files`)."""
        await commit_files(
            self,
            prefix,
            files,
            marker,
            settings=self.settings,
            limiter=self._board_limiter(),
            progress=progress,
        )

    # -- server-side copy -----------------------------------------------------------------------

    async def copy_from(
        self, source: Store, source_key: str, key: str, *, info: ObjectInfo | None = None
    ) -> ObjectInfo | None:
        """Copy Blob from a blob of the same account, pinned to the source's ETag.

        Returns None when ``source`` is not in this account, so the caller streams instead.
        Copy Blob (rather than Copy Blob From URL) needs no SAS for a same-account source
        under Shared Key, and has no size cap; a pending copy is polled until it ends.
        """
        if not isinstance(source, AzureStore) or source.account.url != self.account.url:
            return None
        if info is None or not info.etag:
            info = await source.head(source_key)
        headers: dict[str, str] = {}
        if info.etag:
            headers["x-ms-source-if-match"] = info.etag
        src = await source.account.signer.source_auth(source.blob_url(source_key), headers)
        headers["x-ms-copy-source"] = src

        async def start() -> aiohttp.ClientResponse:
            return await self._put(key, "CopyBlob", None, 0, None, headers)

        resp = await self._retry("CopyBlob", start, key)
        status = resp.headers.get("x-ms-copy-status", "success")
        copy_id = resp.headers.get("x-ms-copy-id")
        delay = _COPY_POLL[0]
        while status == "pending":
            await anyio.sleep(delay)
            delay = min(delay * 2, _COPY_POLL[1])
            props = await self._retry(
                "GetBlobProperties", lambda: self._send("HEAD", key, "GetBlobProperties"), key
            )
            props.release()
            if copy_id and props.headers.get("x-ms-copy-id") not in (None, copy_id):
                raise TransferError(f"another copy replaced {self._where(key)} meanwhile")
            status = props.headers.get("x-ms-copy-status", "success")
        if status != "success":
            raise TransferError(f"server-side copy to {self._where(key)} ended: {status}")
        return await self.head(key)
