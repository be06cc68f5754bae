"""Google Cloud Storage store: the JSON API on apins's own aiohttp session.

No Google SDK on the request path: every call is one plain HTTP request (see docs/gcs.md for
the per-request CPU measured against gcloud-aio-storage). Tokens come from
:mod:`apins.stores._gcsauth`.

* ``ObjectInfo.etag`` holds the object's *generation*: reads after the first carry
  ``generation=<g>``, so every range of one download comes from the same object version (an
  object replaced meanwhile answers 404, mapped to PreconditionFailed → ObjectChanged), and the
  ``X-Goog-Generation`` of every response is compared as well.
* Large files on a board with a prefix go up as a *parallel composite upload*: parts are
  uploaded concurrently from disk as temporary objects under the bucket-level staging prefix
  ``.apins-parts/<board prefix>`` (outside the board, so no pins reader ever lists them),
  joined with ``compose`` (32 sources per call, in a tree for more) and deleted. Memory stays
  at a few chunks per part. :meth:`GCSStore.list_uploads` finds the parts a crashed writer
  left, for the sweep. On a board at the bucket root that staging prefix would itself be
  listed as a pin, so there every file goes up as one streamed media upload instead.
* Server-side copies between buckets on one endpoint use ``rewriteTo`` (repeated with the
  rewrite token until done).

Error mapping: 404 → ObjectNotFound; 304 → NotModified; 412 → PreconditionFailed; 416 →
RangeNotSatisfiable; 401/403 → StoreAccessError; 408/429/5xx and dropped connections →
TransientError. No message ever contains a token.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import contextvars
import hashlib
import os
import re
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import anyio

from .._one_error import raise_collapsed
from .._redact import shield
from ..errors import StoreAccessError, TransferError
from ..settings import TransferSettings
from ..transfer._util import for_each
from ..transfer.commit import commit_files
from ..transfer.retry import (
    ConnectionLost,
    transient_for_status,
    with_retries,
)
from ..transfer.upload import upload_file
from ._gcsauth import Credentials, resolve_credentials
from ._rest import send_checked
from ._urls import public_url
from .base import (
    FileSpan,
    NotModified,
    ObjectInfo,
    ObjectNotFound,
    PendingInfo,
    PreconditionFailed,
    ProgressCallback,
    RangeNotSatisfiable,
    Store,
    no_web_page,
)
from .http import BodyStream, body_span, new_session
from .s3 import normalize_prefix

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

if TYPE_CHECKING:
    import aiohttp

GOOGLE_API = "https://storage.googleapis.com"
#: the Cloud Console's storage browser (pin_browse)
GCS_CONSOLE = "https://console.cloud.google.com/storage/browser"
#: sources one compose request may join
COMPOSE_FANIN = 32
#: listing page size (the API's maximum)
PAGE_SIZE = 1000
#: fields a listing asks for (smaller pages on the real service)
_LIST_FIELDS = "items(name,size,generation,updated),prefixes,nextPageToken"
#: every temporary part object's name ends so (a bucket lifecycle rule can match it)
PART_SUFFIX = ".apins-part"
#: bucket-level prefix under which composite parts are staged, outside every board's prefix
STAGING = ".apins-parts/"
#: a staged part's name after ``STAGING + board prefix``: the target key, the upload, the part
_PART_NAME = re.compile(
    r"^(?P<key>.+)\.(?P<upload>[0-9a-f]{16})-(?P<tag>[^/.]+)" + re.escape(PART_SUFFIX) + "$"
)


#: the composite uploads completed inside one commit_version, whose parts it deletes at the end
_SPENT: contextvars.ContextVar[builtins.list[tuple[str, str]] | None] = contextvars.ContextVar(
    "apins_gcs_spent_parts", default=None
)
#: custom metadata key on a composed object: a token of the compose call that made it
COMPOSE_MARK = "apins-compose"


def endpoint_from_env(endpoint_url: str | None) -> tuple[str, bool]:
    """The API root and whether it is an emulator: ``endpoint_url``, else
    ``STORAGE_EMULATOR_HOST`` (``host:port`` or a URL), else Google's endpoint."""
    if endpoint_url:
        return endpoint_url.rstrip("/"), True
    host = os.environ.get("STORAGE_EMULATOR_HOST", "").strip()
    if host:
        url = host if "://" in host else f"http://{host}"
        return url.rstrip("/"), True
    return GOOGLE_API, False


