"""HTTPStore: a read-only Store over plain HTTP(S) (aiohttp), for URL boards.

Keys map to URLs through exact routes and folder mounts set by the board (a manifest says
where each version lives), else relative to ``base_url``. Reads support byte ranges (206 or a
200 fallback when the server ignores Range), ``If-Match``/``If-Range`` guards and
``If-None-Match``/``If-Modified-Since`` revalidation (304 → NotModified).

Custom headers (e.g. ``Authorization``) are sent only to the trusted origins (scheme, host,
port) the user named; redirects are followed here, one hop at a time, so a hop to another
origin never carries them. Error texts show URLs without query or user info.
"""

from __future__ import annotations

import asyncio
import builtins
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import aiohttp

from .._redact import header_secrets, shield
from .._safe_path import safe_relative
from ..errors import InvalidMetadata, PinsError, ReadOnlyBoard, StoreAccessError, TransferError
from ..settings import TransferSettings
from ..transfer.reqlog import request_tracing
from ..transfer.retry import (
    ConnectionLost,
    StoreUnreachable,
    TransientError,
    probing,
    transient_for_status,
    with_retries,
)
from ._urls import HTTP_SCHEMES, Origin, origin, public_url, quote_path
from .base import (
    NotModified,
    ObjectInfo,
    ObjectNotFound,
    PreconditionFailed,
    ProgressCallback,
    RangeNotSatisfiable,
)

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy

MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_USER_AGENT = "apins/0.1 (+aiohttp)"


def http_date(dt: datetime) -> str:
    """``dt`` as an HTTP date (``Sun, 06 Nov 1994 08:49:37 GMT``)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return format_datetime(dt.astimezone(timezone.utc), usegmt=True)


def _parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def _is_strong(etag: str | None) -> bool:
    return bool(etag) and not etag.startswith("W/")  # type: ignore[union-attr]


class BodyStream:
    """An open GET body; transport failures while reading become TransientError."""

    def __init__(
        self,
        resp: aiohttp.ClientResponse,
        info: ObjectInfo,
        start: int,
        length: int,
        ranged: bool,
        settings: TransferSettings | None = None,
    ) -> None:
        self._resp = resp
        self.info = info
        self.start = start
        self.length = length
        self.ranged = ranged
        #: the store's settings; without them the body always goes through aiohttp
        self._settings = settings
        #: True once :meth:`views` reads the body from the socket into a reused buffer
        self.reusing = False

    async def views(self, chunk_size: int = 1024 * 1024) -> AsyncIterator[memoryview | bytes]:
        """Like :meth:`chunks`, but a yielded view may be a reused buffer, valid only until
        the next one is asked for: a large plain-HTTP body is then read from the socket
        into that buffer, without aiohttp's copy and per-read work (:mod:`._rawbody`)."""
        from ._rawbody import raw_eligible, raw_views

        s = self._settings
        if s is None or not raw_eligible(self._resp, s.range_threshold):
            async for chunk in self.chunks(chunk_size):
                yield chunk
            return
        self.reusing = True
        async for view in raw_views(self._resp, chunk_size, s.read_timeout):
            yield view

    async def chunks(self, chunk_size: int = 1024 * 1024) -> AsyncIterator[bytes]:
        """Yield the body in chunks of at most ``chunk_size`` bytes: the pieces as they came
        off the socket (not joined: joining copied every byte once more), split when larger."""
        content = self._resp.content
        while True:
            try:
                chunk, chunk_end = await content.readchunk()
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as exc:
                raise transport_error(
                    exc, f"reading {public_url(str(self._resp.url))} failed: {type(exc).__name__}"
                ) from exc
            if not chunk:
                if chunk_end:  # the end of one HTTP chunk of a chunked body
                    continue
                return
            if len(chunk) <= chunk_size:
                yield chunk
            else:
                for i in range(0, len(chunk), chunk_size):
                    yield chunk[i : i + chunk_size]

    async def aclose(self) -> None:
        if self.reusing:  # aiohttp's parser still expects the body read past it
            self._resp.close()
        elif self._resp.content.at_eof():
            self._resp.release()
        else:  # a half-read body: drop the connection rather than drain it
            self._resp.close()


