"""Object reads for S3Store as presigned GETs on a plain aiohttp session.

botocore signs the URL (about 0.1 ms); aiohttp sends it and streams the body. That skips
botocore's per-request event pipeline and response parsing, which cost about 1 ms of CPU per
request on a small machine: the difference between a fast and a slow ``pin_search`` over
hundreds of pins. Range, If-Match and If-None-Match travel as ordinary headers.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from xml.etree import ElementTree

from ..errors import StoreAccessError, TransferError
from ..settings import TransferSettings
from ..transfer.retry import TRANSIENT_CODES, TRANSIENT_STATUSES, TransientError
from .base import (
    NotModified,
    ObjectInfo,
    ObjectNotFound,
    PreconditionFailed,
    RangeNotSatisfiable,
)

if TYPE_CHECKING:
    import aiohttp

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class PresignedStream:
    """An open presigned GET (see :class:`apins.stores.base.ReadStream`)."""

    def __init__(
        self, resp: aiohttp.ClientResponse, info: ObjectInfo, start: int, length: int, ranged: bool
    ) -> None:
        self._resp = resp
        self.info = info
        self.start = start
        self.length = length
        self.ranged = ranged

    async def chunks(self, chunk_size: int = 1024 * 1024) -> AsyncIterator[bytes]:
        import aiohttp

        try:
            async for chunk in self._resp.content.iter_chunked(chunk_size):
                yield chunk
        except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as exc:
            raise TransientError(f"reading {self.info.key} failed: {type(exc).__name__}") from exc

    async def aclose(self) -> None:
        # a body left unread must not go back to the pool
        self._resp.close()


class PresignedReader:
    """One aiohttp session per store, sized like the store's connection pool."""

    def __init__(self, settings: TransferSettings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._session is None or self._session.closed:
            s = self._settings
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=s.max_connections, limit_per_host=0),
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=s.connect_timeout, sock_read=s.read_timeout
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"Accept-Encoding": "identity"},
                auto_decompress=False,
            )
        return self._session

    async def open(
        self,
        url: str,
        key: str,
        where: str,
        *,
        start: int = 0,
        end: int | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> PresignedStream:
        """GET ``url`` for bytes ``[start, end)``; errors mapped to the Store protocol's."""
        import aiohttp

        headers: dict[str, str] = {}
        if start or end is not None:
            headers["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        if if_match:
            headers["If-Match"] = if_match
        if if_none_match:
            headers["If-None-Match"] = if_none_match
        try:
            resp = await self._client().get(url, headers=headers, allow_redirects=False)
        except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as exc:
            raise TransientError(f"S3 GetObject on {where} failed: {type(exc).__name__}") from exc
        if resp.status not in (200, 206):
            try:
                body = await resp.read()
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError):
                body = b""
            finally:
                resp.release()
            raise _error(resp.status, body, key, where, if_none_match)
        return _stream(resp, key)

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _stream(resp: aiohttp.ClientResponse, key: str) -> PresignedStream:
    length = int(resp.headers.get("Content-Length", "0"))
    match = _CONTENT_RANGE.fullmatch(resp.headers.get("Content-Range", ""))
    if resp.status == 206 and match:
        first = int(match.group(1))
        total = int(match.group(3)) if match.group(3) != "*" else first + length
        ranged = True
    else:
        first, total, ranged = 0, length, False
    etag = resp.headers.get("ETag")
    if etag and not etag.startswith(('"', "W/")):
        etag = f'"{etag}"'
    modified = resp.headers.get("Last-Modified")
    try:
        when = parsedate_to_datetime(modified) if modified else None
    except (TypeError, ValueError):
        when = None
    return PresignedStream(resp, ObjectInfo(key, total, etag, when), first, length, ranged)


def _error(status: int, body: bytes, key: str, where: str, if_none_match: str | None) -> Exception:
    code = ""
    try:
        node = ElementTree.fromstring(body).find("Code") if body else None
        code = (node.text or "") if node is not None else ""
    except ElementTree.ParseError:
        pass
    if status == 304:
        return NotModified(key, if_none_match)
    if status == 404 or code in ("NoSuchKey", "NotFound"):
        return ObjectNotFound(f"no object {where}")
    if status == 412:
        return PreconditionFailed(f"{where} no longer matches the expected ETag")
    if status == 416:
        return RangeNotSatisfiable(f"requested range lies outside {where}")
    if status in (401, 403):
        return StoreAccessError(
            f"S3 refused GetObject on {where} ({code or status}): check the access key, "
            "secret, session token and the bucket's permissions"
        )
    if status in TRANSIENT_STATUSES or code in TRANSIENT_CODES:
        return TransientError(f"S3 GetObject on {where} failed: {code or status}")
    return TransferError(f"S3 GetObject on {where} failed: {code or status}")