def _parse_time(stamp: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")) if stamp else None
    except ValueError:
        return None


def _q(name: str) -> str:
    """An object name as one URL path segment."""
    return quote(name, safe="")


class GCSStore:
    """A board root in a GCS bucket: keys are ``prefix + key``.

    ``prefix`` is normalised like S3's (``"sub"``, ``"sub/"`` → ``"sub/"``), so
    ``GCSStore("bucket", "sub")`` reads what pins-python writes with ``board_gcs("bucket/sub")``.
    The constructor does no I/O; credentials are resolved here (files read), tokens fetched on
    first use.
    """

    read_only = False

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        project: str | None = None,
        token: Any = None,
        anonymous: bool = False,
        settings: TransferSettings | None = None,
    ) -> None:
        if not bucket or "/" in bucket:
            raise ValueError(f"invalid GCS bucket name: {bucket!r}")
        self.bucket = bucket
        self.prefix = normalize_prefix(prefix)
        self.endpoint_url, emulated = endpoint_from_env(endpoint_url)
        self.project = project
        self.settings = settings or TransferSettings()
        shield()  # the redacting log filter, and credentials found in the environment
        self._creds: Credentials = resolve_credentials(
            token, anonymous=anonymous, emulated=emulated
        )
        where = "" if self.endpoint_url == GOOGLE_API else f"{self.endpoint_url}/"
        self.identity = f"gcs:{where}{bucket}/{self.prefix}"
        #: API requests sent, by operation (e.g. "objects.get"): for tests and benchmarks
        self.request_counts: Counter[str] = Counter()
        self._session: aiohttp.ClientSession | None = None
        self._limiter: anyio.CapacityLimiter | None = None

    def __repr__(self) -> str:
        where = "" if self.endpoint_url == GOOGLE_API else f", endpoint_url={self.endpoint_url!r}"
        return f"GCSStore(bucket={self.bucket!r}, prefix={self.prefix!r}{where})"

    # -- plumbing -----------------------------------------------------------------------------

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = new_session(self.settings)
        return self._session

    def location_url(self, folder_key: str) -> str:
        """The ``gs://bucket/key/`` URI of the folder ``folder_key``."""
        return f"gs://{self.bucket}/{self.prefix}{folder_key}/"

    def browse_url(self, folder_key: str) -> str:
        """The Cloud Console's storage browser page of the folder (with ``?project=`` when the
        board names one). An emulator or other custom endpoint has no console: that raises
        UnsupportedType."""
        if self.endpoint_url != GOOGLE_API:
            where = f"GCS at {public_url(self.endpoint_url)}"
            raise no_web_page(where, self.location_url(folder_key))
        path = quote(f"{self.bucket}/{self.prefix}{folder_key}/", safe="/")
        query = f"?{urlencode({'project': self.project})}" if self.project else ""
        return f"{GCS_CONSOLE}/{path}{query}"

    async def aclose(self) -> None:
        """Close the connections; the store can be used again afterwards."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _board_limiter(self) -> anyio.CapacityLimiter:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.settings.max_connections)
        return self._limiter

    def _k(self, key: str) -> str:
        return self.prefix + key

    def _where(self, key: str | None) -> str:
        place = f"gs://{self.bucket}/{self.prefix}{key or ''}"
        return place + ("" if self.endpoint_url == GOOGLE_API else f" at {self.endpoint_url}")

    def _object_url(self, name: str, bucket: str | None = None) -> str:
        return f"{self.endpoint_url}/storage/v1/b/{_q(bucket or self.bucket)}/o/{_q(name)}"

    async def _request(
        self,
        method: str,
        url: str,
        op: str,
        key: str | None,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        data: Any = None,
        json_body: Any = None,
        stream: bool = False,
        if_none_match: str | None = None,
    ) -> aiohttp.ClientResponse:
        """Send one request (no retries); a non-2xx answer raises the mapped error."""
        session = self._client()
        all_headers = await self._creds.headers(session)
        if headers:
            all_headers.update(headers)
        self.request_counts[op] += 1
        if params:
            # one pre-encoded URL: cheaper than letting yarl merge a query per request
            url = f"{url}?{urlencode(params, quote_via=quote)}"

        def error(status: int, body: bytes, answer: Mapping[str, str]) -> Exception:
            return self._error(status, body, op, key, if_none_match, answer)

        return await send_checked(
            session, method, url, settings=self.settings, what=f"GCS {op} on {self._where(key)}",
            ok=(200, 204, 206), on_error=error, headers=all_headers, data=data,
            json_body=json_body, read=not stream,
        )  # fmt: skip

    def _error(
        self,
        status: int,
        body: bytes,
        op: str,
        key: str | None,
        if_none_match: str | None,
        headers: Mapping[str, str] | None = None,
    ) -> Exception:
        where = self._where(key)
        message = ""
        try:
            import msgspec

            answer = msgspec.json.decode(body) if body else {}
            error = answer.get("error", {}) if isinstance(answer, dict) else {}
            message = str(error.get("message", "")) if isinstance(error, dict) else ""
        except Exception:
            message = ""
        if status == 304:
            return NotModified(key or "", if_none_match)
        if status == 404:
            if "bucket" in message.lower():
                return ObjectNotFound(f"the bucket of {where} does not exist")
            return ObjectNotFound(f"no object {where}")
        if status == 412:
            return PreconditionFailed(f"{where} no longer matches the expected generation")
        if status == 416:
            return RangeNotSatisfiable(f"requested range lies outside {where}")
        if status in (401, 403):
            return StoreAccessError(
                f"GCS refused {op} on {where} (HTTP {status}): check the credentials and the "
                "bucket's permissions"
            )
        transient = transient_for_status(
            status, f"GCS {op} on {where} failed: HTTP {status}", headers
        )
        if transient is not None:  # 408, 429, 5xx; Retry-After honoured by the retry loop
            return transient
        return TransferError(f"GCS {op} on {where} failed: HTTP {status} {message[:200]}".strip())

    async def _json(self, method: str, url: str, op: str, key: str | None, **kw: Any) -> Any:
        """One JSON API call with retries; returns the decoded answer (None when empty)."""
        import msgspec

        async def attempt() -> Any:
            resp = await self._request(method, url, op, key, **kw)
            body = await resp.read()
            return msgspec.json.decode(body) if body else None

        return await with_retries(attempt, settings=self.settings, what=f"GCS {op} on {key}")

    def _info(self, key: str, item: dict[str, Any]) -> ObjectInfo:
        gen = item.get("generation")
        return ObjectInfo(
            key=key,
            size=int(item.get("size") or 0),
            etag=str(gen) if gen else None,
            last_modified=_parse_time(item.get("updated")),
        )

    # -- reading ------------------------------------------------------------------------------

    async def _pages(
        self, name_prefix: str, delimiter: str | None, key: str
    ) -> AsyncIterator[dict[str, Any]]:
        """The listing pages of every object whose full name starts with ``name_prefix``
        (``key`` names the listing in errors)."""
        token: str | None = None
        url = f"{self.endpoint_url}/storage/v1/b/{_q(self.bucket)}/o"
        while True:
            params = {"prefix": name_prefix, "maxResults": str(PAGE_SIZE)}
            params["fields"] = _LIST_FIELDS
            if delimiter:
                params["delimiter"] = delimiter
            if token:
                params["pageToken"] = token
            page = await self._json("GET", url, "objects.list", key, params=params)
            yield page or {}
            token = (page or {}).get("nextPageToken")
            if not token:
                return

    async def list(self, prefix: str) -> builtins.list[ObjectInfo]:
        """Every object under ``prefix`` (all pages), keys relative to the board root."""
        cut = len(self.prefix)
        found: builtins.list[ObjectInfo] = []
        async for page in self._pages(self._k(prefix), None, prefix):
            for item in page.get("items", []):
                found.append(self._info(item["name"][cut:], item))
        return found

    async def list_dirs(self, prefix: str) -> builtins.list[str]:
        """Names of the immediate sub-'directories' of ``prefix`` (no slashes)."""
        full = len(self._k(prefix))
        names: builtins.list[str] = []
        async for page in self._pages(self._k(prefix), "/", prefix):
            for common in page.get("prefixes", []):
                name = common[full:].rstrip("/")
                if name:
                    names.append(name)
        return names

    async def head(self, key: str) -> ObjectInfo:
        """Size and generation of ``key``; raises ObjectNotFound."""
        item = await self._json("GET", self._object_url(self._k(key)), "objects.get", key)
        return self._info(key, item)

    async def open_read(
        self,
        key: str,
        *,
        start: int = 0,
        end: int | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> BodyStream:
        """Media GET for bytes ``[start, end)``; one attempt (the engine retries).

        ``if_match`` is a generation: the read asks for exactly that generation, so an object
        replaced since answers 404, raised as PreconditionFailed.
        """
        if end is not None and end <= start:
            raise RangeNotSatisfiable(f"empty range [{start}, {end}) of {self._where(key)}")
        params = {"alt": "media"}
        if if_match:
            params["generation"] = if_match
        if if_none_match:
            params["ifGenerationNotMatch"] = if_none_match
        headers: dict[str, str] = {}
        if start or end is not None:
            headers["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            resp = await self._request(
                "GET",
                self._object_url(self._k(key)),
                "objects.get(media)",
                key,
                params=params,
                headers=headers,
                stream=True,
                if_none_match=if_none_match,
            )
        except ObjectNotFound:
            if if_match:
                raise PreconditionFailed(
                    f"{self._where(key)} no longer has generation {if_match}"
                ) from None
            raise
        return _stream(resp, key)

    # -- writing ------------------------------------------------------------------------------

    def _upload_url(self) -> str:
        return f"{self.endpoint_url}/upload/storage/v1/b/{_q(self.bucket)}/o"

    async def _put(
        self, name: str, key: str, data: Any, size: int, md5: Callable[[], str | None]
    ) -> ObjectInfo:
        """One media upload of ``data`` to the object ``name`` (no retries).

        When the answer is lost after the body was sent, the object is looked up: if it holds
        exactly these bytes (``md5()``, base64 as GCS gives it) the upload took effect and is
        not sent again.
        """
        import msgspec

        try:
            resp = await self._request(
                "POST",
                self._upload_url(),
                "objects.insert",
                key,
                params={"uploadType": "media", "name": name},
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
                data=data,
            )
        except ConnectionLost:  # not an HTTP answer (429, 5xx): the write may have happened
            landed = await self._landed(name, key, md5())
            if landed is None:
                raise
            return landed
        item = msgspec.json.decode(await resp.read())
        return self._info(key, item)

    async def _landed(self, name: str, key: str, md5: str | None) -> ObjectInfo | None:
        """The object ``name`` if it exists with MD5 ``md5``, else None (one metadata GET)."""
        if md5 is None:
            return None
        item = await self._item_once(name, key)
        return self._info(key, item) if item and item.get("md5Hash") == md5 else None

    async def _item_once(self, name: str, key: str) -> dict[str, Any] | None:
        """The metadata of object ``name``, or None when it is missing or the one GET failed
        (a look after a lost answer: the caller's retry loop decides what comes next, so
        its retries do not multiply)."""
        import msgspec

        try:
            resp = await self._request("GET", self._object_url(name), "objects.get", key)
            item = msgspec.json.decode(await resp.read())
        except (ObjectNotFound, TransferError, ValueError):
            return None
        return item if isinstance(item, dict) else None

    async def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        """Upload a small in-memory body in one request."""
        return await with_retries(
            lambda: self._put(self._k(key), key, data, len(data), lambda: _md5(data)),
            settings=self.settings,
            what=f"uploading {self._where(key)}",
        )

    async def put_file_single(
        self, key: str, path: Path, *, on_bytes: Callable[[int], None] | None = None
    ) -> ObjectInfo:
        """Stream ``path`` from disk as one upload; one attempt (the engine retries)."""
        span = FileSpan(path, 0, os.stat(path).st_size)
        return await self._put_span(self._k(key), key, span, on_bytes)

    async def _put_span(
        self, name: str, key: str, span: FileSpan, on_bytes: Callable[[int], None] | None
    ) -> ObjectInfo:
        hasher = hashlib.md5(usedforsecurity=False)
        sent = 0

        async def body() -> AsyncIterator[bytes]:
            nonlocal sent
            async for chunk in span.chunks(self.settings.chunk_size, on_bytes):
                hasher.update(chunk)
                sent += len(chunk)
                yield chunk

        def md5() -> str | None:  # known only once every byte went out
            return base64.b64encode(hasher.digest()).decode() if sent == len(span) else None

        return await self._put(name, key, body(), len(span), md5)

    async def put_file(
        self, key: str, path: Path, *, progress: ProgressCallback | None = None
    ) -> ObjectInfo:
        """Upload a local file: streamed; a parallel composite upload above the threshold."""
        return await upload_file(
            self,
            key,
            path,
            settings=self.settings,
            progress=progress,
            limiter=self._board_limiter(),
        )

    # parallel composite upload: the MultipartStore protocol over temporary part objects

    @property
    def parallel_parts(self) -> bool:
        """Whether large files go up as parallel composite uploads: only on a board with a
        prefix. Parts are staged under ``.apins-parts/<board prefix>``, outside the board;
        at the bucket root that staging folder would be listed as a pin by pins-python and
        R, so a root board sends each file as one streamed upload."""
        return bool(self.prefix)

    def _part_name(self, key: str, upload_id: str, tag: str) -> str:
        """``.apins-parts/<board prefix><key>.<upload id>-<tag>.apins-part``."""
        return f"{self._parts_prefix(key, upload_id)}{tag}{PART_SUFFIX}"

    def _parts_prefix(self, key: str, upload_id: str) -> str:
        return f"{STAGING}{self._k(key)}.{upload_id}-"

    async def create_multipart(self, key: str) -> str:
        """A fresh upload id (no request: parts are ordinary objects named after it)."""
        if not self.parallel_parts:
            raise TransferError(
                f"no composite upload to {self._where(key)}: a board at the bucket root has no "
                "place for parts that pins readers would not list"
            )
        return uuid.uuid4().hex[:16]

    async def upload_part(
        self, key: str, upload_id: str, number: int, data: bytes | FileSpan
    ) -> str:
        """Upload part ``number`` as a temporary object; returns its generation."""
        name = self._part_name(key, upload_id, f"{number:05d}")
        if isinstance(data, FileSpan):
            info = await self._put_span(name, key, data, None)
        else:
            info = await self._put(name, key, data, len(data), lambda: _md5(data))
        return info.etag or ""

    async def complete_multipart(
        self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> ObjectInfo:
        """Compose the parts (a tree of compose calls above 32 parts), then delete them."""
        sources = [(self._part_name(key, upload_id, f"{n:05d}"), gen) for n, gen in sorted(parts)]
        level = 0
        while len(sources) > COMPOSE_FANIN:
            level += 1
            groups = [sources[i : i + COMPOSE_FANIN] for i in range(0, len(sources), COMPOSE_FANIN)]
            names = [
                self._part_name(key, upload_id, f"c{level}-{i:05d}") for i in range(len(groups))
            ]
            gens = await self._compose_many(key, list(zip(names, groups, strict=True)))
            sources = list(zip(names, gens, strict=True))
        final = await self._compose(self._k(key), key, sources)
        spent = _SPENT.get()
        if spent is not None:  # inside commit_version: deleted once data.txt is written
            spent.append((key, upload_id))
        else:
            await self._drop_parts([(key, upload_id)])
        return final

    async def _drop_parts(self, uploads: Sequence[tuple[str, str]]) -> None:
        """Delete the staged parts of these uploads (best effort: the sweep gets the rest)."""
        with anyio.move_on_after(30, shield=True), contextlib.suppress(Exception):
            for key, upload_id in uploads:
                await self.abort_multipart(key, upload_id)

    async def _compose_many(
        self, key: str, jobs: builtins.list[tuple[str, builtins.list[tuple[str, str]]]]
    ) -> builtins.list[str]:
        gens = [""] * len(jobs)
        pending = iter(enumerate(jobs))

        async def worker() -> None:
            for i, (name, group) in pending:
                gens[i] = (await self._compose(name, key, group)).etag or ""

        try:
            async with anyio.create_task_group() as tg:
                for _ in range(min(len(jobs), self.settings.max_concurrency)):
                    tg.start_soon(worker)
        except BaseExceptionGroup as group:
            raise_collapsed(group)
        return gens

    async def _compose(self, name: str, key: str, sources: Sequence[tuple[str, str]]) -> ObjectInfo:
        """Join ``sources`` into ``name``. The result carries a mark unique to this call, so
        when an answer is lost the object is looked up and the compose is not sent again if
        it took effect."""
        import msgspec

        mark = uuid.uuid4().hex
        body = {
            "sourceObjects": [{"name": n, **({"generation": g} if g else {})} for n, g in sources],
            "destination": {
                "contentType": "application/octet-stream",
                "metadata": {COMPOSE_MARK: mark},
            },
        }
        url = self._object_url(name) + "/compose"

        async def once() -> ObjectInfo:
            resp = await self._request("POST", url, "objects.compose", key, json_body=body)
            return self._info(key, msgspec.json.decode(await resp.read()))

        async def applied() -> ObjectInfo | None:
            item = await self._item_once(name, key)
            if item is None or (item.get("metadata") or {}).get(COMPOSE_MARK) != mark:
                return None
            return self._info(key, item)

        return await with_retries(
            once, settings=self.settings, what=f"GCS objects.compose on {key}", applied=applied
        )

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        """Delete every temporary object of this upload."""
        names = [n async for n, _ in self._staged(self._parts_prefix(key, upload_id), key)]
        await for_each(names, lambda n: self._delete_name(n, key), self.settings.max_concurrency)

    async def _staged(self, name_prefix: str, key: str) -> AsyncIterator[tuple[str, Any]]:
        """Full name and listing item of every staged object under ``name_prefix``."""
        async for page in self._pages(name_prefix, None, key):
            for item in page.get("items", []):
                yield item["name"], item

    async def list_uploads(self, prefix: str) -> builtins.list[PendingInfo]:
        """The composite uploads under ``prefix`` (board-relative) whose parts are still
        staged, each with the time of its newest part: what the sweep removes once stale."""
        if not self.parallel_parts:
            return []
        cut = len(STAGING) + len(self.prefix)
        newest: dict[tuple[str, str], datetime | None] = {}
        async for name, item in self._staged(STAGING + self._k(prefix), prefix):
            found = _PART_NAME.match(name[cut:])
            if found is None:
                continue
            upload = (found["key"], found["upload"])
            when = _parse_time(item.get("updated"))
            before = newest.get(upload)
            if upload not in newest or (when is not None and (before is None or when > before)):
                newest[upload] = when
        return [PendingInfo(k, u, when) for (k, u), when in sorted(newest.items())]

    async def _delete_name(self, name: str, key: str) -> None:
        with contextlib.suppress(ObjectNotFound):
            await self._json("DELETE", self._object_url(name), "objects.delete", key)

    async def _delete(self, key: str) -> None:
        await self._delete_name(self._k(key), key)

    async def delete_many(self, keys: Sequence[str]) -> None:
        """Delete these keys, several at once; missing keys are fine."""
        await for_each(keys, self._delete, self.settings.max_concurrency)

    async def commit_version(
        self,
        prefix: str,
        files: Sequence[tuple[str, Path]],
        marker: tuple[str, bytes],
        *,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Upload the data files (concurrently), then data.txt last; then delete the parts of
        the composite uploads, so that the deletes do not widen the window in which the
        version's files are visible without its data.txt."""
        spent: builtins.list[tuple[str, str]] = []
        token = _SPENT.set(spent)
        try:
            await commit_files(
                self,
                prefix,
                files,
                marker,
                settings=self.settings,
                progress=progress,
                limiter=self._board_limiter(),
            )
        finally:
            _SPENT.reset(token)
            await self._drop_parts(spent)

    # -- server-side copy -----------------------------------------------------------------------

    async def copy_from(
        self, source: Store, source_key: str, key: str, *, info: ObjectInfo | None = None
    ) -> ObjectInfo | None:
        """``rewriteTo`` from a GCSStore on the same endpoint (any bucket); None elsewhere,
        so the caller streams the bytes instead. Pinned to the source generation when known."""
        if not isinstance(source, GCSStore) or source.endpoint_url != self.endpoint_url:
            return None
        url = (
            f"{source._object_url(source._k(source_key))}/rewriteTo/b/{_q(self.bucket)}"
            f"/o/{_q(self._k(key))}"
        )
        params: dict[str, str] = {}
        if info is not None and info.etag:
            params["sourceGeneration"] = info.etag
        while True:
            answer = await self._json(
                "POST", url, "objects.rewrite", key, params=dict(params), json_body={}
            )
            if answer.get("done"):
                return self._info(key, answer.get("resource", {}))
            params["rewriteToken"] = str(answer.get("rewriteToken", ""))


def _md5(data: bytes) -> str:
    """MD5 in base64, as GCS's ``md5Hash``."""
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def _stream(resp: aiohttp.ClientResponse, key: str) -> BodyStream:
    first, length, total, ranged = body_span(resp)
    gen = resp.headers.get("X-Goog-Generation")
    return BodyStream(resp, ObjectInfo(key, total, gen or None, None), first, length, ranged)
