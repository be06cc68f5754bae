"""A read-only Store over Connect content URLs, so the transfer engine can fetch bundle files.

Keys are ``<content guid>/_rev<bundle id>/<file>``; the object is
``<server>/content/<key>``. Only ``head`` and ``open_read`` do anything: bundles are written
through the API (:mod:`apins.connect.backend`), never through this store.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ReadOnlyBoard
from ..stores.base import (
    NotModified,
    ObjectInfo,
    ObjectNotFound,
    PreconditionFailed,
    ProgressCallback,
    RangeNotSatisfiable,
)
from ..transfer.retry import TransientError, with_retries

if TYPE_CHECKING:
    import aiohttp

    from .client import ConnectClient

_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
_HANDLED = frozenset({304, 404, 412, 416})


class RevStream:
    """An open GET of one content file (see :class:`apins.stores.base.ReadStream`)."""

    def __init__(
        self,
        resp: aiohttp.ClientResponse,
        stack: AsyncExitStack,
        info: ObjectInfo,
        start: int,
        length: int,
        ranged: bool,
    ) -> None:
        self._resp = resp
        self._stack = stack
        self.info = info
        self.start = start
        self.length = length
        self.ranged = ranged

    async def chunks(self, chunk_size: int = 1 << 20) -> AsyncIterator[bytes]:
        import aiohttp

        try:
            async for chunk in self._resp.content.iter_chunked(chunk_size):
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as e:
            raise TransientError(f"reading {self.info.key}: {type(e).__name__}: {e}") from None

    async def aclose(self) -> None:
        await self._stack.aclose()


def _info(key: str, resp: aiohttp.ClientResponse) -> tuple[ObjectInfo, int, int, bool]:
    etag = resp.headers.get("ETag")
    length = int(resp.headers.get("Content-Length", "-1"))
    if resp.status == 206:
        m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
        if m is None or m.group(3) == "*":
            raise TransientError(f"reading {key}: a 206 answer without a usable Content-Range")
        start, end, total = int(m.group(1)), int(m.group(2)), int(m.group(3))
        return ObjectInfo(key, total, etag), start, end - start + 1, True
    if length < 0:
        raise TransientError(f"reading {key}: the server sent no Content-Length")
    return ObjectInfo(key, length, etag), 0, length, False


class RevStore:
    """Read bundle files of one Connect server (through the client's safe session)."""

    read_only = True

    def __init__(self, client: ConnectClient) -> None:
        self.client = client
        self.identity = f"connect:{client.server_url}"

    def __repr__(self) -> str:
        return f"RevStore({self.client.server_url!r})"

    async def head(self, key: str) -> ObjectInfo:
        """Size and ETag of a content file (a HEAD request, retried when transient)."""

        async def once() -> ObjectInfo:
            async with self.client.request(
                "HEAD", self.client.url(f"content/{key}"), what=f"Checking {key}",
                ok_statuses=frozenset({404}),
            ) as resp:  # fmt: skip
                if resp.status == 404:
                    raise ObjectNotFound(f"{key} does not exist on the server")
                return _info(key, resp)[0]

        return await with_retries(once, settings=self.client.settings, what=f"checking {key}")

    async def open_read(
        self,
        key: str,
        *,
        start: int = 0,
        end: int | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> RevStream:
        """One attempt at ``GET <server>/content/<key>`` for bytes ``[start, end)``."""
        headers: dict[str, str] = {}
        if start or end is not None:
            headers["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        if if_match:
            headers["If-Match"] = if_match
        if if_none_match:
            headers["If-None-Match"] = if_none_match
        stack = AsyncExitStack()
        try:
            resp = await stack.enter_async_context(
                self.client.request(
                    "GET", self.client.url(f"content/{key}"), what=f"Reading {key}",
                    headers=headers, ok_statuses=_HANDLED,
                )
            )  # fmt: skip
            if resp.status == 404:
                raise ObjectNotFound(f"{key} does not exist on the server")
            if resp.status == 304:
                raise NotModified(key, resp.headers.get("ETag"))
            if resp.status == 412:
                raise PreconditionFailed(f"{key} changed (its ETag is no longer {if_match})")
            if resp.status == 416:
                raise RangeNotSatisfiable(f"{key}: bytes {start}-{end} are outside the file")
            info, body_start, length, ranged = _info(key, resp)
        except BaseException:
            await stack.aclose()
            raise
        return RevStream(resp, stack, info, body_start, length, ranged)

    # -- the rest of the Store protocol: this store is read-only -------------------------------

    async def list(self, prefix: str) -> builtins.list[ObjectInfo]:
        raise ReadOnlyBoard("Connect content URLs cannot be listed; use the API.")

    async def list_dirs(self, prefix: str) -> builtins.list[str]:
        raise ReadOnlyBoard("Connect content URLs cannot be listed; use the API.")

    async def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        raise ReadOnlyBoard("Connect bundles are written through the API.")

    async def put_file(
        self, key: str, path: Path, *, progress: ProgressCallback | None = None
    ) -> ObjectInfo:
        raise ReadOnlyBoard("Connect bundles are written through the API.")

    async def delete_many(self, keys: Sequence[str]) -> None:
        raise ReadOnlyBoard("Connect bundles are deleted through the API.")

    async def commit_version(
        self,
        prefix: str,
        files: Sequence[tuple[str, Path]],
        marker: tuple[str, bytes],
        *,
        progress: ProgressCallback | None = None,
    ) -> None:
        raise ReadOnlyBoard("Connect bundles are written through the API.")

    async def aclose(self) -> None:
        """Nothing to close: the client owns the session."""