def body_span(resp: aiohttp.ClientResponse) -> tuple[int, int, int, bool]:
    """(first byte, body length, whole object size, ranged) of a 200 or 206 answer."""
    length = int(resp.headers.get("Content-Length", "0"))
    match = _CONTENT_RANGE.fullmatch(resp.headers.get("Content-Range", "").strip())
    if resp.status == 206 and match:
        first = int(match.group(1))
        total = int(match.group(3)) if match.group(3) != "*" else first + length
        return first, length, total, True
    return 0, length, length, False


def transport_error(exc: BaseException, message: str) -> TransientError:
    """A failed or dropped connection as a TransientError: StoreUnreachable when no
    connection could be made (or, during an offline probe, no answer came in time), else
    ConnectionLost (the request may have reached the server)."""
    no_connection = isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)
    silent = isinstance(exc, aiohttp.ServerTimeoutError | asyncio.TimeoutError)
    if no_connection or (silent and probing()):
        return StoreUnreachable(message)
    return ConnectionLost(message)


def request_timeout(session: aiohttp.ClientSession, s: TransferSettings) -> aiohttp.ClientTimeout:
    """The session's timeouts; during an offline probe, wait for a first answer no longer
    than the connect timeout (a server that accepts and never answers is offline)."""
    if not probing():
        return session.timeout
    t = s.connect_timeout
    return aiohttp.ClientTimeout(total=None, sock_connect=t, sock_read=t)


def no_blind_retry(session: aiohttp.ClientSession) -> aiohttp.ClientSession:
    """Stop aiohttp from silently sending a GET/PUT/DELETE again when its connection drops:
    apins decides about every repeat (retry.py), and a write is checked before it is sent
    again. (aiohttp has no public switch; its own test client flips the same attribute.)"""
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False
    return session


def new_session(s: TransferSettings) -> aiohttp.ClientSession:
    """An aiohttp session for one store: pool sized by the settings, no cookies, no
    transparent decompression (bytes are hashed as stored)."""
    return no_blind_retry(
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=s.max_connections, limit_per_host=0),
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=s.connect_timeout, sock_read=s.read_timeout
            ),
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"},
            auto_decompress=False,
            trace_configs=request_tracing(),
        )
    )


