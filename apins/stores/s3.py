"""S3 (and S3-compatible: SeaweedFS, MinIO, moto...) store on aiobotocore.

aiobotocore and botocore are imported lazily, on first use, so ``import apins`` stays light.
Error mapping: missing → ObjectNotFound; 304 → NotModified; 412 → PreconditionFailed;
416 → RangeNotSatisfiable; 403 and bad keys → StoreAccessError; throttling, 5xx, timeouts and
dropped connections → TransientError. No message ever contains a secret.
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import contextlib
import functools
import hashlib
import io
import logging
import math
import os
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import anyio

from .._one_error import raise_collapsed
from .._redact import register_secret, shield
from ..errors import TransferError
from ..settings import TransferSettings
from ..transfer.commit import commit_files
from ..transfer.reqlog import request_line
from ..transfer.retry import TransientError, with_retries
from ..transfer.upload import upload_file
from ._cloud_errors import map_botocore_error
from ._filebody import SpanBody, span_crc32, span_md5
from ._s3http import PresignedReader, parse_copy_result
from ._sigv4 import Keys, Presigner, UrlTemplate, canonical_query
from ._urls import public_url
from .base import (
    FileSpan,
    ObjectInfo,
    ObjectNotFound,
    PendingInfo,
    ProgressCallback,
    RangeNotSatisfiable,
    Store,
    no_web_page,
)
from .http import BodyStream

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

GiB = 1024**3
#: largest object CopyObject copies in one request
MAX_SINGLE_COPY = 5 * GiB
#: part size for UploadPartCopy of larger objects
COPY_PART = 512 * 1024**2
DELETE_BATCH = 1000
#: the AWS console's bucket pages (pin_browse)
AWS_CONSOLE = "https://s3.console.aws.amazon.com/s3/buckets"
#: environment variables that give botocore an endpoint other than AWS's
_ENDPOINT_VARS = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")

#: HTTP method of each S3 operation apins calls through botocore (for the request log)
_METHODS = {
    "head_object": "HEAD",
    "get_object": "GET",
    "list_objects_v2": "GET",
    "put_object": "PUT",
    "upload_part": "PUT",
    "upload_part_copy": "PUT",
    "copy_object": "PUT",
    "create_multipart_upload": "POST",
    "complete_multipart_upload": "POST",
    "delete_objects": "POST",
    "abort_multipart_upload": "DELETE",
    "delete_object": "DELETE",
}

log = logging.getLogger("apins.store.s3")


def normalize_prefix(prefix: str) -> str:
    """Return the key prefix with no leading '/' and exactly one trailing '/' (or '').

    pins-python's ``board_s3("bucket/sub")`` stores ``sub/<pin>/<version>/<file>``; R pins
    concatenates its prefix verbatim and needs ``"sub/"`` for the same keys. Normalising both
    spellings (``"sub"``, ``"sub/"``, ``"/sub//"``) to ``"sub/"`` makes all of them one board.
    """
    stripped = prefix.strip("/")
    return stripped + "/" if stripped else ""


def normalize_etag(etag: str | None) -> str | None:
    """ETags in their quoted HTTP form; SeaweedFS returns copy ETags without quotes."""
    if etag is None or etag == "":
        return None
    etag = etag.strip()
    if etag.startswith(('"', 'W/"')):
        return etag
    return f'"{etag}"'


async def _md5(body: bytes | FileSpan) -> bytes:
    """MD5 digest of a body (its Content-MD5, and S3's ETag of a single-request object or
    part), off the event loop."""
    if isinstance(body, bytes | bytearray):
        return hashlib.md5(body, usedforsecurity=False).digest()
    return await anyio.to_thread.run_sync(span_md5, body)


async def _crc32(body: bytes | FileSpan) -> int:
    """CRC32 of a body, off the event loop."""
    if isinstance(body, bytes | bytearray):
        return zlib.crc32(body)
    return await anyio.to_thread.run_sync(span_crc32, body)


async def _md5_hex(body: bytes | FileSpan) -> str:
    return (await _md5(body)).hex()


def checked_etag(etag: str | None, md5: bytes, answer: Mapping[str, str], what: str) -> str:
    """The quoted ETag of an object or part S3 stored from a body whose MD5 is ``md5``.

    A server that checks Content-MD5 (AWS, SeaweedFS, MinIO...) has refused a body damaged on
    the way already; one that does not (moto) answers the MD5 of the bytes it got, so an
    ETag of 32 hex digits that is not ``md5`` means damaged bytes were stored: raised as a
    TransientError, so the body is sent again. The ETag of an object the answer says is
    encrypted is not checked: it need not be the MD5 (KMS and customer keys on AWS, any
    encryption on MinIO), and servers that encrypt check the digest themselves.
    """
    tag = normalize_etag(etag)
    if tag is None:
        raise TransferError(f"{what}: the server answered without an ETag")
    opaque = any(name.lower().startswith("x-amz-server-side-encryption") for name in answer)
    bare = tag.strip('"').lower()
    if not opaque and len(bare) == 32 and bare != md5.hex():
        try:
            int(bare, 16)
        except ValueError:
            return tag
        raise TransientError(
            f"{what}: the server stored bytes whose MD5 is {bare}, not the {md5.hex()} sent "
            "(damaged on the way)"
        )
    return tag


def _answer_headers(response: Mapping[str, Any]) -> Mapping[str, str]:
    """The HTTP headers of a botocore answer (lower-case names)."""
    headers: Mapping[str, str] = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return headers


def _if_match(etag: str | None) -> dict[str, str]:
    return {"CopySourceIfMatch": etag} if etag else {}


@functools.cache
def _shared_loader() -> Any:
    """One botocore model loader for every store: parsing the S3 service model made each new
    client cost about 0.7 s of CPU; with the parsed model shared it costs about 0.1 s."""
    from botocore.loaders import create_loader

    return create_loader()


_SESSIONS: dict[tuple[Any, ...], Any] = {}
_SESSIONS_MAX = 8


def _shared_session(profile: str | None) -> Any:
    """One aiobotocore session per profile, thread and AWS_* environment, shared by every store:
    building a session registers some 120 event handlers (about half of a new client's CPU),
    and the session resolves the credential chain once instead of once per board. The key
    holds the AWS_* environment, so a changed environment gets a fresh session."""
    from aiobotocore.session import AioSession

    key = (profile, threading.get_ident(), _aws_env())
    session = _SESSIONS.get(key)
    if session is None:
        session = AioSession(profile=profile)
        session.register_component("data_loader", _shared_loader())
        if len(_SESSIONS) >= _SESSIONS_MAX:
            _SESSIONS.pop(next(iter(_SESSIONS)))
        _SESSIONS[key] = session
    return session


#: URL templates learnt from botocore (None: an unexpected shape, botocore presigns), by
#: everything that shapes its URLs: a new store of a known bucket presigns its first request
#: at once, without a botocore client (10-20 ms of CPU to build, for two presigned URLs)
_TEMPLATES: dict[tuple[Any, ...], UrlTemplate | None] = {}
_TEMPLATES_MAX = 64


def _aws_env() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))


@functools.cache
def _one_attempt_session() -> type:
    """aiobotocore's HTTP session with aiohttp's silent re-send turned off (see
    :func:`apins.stores.http.no_blind_retry`)."""
    from aiobotocore.httpsession import AIOHTTPSession

    from .http import no_blind_retry

    class OneAttemptSession(AIOHTTPSession):  # type: ignore[misc]
        async def _get_session(self, proxy_url: Any) -> Any:
            return no_blind_retry(await super()._get_session(proxy_url))

    return OneAttemptSession


class _ProgressReader(io.RawIOBase):
    """A readable file wrapper that reports bytes read (from aiohttp's reader thread)."""

    def __init__(self, raw: io.RawIOBase, report: Callable[[int], None]) -> None:
        super().__init__()
        self._raw = raw
        self._report = report

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, buffer: Any) -> int:
        n = self._raw.readinto(buffer)
        if n:
            self._report(n)
        return n

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if data:
            self._report(len(data))
        return data

    def close(self) -> None:
        self._raw.close()
        super().close()


async def _register_resolved_credentials(session: Any) -> None:
    """Register the secret and token the AWS chain found (profile files, SSO...) for redaction."""
    try:
        creds = await session.get_credentials()
        if creds is not None:
            frozen = await creds.get_frozen_credentials()
            register_secret(frozen.secret_key, frozen.token)
    except Exception:  # no credentials yet: the first request reports it
        return


class S3Store:
    """A board root in an S3 bucket: keys are ``prefix + key``.

    ``prefix`` is normalised to end in exactly one '/' (see :func:`normalize_prefix`), so
    ``S3Store("bucket", "sub")`` reads the board pins-python writes with
    ``board_s3("bucket/sub")`` and R writes with ``board_s3("bucket", prefix = "sub/")``.

    The constructor does no I/O. Credentials come from explicit keys, else ``profile``,
    else the usual AWS chain (environment, config files, instance roles); ``anonymous=True``
    sends unsigned requests (public buckets). The aiobotocore client is created on first use.
    """

    read_only = False

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        session_token: str | None = None,
        anonymous: bool = False,
        settings: TransferSettings | None = None,
    ) -> None:
        if not bucket or "/" in bucket:
            raise ValueError(f"invalid S3 bucket name: {bucket!r}")
        self.bucket = bucket
        self.prefix = normalize_prefix(prefix)
        self.endpoint_url = endpoint_url.rstrip("/") if endpoint_url else None
        self.region = region
        self.profile = profile
        self.anonymous = anonymous
        self.settings = settings or TransferSettings()
        self._secrets = (access_key, secret_key, session_token)
        shield(secret_key, session_token)
        self.identity = f"s3:{self.endpoint_url or 'aws'}/{bucket}/{self.prefix}"
        #: API requests sent, by S3 operation name (e.g. "GetObject"): cheap instrumentation
        #: for tests, benchmarks and users who watch their request bill
        self.request_counts: Counter[str] = Counter()
        self._client: Any = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._lock: asyncio.Lock | None = None
        self._limiter: anyio.CapacityLimiter | None = None
        self._reader = PresignedReader(self.settings)
        self._session: Any = None
        #: presigns reads without botocore once it has learnt the bucket's URLs (None after
        #: learning: their shape was unexpected, so botocore presigns every URL)
        self._signer: Presigner | None = None
        self._signer_learnt = False
        self._keys: Keys | None = None
        #: the CRC32 of each part sent, by upload (uploads that take part checksums)
        self._part_sums: dict[str, dict[int, str]] = {}

    def __repr__(self) -> str:
        where = f", endpoint_url={self.endpoint_url!r}" if self.endpoint_url else ""
        return f"S3Store(bucket={self.bucket!r}, prefix={self.prefix!r}{where})"

    # -- client -------------------------------------------------------------------------------

    async def _get_client(self) -> Any:
        if self._client is not None:
            return self._client
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._client is None:
                self._client = await self._create_client()
        return self._client

    async def _create_client(self) -> Any:
        from aiobotocore.config import AioConfig
        from botocore import UNSIGNED

        s = self.settings
        options: dict[str, Any] = {
            "max_pool_connections": s.max_connections,
            "connect_timeout": s.connect_timeout,
            "read_timeout": s.read_timeout,
            # one attempt: retries are apins's (botocore's max_attempts counts retries, so
            # max_attempts=1 meant one hidden, blind retry of every request, writes included)
            "retries": {"total_max_attempts": 1, "mode": "standard"},
            "request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required",
        }
        if self.endpoint_url:
            options["s3"] = {"addressing_style": "path"}
        # SigV4 for presigned reads too (botocore would presign with the legacy SigV2)
        options["signature_version"] = UNSIGNED if self.anonymous else "s3v4"
        options["http_session_cls"] = _one_attempt_session()
        session = _shared_session(self.profile)
        access_key, secret_key, token = self._secrets
        region = self.region or (None if not self.endpoint_url else "us-east-1")
        if region is None and session.get_config_variable("region") is None:
            region = "us-east-1"
        context = session.create_client(
            "s3",
            region_name=region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            aws_session_token=token,
            config=AioConfig(**options),
        )
        stack = contextlib.AsyncExitStack()
        client = await stack.enter_async_context(context)
        self._stack = stack
        self._session = session
        if access_key is None and not self.anonymous:  # explicit keys are registered already
            await _register_resolved_credentials(session)
        return client

    def location_url(self, folder_key: str) -> str:
        """The ``s3://bucket/key/`` URI of the folder ``folder_key``."""
        return f"s3://{self.bucket}/{self.prefix}{folder_key}/"

    def browse_url(self, folder_key: str) -> str:
        """The AWS console's page of the folder (its prefix in the bucket; signing in is the
        browser's business). A custom endpoint (MinIO, SeaweedFS...) has no console: that
        raises UnsupportedType rather than hand out a presigned URL, which would put a
        temporary credential in the browser's history."""
        custom = self.endpoint_url or next(
            (os.environ[v] for v in _ENDPOINT_VARS if os.environ.get(v)), None
        )
        if custom:
            raise no_web_page(f"S3 at {public_url(custom)}", self.location_url(folder_key))
        query = {"prefix": f"{self.prefix}{folder_key}/"}
        if self.region:
            query = {"region": self.region, **query}
        return f"{AWS_CONSOLE}/{quote(self.bucket, safe='')}?{urlencode(query, safe='/')}"

    async def aclose(self) -> None:
        """Close the client and its connections; the store can be used again afterwards."""
        stack, self._stack, self._client = self._stack, None, None
        await self._reader.aclose()
        if stack is not None:
            await stack.aclose()

    def _board_limiter(self) -> anyio.CapacityLimiter:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.settings.max_connections)
        return self._limiter

    # -- errors -------------------------------------------------------------------------------

    def _where(self, key: str | None) -> str:
        place = f"s3://{self.bucket}/{self.prefix}{key or ''}"
        return place + (f" at {self.endpoint_url}" if self.endpoint_url else "")

    def _map_error(self, exc: Exception, op: str, key: str | None) -> Exception:
        """Translate a botocore/aiohttp exception into the apins hierarchy."""
        return map_botocore_error(exc, op=op, where=self._where(key), key=key)

    async def _presign(self, op: str, key: str | None, params: dict[str, Any]) -> str:
        """A presigned URL for ``op`` (get_object or list_objects_v2), signed by
        :mod:`apins.stores._sigv4` once the bucket's URL shape is known, else by botocore;
        presigning errors (credentials, params) mapped."""
        try:
            signer = await self._url_signer()
            if signer is None:
                client = await self._get_client()
                url = await client.generate_presigned_url(op, Params=params, ExpiresIn=3600)
                return str(url)
            keys = await self._signing_keys()
        except Exception as exc:
            mapped = self._map_error(exc, op, key)
            if mapped is exc:
                raise
            raise mapped from exc
        if op == "get_object":
            return signer.url(signer.template.object_path(params["Key"]), {}, keys)
        query = {"list-type": "2", "prefix": params["Prefix"]}
        if params.get("Delimiter"):
            query["delimiter"] = params["Delimiter"]
        if params.get("ContinuationToken"):
            query["continuation-token"] = params["ContinuationToken"]
        query["encoding-type"] = "url"
        return signer.url(signer.template.list_path, query, keys)

    async def _url_signer(self) -> Presigner | None:
        """The bucket's presigner, from the URL shape botocore presigns (learnt once per
        process for each bucket, endpoint, region, profile and AWS_* environment)."""
        if not self._signer_learnt:
            where = (self.endpoint_url, self.region, self.bucket, self.anonymous, self.profile)
            key = (*where, _aws_env())
            if key in _TEMPLATES:
                template = _TEMPLATES[key]
            else:
                template = await self._learn_template()
                if len(_TEMPLATES) >= _TEMPLATES_MAX:
                    _TEMPLATES.pop(next(iter(_TEMPLATES)))
                _TEMPLATES[key] = template
            self._signer = Presigner(template) if template is not None else None
            self._signer_learnt = True
        return self._signer

    async def _learn_template(self) -> UrlTemplate | None:
        """The bucket's URL shape, from two URLs botocore presigns (None: unexpected)."""
        client = await self._get_client()
        probe = "apins-probe"
        obj = await client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": probe}, ExpiresIn=60
        )
        listing = await client.generate_presigned_url(
            "list_objects_v2", Params={"Bucket": self.bucket, "Prefix": ""}, ExpiresIn=60
        )
        template = UrlTemplate.learn(str(obj), probe, str(listing))
        if template is not None and template.region is None and not self.anonymous:
            template = None  # botocore did not sign: keep its way
        if template is None:
            log.debug("presigning through botocore: unexpected presigned URL shape")
        return template

    async def _signing_keys(self) -> Keys | None:
        """The credentials the client signs with now (None: anonymous requests)."""
        if self.anonymous:
            return None
        access_key, secret_key, token = self._secrets
        if access_key is not None and secret_key is not None:
            return Keys(access_key, secret_key, token)
        if self._session is None:  # no client made yet: the session it would use
            self._session = _shared_session(self.profile)
        creds = await self._session.get_credentials()
        if creds is None:
            from botocore.exceptions import NoCredentialsError

            raise NoCredentialsError()
        frozen = await creds.get_frozen_credentials()
        keys = self._keys
        if keys is None or (keys.access_key, keys.secret_key, keys.token) != tuple(frozen):
            register_secret(frozen.secret_key, frozen.token)  # refreshed credentials
            keys = self._keys = Keys(frozen.access_key, frozen.secret_key, frozen.token)
        return keys

    async def _call(self, op: str, key: str | None, **params: Any) -> Any:
        """One API call, errors mapped; no retries."""
        client = await self._get_client()
        name = "".join(w.capitalize() for w in op.split("_"))
        self.request_counts[name] += 1
        t0 = time.perf_counter()
        try:
            response = await getattr(client, op)(**params)
        except Exception as exc:
            self._log_call(op, name, params, exc, t0)
            mapped = self._map_error(exc, op, key)
            if mapped is exc:
                raise
            raise mapped from None

        self._log_call(op, name, params, response, t0)
        return response

    def _log_call(
        self, op: str, name: str, params: dict[str, Any], outcome: Any, t0: float
    ) -> None:
        """DEBUG: method, operation, URL (no query, so no signature), status, bytes, time."""
        if not log.isEnabledFor(logging.DEBUG):
            return
        if isinstance(outcome, BaseException):
            meta = getattr(outcome, "response", {}).get("ResponseMetadata", {})
            status: Any = meta.get("HTTPStatusCode") or type(outcome).__name__
            size = None
        else:
            status = outcome.get("ResponseMetadata", {}).get("HTTPStatusCode")
            body = params.get("Body")
            size = params.get("ContentLength") or outcome.get("ContentLength")
            if size is None and isinstance(body, bytes | bytearray | memoryview):
                size = len(body)
        base = self.endpoint_url or "https://s3.amazonaws.com"
        url = f"{base}/{self.bucket}/{params.get('Key', params.get('Prefix', ''))}"
        line = request_line(_METHODS.get(op, "POST"), url, status, size, time.perf_counter() - t0)
        log.debug("%s %s", name, line)

    async def _signed(
        self,
        name: str,
        key: str,
        headers: dict[str, str],
        body: bytes | SpanBody = b"",
        *,
        method: str = "PUT",
        query: Mapping[str, str] | None = None,
    ) -> tuple[Mapping[str, str], bytes] | None:
        """``method key?query`` signed by :mod:`apins.stores._sigv4` and sent on the reader's
        session (one attempt, errors mapped); None when this store signs through botocore
        only (anonymous, or URLs of an unexpected shape): the caller uses :meth:`_call`.

        A bytes body is signed with its SHA-256; a file body goes as ``UNSIGNED-PAYLOAD``
        (the caller sends its Content-MD5, which the server checks, and checks the ETag)."""
        try:
            signer = await self._url_signer()
            keys = None if signer is None else await self._signing_keys()
        except Exception as exc:
            mapped = self._map_error(exc, name, key)
            if mapped is exc:
                raise
            raise mapped from exc
        if signer is None or keys is None:
            return None
        path = signer.template.object_path(self._k(key))
        sha = "UNSIGNED-PAYLOAD" if isinstance(body, SpanBody) else hashlib.sha256(body).hexdigest()
        qs = canonical_query(query) if query else ""
        signed = signer.headers(method, path, headers, sha, keys, query=qs)
        signed["Content-Length"] = str(len(body) if isinstance(body, bytes) else body.size)
        self.request_counts[name] += 1
        url = signer.template.origin + path + (f"?{qs}" if qs else "")
        return await self._reader.send(
            method, url, signed, body, op=name, key=key, where=self._where(key)
        )

    async def _retry(self, op: str, key: str | None, **params: Any) -> Any:
        """One API call with our retries on transient failures."""
        return await with_retries(
            lambda: self._call(op, key, **params),
            settings=self.settings,
            what=f"S3 {op} on {self._where(key)}",
        )

    def _k(self, key: str) -> str:
        return self.prefix + key

    def _info(self, key: str, size: int, etag: str | None, modified: Any) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=int(size),
            etag=normalize_etag(etag),
            last_modified=modified if isinstance(modified, datetime) else None,
        )

    # -- reading ------------------------------------------------------------------------------

    async def _pages(self, prefix: str, delimiter: str | None) -> AsyncIterator[dict[str, Any]]:
        token: str | None = None
        while True:
            params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self._k(prefix)}
            if delimiter:
                params["Delimiter"] = delimiter
            if token:
                params["ContinuationToken"] = token
            page = await with_retries(
                lambda params=params: self._list_page(prefix, params),  # type: ignore[misc]
                settings=self.settings,
                what=f"S3 ListObjectsV2 on {self._where(prefix)}",
            )
            yield page
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    async def _list_page(self, prefix: str, params: dict[str, Any]) -> dict[str, Any]:
        """One ListObjectsV2 page as a presigned GET (see :mod:`apins.stores._s3http`)."""
        url = await self._presign("list_objects_v2", prefix, params)
        self.request_counts["ListObjectsV2"] += 1
        return await self._reader.get_list_page(url, self._where(prefix))

    async def list(self, prefix: str) -> list[ObjectInfo]:
        """Every object under ``prefix`` (all pages), keys relative to the board root."""
        cut = len(self.prefix)
        found: list[ObjectInfo] = []
        async for page in self._pages(prefix, None):
            for item in page.get("Contents", []):
                found.append(
                    self._info(
                        item["Key"][cut:], item["Size"], item.get("ETag"), item.get("LastModified")
                    )
                )
        return found

    async def list_dirs(self, prefix: str) -> builtins.list[str]:
        """Names of the immediate sub-'directories' of ``prefix`` (no slashes)."""
        full = len(self._k(prefix))
        names: builtins.list[str] = []
        async for page in self._pages(prefix, "/"):
            for common in page.get("CommonPrefixes", []):
                name = common["Prefix"][full:].rstrip("/")
                if name:
                    names.append(name)
        return names

    async def head(self, key: str) -> ObjectInfo:
        """Size and ETag of ``key``; raises ObjectNotFound."""
        r = await self._retry("head_object", key, Bucket=self.bucket, Key=self._k(key))
        return self._info(key, r["ContentLength"], r.get("ETag"), r.get("LastModified"))

    async def open_read(
        self,
        key: str,
        *,
        start: int = 0,
        end: int | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> BodyStream:
        """GetObject for bytes ``[start, end)``, sent as a presigned GET on the store's own
        aiohttp session (see :mod:`apins.stores._s3http`); one attempt (the engine retries)."""
        if end is not None and end <= start:
            raise RangeNotSatisfiable(f"empty range [{start}, {end}) of {self._where(key)}")
        url = await self._presign("get_object", key, {"Bucket": self.bucket, "Key": self._k(key)})
        self.request_counts["GetObject"] += 1
        return await self._reader.open(
            url,
            key,
            self._where(key),
            start=start,
            end=end,
            if_match=if_match,
            if_none_match=if_none_match,
        )

    # -- writing ------------------------------------------------------------------------------

    async def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        """PutObject of a small in-memory body, sent with its Content-MD5: a server that
        gets the head but not the whole body (the writer died mid-request) must refuse it;
        without the digest SeaweedFS stores an empty object, e.g. an empty data.txt that
        would make a version visible."""
        digest = hashlib.md5(data, usedforsecurity=False).digest()
        md5 = base64.b64encode(digest).decode()
        what = f"S3 PutObject on {self._where(key)}"

        async def once() -> ObjectInfo:
            answer = await self._signed("PutObject", key, {"Content-MD5": md5}, data)
            if answer is not None:
                etag = checked_etag(answer[0].get("ETag"), digest, answer[0], what)
                return self._info(key, len(data), etag, None)
            r = await self._call(
                "put_object", key, Bucket=self.bucket, Key=self._k(key), Body=data, ContentMD5=md5
            )
            etag = checked_etag(r.get("ETag"), digest, _answer_headers(r), what)
            return self._info(key, len(data), etag, None)

        return await with_retries(
            once,
            settings=self.settings,
            what=f"S3 put_object on {self._where(key)}",
            applied=lambda: self.put_applied(key, data),
        )

    # -- did a write whose answer was lost take effect? ----------------------------------------

    async def put_applied(self, key: str, body: bytes | FileSpan) -> ObjectInfo | None:
        """The object at ``key`` if it holds exactly ``body`` (size and MD5 ETag)."""
        try:
            r = await self._call("head_object", key, Bucket=self.bucket, Key=self._k(key))
        except ObjectNotFound:
            return None
        size, etag = int(r["ContentLength"]), normalize_etag(r.get("ETag"))
        if size != len(body) or etag != f'"{await _md5_hex(body)}"':
            return None
        return self._info(key, size, etag, r.get("LastModified"))

    async def part_applied(
        self, key: str, upload_id: str, number: int, body: bytes | FileSpan
    ) -> str | None:
        """The ETag of part ``number`` if ListParts shows it with ``body``'s size and MD5."""
        marker = 0
        while True:
            r = await self._call(
                "list_parts", key, Bucket=self.bucket, Key=self._k(key), UploadId=upload_id,
                PartNumberMarker=marker,
            )  # fmt: skip
            for part in r.get("Parts", []):
                if int(part["PartNumber"]) != number:
                    continue
                etag = normalize_etag(part.get("ETag"))
                if int(part["Size"]) == len(body) and etag == f'"{await _md5_hex(body)}"':
                    return etag
                return None
            marker = int(r.get("NextPartNumberMarker") or 0)
            if not r.get("IsTruncated") or marker <= 0:
                return None

    async def complete_applied(
        self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> ObjectInfo | None:
        """The object at ``key`` if its ETag is the multipart ETag of exactly ``parts``."""
        digest = hashlib.md5(usedforsecurity=False)
        for _, etag in parts:
            digest.update(bytes.fromhex(etag.strip('"')))
        try:
            info = await self.head(key)
        except ObjectNotFound:
            return None
        return info if info.etag == f'"{digest.hexdigest()}-{len(parts)}"' else None

    async def put_file_single(
        self, key: str, path: Path, *, on_bytes: Callable[[int], None] | None = None
    ) -> ObjectInfo:
        """PutObject streaming ``path`` from disk with its Content-MD5; one attempt (the
        engine retries)."""
        span = FileSpan(path, 0, os.stat(path).st_size)
        etag = await self._put_span("PutObject", key, span, None, on_bytes)
        return self._info(key, len(span), etag, None)

    async def _put_span(
        self,
        name: str,
        key: str,
        data: bytes | FileSpan,
        query: dict[str, str] | None,
        on_bytes: Callable[[int], None] | None = None,
        sums: dict[int, str] | None = None,
    ) -> str:
        """PutObject (``query`` None) or UploadPart of ``data`` with its Content-MD5, signed
        by apins and sent by the kernel (:class:`SpanBody`) when it can, else through
        botocore; the stored ETag, checked against the MD5 (:func:`checked_etag`).

        With ``sums`` (the part of an upload that takes CRC32 checksums), the part goes with
        its ``x-amz-checksum-crc32`` instead (a quarter of MD5's CPU), kept in ``sums`` for
        CompleteMultipartUpload; see :meth:`_checked_crc32`."""
        what = f"S3 {name} on {self._where(key)}"
        if sums is not None and query is not None:
            crc = base64.b64encode((await _crc32(data)).to_bytes(4, "big")).decode()
            sums[int(query["partNumber"])] = crc
            sent = ("ChecksumCRC32", crc)
            etag, answer = await self._send_span(name, key, data, query, on_bytes, sent)
            return await self._checked_crc32(etag, crc, answer, data, what)
        digest = await _md5(data)
        sent = ("ContentMD5", base64.b64encode(digest).decode())
        etag, answer = await self._send_span(name, key, data, query, on_bytes, sent)
        return checked_etag(etag, digest, answer, what)

    async def _send_span(
        self,
        name: str,
        key: str,
        data: bytes | FileSpan,
        query: dict[str, str] | None,
        on_bytes: Callable[[int], None] | None,
        digest: tuple[str, str],
    ) -> tuple[str | None, Mapping[str, str]]:
        """Send ``data`` with ``digest`` (botocore's "ContentMD5" or "ChecksumCRC32", and the
        base64 value) by apins's signer, or else botocore; the answer's ETag and headers."""
        if isinstance(data, FileSpan):
            body: bytes | SpanBody = SpanBody(
                data, stall_timeout=self.settings.read_timeout, on_bytes=on_bytes
            )
        else:
            body = data
        kind, value = digest
        header = {"Content-MD5" if kind == "ContentMD5" else "x-amz-checksum-crc32": value}
        signed = await self._signed(name, key, header, body, query=query)
        if signed is not None:
            if on_bytes is not None and isinstance(data, bytes):
                on_bytes(len(data))
            return signed[0].get("ETag"), signed[0]
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self._k(key), kind: value}
        if query is not None:
            params.update(UploadId=query["uploadId"], PartNumber=int(query["partNumber"]))
        op = "put_object" if query is None else "upload_part"
        r = await self._call_with_body(op, key, data, params, on_bytes)
        return r.get("ETag"), _answer_headers(r)

    async def _checked_crc32(
        self,
        etag: str | None,
        crc: str,
        answer: Mapping[str, str],
        data: bytes | FileSpan,
        what: str,
    ) -> str:
        """The ETag of a part sent with CRC32 ``crc``, once the checksum the server answers
        (the CRC32 of the bytes it stored: S3 and SeaweedFS refuse a mismatch themselves)
        equals it; a server that answers none (moto) has its ETag checked against the
        part's MD5 instead."""
        echoed = answer.get("x-amz-checksum-crc32")
        if echoed is None:
            return checked_etag(etag, await _md5(data), answer, what)
        if echoed != crc:
            raise TransientError(
                f"{what}: the server stored bytes whose CRC32 is {echoed}, not the {crc} sent "
                "(damaged on the way)"
            )
        tag = normalize_etag(etag)
        if tag is None:
            raise TransferError(f"{what}: the server answered without an ETag")
        return tag

    async def _call_with_body(
        self,
        op: str,
        key: str,
        data: bytes | FileSpan,
        params: dict[str, Any],
        on_bytes: Callable[[int], None] | None,
    ) -> Any:
        """:meth:`_call` with ``data`` as the body, a file span streamed from disk."""
        if isinstance(data, bytes | bytearray):
            r = await self._call(op, key, Body=data, ContentLength=len(data), **params)
            if on_bytes is not None:
                on_bytes(len(data))
            return r
        loop = asyncio.get_running_loop()
        raw = await anyio.to_thread.run_sync(data.open)
        body: io.RawIOBase = raw
        if on_bytes is not None:

            def report(n: int) -> None:
                loop.call_soon_threadsafe(on_bytes, n)

            body = _ProgressReader(raw, report)
        try:
            return await self._call(op, key, Body=body, ContentLength=len(data), **params)
        finally:
            body.close()

    async def put_file(
        self, key: str, path: Path, *, progress: ProgressCallback | None = None
    ) -> ObjectInfo:
        """Upload a local file: streamed, multipart above ``settings.multipart_threshold``."""
        return await upload_file(
            self,
            key,
            path,
            settings=self.settings,
            progress=progress,
            limiter=self._board_limiter(),
        )

    async def create_multipart(self, key: str) -> str:
        """CreateMultipartUpload declaring CRC32 part checksums. A server that takes them
        up (it answers the algorithm: S3, SeaweedFS, moto) gets each part with its CRC32,
        one that does not with its Content-MD5 (see :meth:`_put_span`)."""
        r = await self._call(
            "create_multipart_upload", key, Bucket=self.bucket, Key=self._k(key),
            ChecksumAlgorithm="CRC32",
        )  # fmt: skip
        upload_id = str(r["UploadId"])
        if str(r.get("ChecksumAlgorithm") or "").upper() == "CRC32":
            self._part_sums[upload_id] = {}
        return upload_id

    async def upload_part(
        self, key: str, upload_id: str, number: int, data: bytes | FileSpan
    ) -> str:
        """UploadPart with the part's CRC32 or Content-MD5 (see :meth:`_put_span`); its ETag."""
        query = {"partNumber": str(number), "uploadId": upload_id}
        sums = self._part_sums.get(upload_id)
        return await self._put_span("UploadPart", key, data, query, sums=sums)

    async def complete_multipart(
        self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> ObjectInfo:
        """CompleteMultipartUpload of ``parts`` (with their CRC32s when the upload has them)."""
        sums = self._part_sums.get(upload_id)
        listed: list[dict[str, Any]] = []
        for n, etag in parts:
            listed.append({"PartNumber": n, "ETag": etag})
            if sums is not None:
                listed[-1]["ChecksumCRC32"] = sums[n]
        await self._call(
            "complete_multipart_upload",
            key,
            Bucket=self.bucket,
            Key=self._k(key),
            UploadId=upload_id,
            MultipartUpload={"Parts": listed},
        )
        self._part_sums.pop(upload_id, None)
        return await self.head(key)

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        await self._call(
            "abort_multipart_upload",
            key,
            Bucket=self.bucket,
            Key=self._k(key),
            UploadId=upload_id,
        )
        self._part_sums.pop(upload_id, None)

    async def list_uploads(self, prefix: str) -> builtins.list[PendingInfo]:
        """Multipart uploads begun and neither completed nor aborted under ``prefix``, each
        with the time of its latest activity (its newest part, else its start)."""
        cut = len(self.prefix)
        found: builtins.list[PendingInfo] = []
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self._k(prefix)}
        while True:
            page = await self._retry("list_multipart_uploads", prefix, **params)
            for up in page.get("Uploads", []):
                key, upload_id = str(up["Key"]), str(up["UploadId"])
                latest = up.get("Initiated")
                parts = await self._retry(
                    "list_parts", key[cut:], Bucket=self.bucket, Key=key, UploadId=upload_id
                )
                for part in parts.get("Parts", []):
                    modified = part.get("LastModified")
                    if isinstance(modified, datetime) and (latest is None or modified > latest):
                        latest = modified
                found.append(PendingInfo(key[cut:], upload_id, latest))
            if not page.get("IsTruncated"):
                return found
            params["KeyMarker"] = page.get("NextKeyMarker")
            params["UploadIdMarker"] = page.get("NextUploadIdMarker")

    async def delete_many(self, keys: Sequence[str]) -> None:
        """DeleteObjects in batches of 1000; missing keys are fine."""
        keys = list(keys)
        for i in range(0, len(keys), DELETE_BATCH):
            batch = [{"Key": self._k(k)} for k in keys[i : i + DELETE_BATCH]]
            r = await self._retry(
                "delete_objects",
                None,
                Bucket=self.bucket,
                Delete={"Objects": batch, "Quiet": True},
            )
            errors = [e for e in r.get("Errors", []) if e.get("Code") != "NoSuchKey"]
            if errors:
                first = errors[0]
                raise TransferError(
                    f"could not delete {len(errors)} object(s) under {self._where(None)}, "
                    f"e.g. {first.get('Key')}: {first.get('Code')}"
                )

    async def commit_version(
        self,
        prefix: str,
        files: Sequence[tuple[str, Path]],
        marker: tuple[str, bytes],
        *,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Upload the data files (concurrently), then data.txt last (see
        :func:`apins.transfer.commit.commit_files`)."""
        await commit_files(
            self,
            prefix,
            files,
            marker,
            settings=self.settings,
            progress=progress,
            limiter=self._board_limiter(),
        )

    # -- server-side copy -----------------------------------------------------------------------

    async def copy_from(
        self, source: Store, source_key: str, key: str, *, info: ObjectInfo | None = None
    ) -> ObjectInfo | None:
        """CopyObject (UploadPartCopy above 5 GiB) from an S3Store on the same endpoint.

        Returns None when ``source`` is elsewhere, so the caller streams the bytes instead.
        """
        if not isinstance(source, S3Store) or source.endpoint_url != self.endpoint_url:
            return None
        if info is None or not info.etag:
            info = await source.head(source_key)
        copy_source = {"Bucket": source.bucket, "Key": source._k(source_key)}
        if info.size <= MAX_SINGLE_COPY:
            return await with_retries(
                lambda: self._copy_once(copy_source, info, key),
                settings=self.settings,
                what=f"S3 copy_object on {self._where(key)}",
            )
        return await self._copy_multipart(copy_source, info, key)

    async def _copy_once(
        self, copy_source: dict[str, str], info: ObjectInfo, key: str
    ) -> ObjectInfo:
        """One CopyObject (signed by apins when it can, else through botocore)."""
        headers = {"x-amz-copy-source": quote(f"{copy_source['Bucket']}/{copy_source['Key']}")}
        if info.etag:
            headers["x-amz-copy-source-if-match"] = info.etag
        answer = await self._signed("CopyObject", key, headers)
        if answer is not None:
            etag, modified = parse_copy_result(answer[1])
            return self._info(key, info.size, etag, modified)
        r = await self._call(
            "copy_object",
            key,
            Bucket=self.bucket,
            Key=self._k(key),
            CopySource=copy_source,
            **_if_match(info.etag),
        )
        result = r.get("CopyObjectResult", {})
        return self._info(key, info.size, result.get("ETag"), result.get("LastModified"))

    async def _copy_multipart(
        self, copy_source: dict[str, str], info: ObjectInfo, key: str
    ) -> ObjectInfo:
        # no part checksums: the parts are copied by the server
        created = await with_retries(
            lambda: self._call(
                "create_multipart_upload", key, Bucket=self.bucket, Key=self._k(key)
            ),
            settings=self.settings,
            what=f"copy to {key}",
        )
        upload_id = str(created["UploadId"])
        count = math.ceil(info.size / COPY_PART)
        etags: dict[int, str] = {}
        numbers = iter(range(1, count + 1))

        async def worker() -> None:
            for n in numbers:
                first = (n - 1) * COPY_PART
                last = min(n * COPY_PART, info.size) - 1
                r = await self._retry(
                    "upload_part_copy",
                    key,
                    Bucket=self.bucket,
                    Key=self._k(key),
                    UploadId=upload_id,
                    PartNumber=n,
                    CopySource=copy_source,
                    CopySourceRange=f"bytes={first}-{last}",
                    **_if_match(info.etag),
                )
                etags[n] = str(normalize_etag(r["CopyPartResult"]["ETag"]))

        try:
            try:
                async with anyio.create_task_group() as tg:
                    for _ in range(min(count, self.settings.max_concurrency)):
                        tg.start_soon(worker)
            except BaseExceptionGroup as group:
                raise_collapsed(group)
            return await self.complete_multipart(key, upload_id, sorted(etags.items()))
        except BaseException:
            with anyio.move_on_after(30, shield=True), contextlib.suppress(Exception):
                await self.abort_multipart(key, upload_id)
            raise
