"""Object reads for S3Store as presigned GETs on a plain aiohttp session.

apins signs the URL itself (:mod:`apins.stores._sigv4`, about 20 µs, where botocore took
about 0.4 ms); aiohttp sends it and streams the body. That skips
botocore's per-request event pipeline and response parsing, which cost about 1 ms of CPU per
request on a small machine: the difference between a fast and a slow ``pin_search`` over
hundreds of pins. Range, If-Match and If-None-Match travel as ordinary headers.

Small writes without a streamed body (PutObject of data.txt, CopyObject) go the same way,
signed in headers (:meth:`apins.stores._sigv4.Presigner.headers`): a server-side mirror sends
one of each per version, and botocore's pipeline made them about 3 ms of client CPU each.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus
from xml.etree import ElementTree

from ..settings import TransferSettings
from ..transfer.retry import TransientError
from ._cloud_errors import map_s3_answer
from ._rest import send_checked
from .base import (
    ObjectInfo,
)
from .http import BodyStream, body_span, new_session

if TYPE_CHECKING:
    import aiohttp
    from aiohttp.payload import Payload


class PresignedReader:
    """One aiohttp session per store, sized like the store's connection pool."""

    def __init__(self, settings: TransferSettings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = new_session(self._settings)
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
    ) -> BodyStream:
        """GET ``url`` for bytes ``[start, end)``; errors mapped to the Store protocol's."""
        headers: dict[str, str] = {}
        if start or end is not None:
            headers["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        if if_match:
            headers["If-Match"] = if_match
        if if_none_match:
            headers["If-None-Match"] = if_none_match

        def error(status: int, body: bytes, answer: Mapping[str, str]) -> Exception:
            return _error(status, body, key, where, if_none_match, headers=answer)

        resp = await send_checked(
            self._client(), "GET", url, settings=self._settings, what=f"S3 GetObject on {where}",
            ok=(200, 206), on_error=error, headers=headers,
        )  # fmt: skip
        return _stream(resp, key, self._settings)

    async def get_list_page(self, url: str, where: str) -> dict[str, Any]:
        """GET a presigned ListObjectsV2 URL and parse the page."""

        def error(status: int, body: bytes, answer: Mapping[str, str]) -> Exception:
            return _error(status, body, "", where, None, op="ListObjectsV2", headers=answer)

        resp = await send_checked(
            self._client(), "GET", url, settings=self._settings,
            what=f"S3 ListObjectsV2 on {where}", ok=(200,), on_error=error, read=True,
        )  # fmt: skip
        return parse_list_page(await resp.read())

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | Payload,
        *,
        op: str,
        key: str,
        where: str,
    ) -> tuple[Mapping[str, str], bytes]:
        """One signed request; its answer's headers and body, error answers mapped (a
        CopyObject can fail with an ``<Error>`` body under status 200: mapped as a 500)."""

        def error(status: int, answer: bytes, resp_headers: Mapping[str, str]) -> Exception:
            return _error(status, answer, key, where, None, op=op, headers=resp_headers)

        ok = tuple(range(200, 300))
        resp = await send_checked(
            self._client(), method, url, settings=self._settings, what=f"S3 {op} on {where}",
            ok=ok, on_error=error, headers=headers, data=body, read=True,
        )  # fmt: skip
        answer = await resp.read()
        if b"<Error>" in answer[:512]:
            raise error(500, answer, resp.headers)
        return resp.headers, answer

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _stream(
    resp: aiohttp.ClientResponse, key: str, settings: TransferSettings | None = None
) -> BodyStream:
    first, length, total, ranged = body_span(resp)
    etag = resp.headers.get("ETag")
    if etag and not etag.startswith(('"', "W/")):
        etag = f'"{etag}"'
    modified = resp.headers.get("Last-Modified")
    try:
        when = parsedate_to_datetime(modified) if modified else None
    except (TypeError, ValueError):
        when = None
    info = ObjectInfo(key, total, etag, when)
    return BodyStream(resp, info, first, length, ranged, settings)


def _error(
    status: int,
    body: bytes,
    key: str,
    where: str,
    if_none_match: str | None,
    op: str = "GetObject",
    headers: Mapping[str, str] | None = None,
) -> Exception:
    code = ""
    try:
        node = ElementTree.fromstring(body).find("Code") if body else None
        code = (node.text or "") if node is not None else ""
    except ElementTree.ParseError:
        pass
    return map_s3_answer(
        status, code, op=op, where=where, key=key, if_none_match=if_none_match, headers=headers
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _timestamp(stamp: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None
    except ValueError:
        return None


def parse_list_page(body: bytes) -> dict[str, Any]:
    """A ListObjectsV2 XML answer in botocore's shape (Contents, CommonPrefixes,
    IsTruncated, NextContinuationToken), keys decoded when the answer is url-encoded."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as e:
        raise TransientError(f"S3 sent an unreadable listing: {e}") from None
    fields: dict[str, str] = {}
    contents: list[dict[str, Any]] = []
    prefixes: list[dict[str, str]] = []
    for child in root:
        tag = _local(child.tag)
        if tag == "Contents":
            item: dict[str, Any] = {_local(c.tag): c.text or "" for c in child}
            contents.append(item)
        elif tag == "CommonPrefixes":
            prefixes.extend({"Prefix": c.text or ""} for c in child if _local(c.tag) == "Prefix")
        else:
            fields[tag] = child.text or ""
    decode = unquote_plus if fields.get("EncodingType") == "url" else (lambda s: s)
    for item in contents:
        item["Key"] = decode(item.get("Key", ""))
        item["Size"] = int(item.get("Size") or 0)
        stamp = item.get("LastModified")
        try:
            item["LastModified"] = (
                datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None
            )
        except ValueError:
            item["LastModified"] = None
    for p in prefixes:
        p["Prefix"] = decode(p["Prefix"])
    return {
        "Contents": contents,
        "CommonPrefixes": prefixes,
        "IsTruncated": fields.get("IsTruncated", "false").lower() == "true",
        "NextContinuationToken": fields.get("NextContinuationToken") or None,
    }


def parse_copy_result(body: bytes) -> tuple[str | None, datetime | None]:
    """ETag and LastModified of a CopyObjectResult answer."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as e:
        raise TransientError(f"S3 sent an unreadable CopyObject answer: {e}") from None
    fields = {_local(c.tag): c.text or "" for c in root}
    return fields.get("ETag") or None, _timestamp(fields.get("LastModified"))