class HTTPStore:
    """Read-only objects at URLs. Construct without I/O; the session opens on first use."""

    read_only = True

    def __init__(
        self,
        base_url: str | None = None,
        *,
        identity: str,
        headers: Mapping[str, str] | None = None,
        trusted_origins: Iterable[str] = (),
        settings: TransferSettings | None = None,
    ) -> None:
        self.base_url = base_url
        self.identity = identity
        self.settings = settings or TransferSettings()
        self._headers = {str(k): str(v) for k, v in (headers or {}).items()}
        shield(*header_secrets(self._headers))
        origins = {origin(u) for u in trusted_origins}
        if base_url is not None:
            origins.add(origin(base_url))
        self._trusted: frozenset[Origin] = frozenset(origins)
        self._exact: dict[str, str] = {}
        self._mounts: dict[str, str] = {}
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        where = public_url(self.base_url) if self.base_url else self.identity
        hidden = f", headers=<{len(self._headers)} hidden>" if self._headers else ""
        return f"HTTPStore({where!r}{hidden})"

    # -- key → URL ---------------------------------------------------------------------------

    def route(self, key: str, url: str) -> None:
        """Serve ``key`` from exactly ``url``."""
        self._exact[key] = url

    def mount(self, prefix: str, folder_url: str) -> None:
        """Serve keys ``prefix + name`` from ``folder_url + name`` (both end in '/')."""
        assert prefix.endswith("/") and folder_url.endswith("/"), (prefix, folder_url)
        self._mounts[prefix] = folder_url

    def is_mounted(self, prefix: str) -> bool:
        return prefix in self._mounts

    def url_for(self, key: str) -> str:
        """The URL of ``key``; a name that would leave its folder raises InvalidMetadata."""
        if key in self._exact:
            return self._exact[key]
        folder: str | None = None
        rest = key
        parts = key.split("/", 2)
        if len(parts) == 3 and f"{parts[0]}/{parts[1]}/" in self._mounts:
            folder, rest = self._mounts[f"{parts[0]}/{parts[1]}/"], parts[2]
        elif self.base_url is not None:
            folder = self.base_url
        if folder is None:
            raise PinsError(f"No URL is known for {key!r} on this board.")
        if rest:
            safe_relative(rest.removesuffix("/"), what=f"the key {key!r}")
        url = urljoin(folder, quote_path(rest))
        if not url.startswith(folder):
            raise InvalidMetadata(f"{key!r} would resolve outside {public_url(folder)}; refused.")
        return url

    # -- HTTP ------------------------------------------------------------------------------

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = new_session(self.settings)
        return self._session

    async def _send(
        self, method: str, url: str, headers: Mapping[str, str]
    ) -> aiohttp.ClientResponse:
        """One request, following redirects itself; custom headers only to trusted origins."""
        session = self._client()
        for _ in range(MAX_REDIRECTS + 1):
            send = dict(headers)
            if origin(url) in self._trusted:
                send.update(self._headers)
            try:
                resp = await session.request(
                    method,
                    url,
                    headers=send,
                    allow_redirects=False,
                    timeout=request_timeout(session, self.settings),
                )
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as exc:
                raise transport_error(
                    exc, f"{method} {public_url(url)} failed: {type(exc).__name__}: {_safe(exc)}"
                ) from exc
            location = resp.headers.get("Location")
            if resp.status not in _REDIRECTS or not location:
                return resp
            resp.release()
            nxt = urljoin(url, location)
            if urlsplit(nxt).scheme.lower() not in HTTP_SCHEMES:
                raise TransferError(f"{public_url(url)} redirects to a non-HTTP URL; refused.")
            url = nxt
        raise TransferError(f"Too many redirects from {public_url(url)}.")

    def _check_status(self, resp: aiohttp.ClientResponse, key: str, url: str) -> None:
        status = resp.status
        if status in (200, 206):
            return
        etag = resp.headers.get("ETag")
        resp.release()
        shown = public_url(url)
        if status == 304:
            raise NotModified(key, etag)
        if status in (404, 410):
            raise ObjectNotFound(f"{shown} does not exist (HTTP {status}).")
        if status == 412:
            raise PreconditionFailed(f"{shown} changed (HTTP 412 Precondition Failed).")
        if status == 416:
            raise RangeNotSatisfiable(f"{shown}: requested range not satisfiable (HTTP 416).")
        if status in (401, 403):
            raise StoreAccessError(
                f"{shown} refused access (HTTP {status}); check the headers= given to "
                "board_url() (e.g. an authorization token)."
            )
        transient = transient_for_status(status, f"{shown} answered HTTP {status}.", resp.headers)
        if transient is not None:
            raise transient
        raise TransferError(f"{shown} answered HTTP {status}.")

    @staticmethod
    def _conditions(
        if_none_match: str | None, if_modified_since: datetime | str | None
    ) -> dict[str, str]:
        h: dict[str, str] = {}
        if if_none_match:
            h["If-None-Match"] = if_none_match
        if if_modified_since:
            h["If-Modified-Since"] = (
                if_modified_since
                if isinstance(if_modified_since, str)
                else http_date(if_modified_since)
            )
        return h

    @staticmethod
    def _info(key: str, headers: CIMultiDictProxy[str], size: int) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=size,
            etag=headers.get("ETag") or None,
            last_modified=_parse_http_date(headers.get("Last-Modified")),
        )

    async def head(
        self,
        key: str,
        *,
        if_none_match: str | None = None,
        if_modified_since: datetime | str | None = None,
    ) -> ObjectInfo:
        """Size, ETag and Last-Modified of ``key`` (retried); raises ObjectNotFound, NotModified."""
        return await with_retries(
            lambda: self._head_once(key, if_none_match, if_modified_since),
            settings=self.settings,
            what=f"HEAD {public_url(self.url_for(key))}",
        )

    async def _head_once(
        self, key: str, if_none_match: str | None, if_modified_since: datetime | str | None
    ) -> ObjectInfo:
        url = self.url_for(key)
        conds = self._conditions(if_none_match, if_modified_since)
        resp = await self._send("HEAD", url, conds)
        if resp.status in (405, 501):  # no HEAD here: ask for one byte instead
            resp.release()
            stream = await self.open_read(
                key, start=0, end=1, if_none_match=if_none_match,
                if_modified_since=if_modified_since,
            )  # fmt: skip
            await stream.aclose()
            return stream.info
        self._check_status(resp, key, url)
        length = resp.headers.get("Content-Length")
        resp.release()
        if length is None or not length.isdigit():
            stream = await self.open_read(key, start=0, end=1)
            await stream.aclose()
            if stream.info.size < 0:
                raise TransferError(f"{public_url(url)}: the server does not report its size.")
            return stream.info
        return self._info(key, resp.headers, int(length))

    async def open_read(
        self,
        key: str,
        *,
        start: int = 0,
        end: int | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: datetime | str | None = None,
    ) -> BodyStream:
        """GET bytes ``[start, end)`` of ``key`` (see :meth:`apins.stores.base.Store.open_read`).

        With ``if_match`` (a strong ETag) the request carries ``If-Match`` and, when ranged,
        ``If-Range``: a file replaced since is never mixed with the old bytes. A server that
        ignores Range answers 200 with the whole body (``ranged`` False).
        """
        url = self.url_for(key)
        headers = self._conditions(if_none_match, if_modified_since)
        want_range = start > 0 or end is not None
        if want_range:
            headers["Range"] = f"bytes={start}-" + (str(end - 1) if end is not None else "")
        if _is_strong(if_match):
            assert if_match is not None
            headers["If-Match"] = if_match
            if want_range:
                headers["If-Range"] = if_match
        resp = await self._send("GET", url, headers)
        self._check_status(resp, key, url)
        if resp.status == 206:
            m = _CONTENT_RANGE.fullmatch(resp.headers.get("Content-Range", "").strip())
            if not m or int(m.group(1)) != start:
                resp.close()
                raise TransientError(f"{public_url(url)}: unexpected Content-Range in a 206.")
            first, last, total = int(m.group(1)), int(m.group(2)), m.group(3)
            size = int(total) if total != "*" else -1
            info = self._info(key, resp.headers, size)
            return BodyStream(resp, info, first, last - first + 1, True, self.settings)
        size = resp.content_length if resp.content_length is not None else -1
        info = self._info(key, resp.headers, size)
        return BodyStream(resp, info, 0, size, not want_range, self.settings)

    # -- not possible over plain HTTP ----------------------------------------------------------

    async def list(self, prefix: str) -> list[ObjectInfo]:
        raise PinsError("A plain HTTP server cannot list files; URL boards use _pins.yaml.")

    async def list_dirs(self, prefix: str) -> builtins.list[str]:
        raise PinsError("A plain HTTP server cannot list folders; URL boards use _pins.yaml.")

    def _read_only(self) -> ReadOnlyBoard:
        return ReadOnlyBoard("board_url() boards are read-only.")

    async def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        raise self._read_only()

    async def put_file(
        self, key: str, path: Path, *, progress: ProgressCallback | None = None
    ) -> ObjectInfo:
        raise self._read_only()

    async def delete_many(self, keys: Sequence[str]) -> None:
        raise self._read_only()

    async def commit_version(
        self,
        prefix: str,
        files: Sequence[tuple[str, Path]],
        marker: tuple[str, bytes],
        *,
        progress: ProgressCallback | None = None,
    ) -> None:
        raise self._read_only()

    def location_url(self, folder_key: str) -> str:
        """The http(s) URL of the folder ``folder_key`` on the served board."""
        try:
            return self.url_for(folder_key + "/")
        except PinsError:
            return self.url_for(folder_key)

    def browse_url(self, folder_key: str) -> str:
        """The folder's http(s) URL, as the server serves it."""
        return self.location_url(folder_key)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _safe(exc: BaseException) -> str:
    """An exception's text with any URL reduced to its public form."""
    text = str(exc)
    return re.sub(r"https?://[^\s'\"]+", lambda m: public_url(m.group(0)), text)[:300]


__all__ = ["HTTPStore", "http_date"]
