"""``board_connect`` and ConnectBoard: the Board verbs with Connect's naming and versioning.

ConnectBoard is :class:`apins.Board` with two Connect rules layered on top:

* writes take ``owner/name``: the Board's verbs run on the bare name (so data files and
  default titles use it, as both pins libraries do on Connect) while the owner travels to
  the backend in a context variable;
* versions are bundle ids, ordered as numbers; pruning never deletes the active bundle.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace as dc_replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..board import Board
from ..cache import Cache
from ..errors import PinsError
from ..settings import TransferSettings
from ..stores.base import ProgressCallback
from ..versions import VersionInfo, select_prune
from .backend import WRITE_OWNER, ConnectBackend
from .client import ConnectClient
from .names import parse_pin_name

if TYPE_CHECKING:
    from ..meta import Meta


class ConnectBoard(Board):
    """A Board on Posit Connect (create it with :func:`board_connect`)."""

    @property
    def connect(self) -> ConnectBackend:
        backend = self.backend
        assert isinstance(backend, ConnectBackend)
        return backend

    async def _split(self, name: str | None) -> tuple[str, str | None]:
        if name is None:
            return "", None
        p = parse_pin_name(name)
        owner = p.owner or await self.connect.client.username()
        return owner, p.name

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
        progress: ProgressCallback | None = None,
    ) -> Meta:
        """Write ``x`` as a new version (bundle) of pin ``owner/name`` (or your own ``name``).

        See :meth:`apins.Board.pin_write`.
        """
        owner, short = await self._split(name)
        token = WRITE_OWNER.set(owner or None)
        try:
            meta = await super().pin_write(
                x, short, type, title, description, metadata, versioned, created,
                force_identical_write=force_identical_write, tags=tags, urls=urls,
                progress=progress,
            )  # fmt: skip
        finally:
            WRITE_OWNER.reset(token)
        meta.name = f"{owner}/{short}"
        if meta.version is not None:
            meta.local = self.connect.local_info(meta.name, meta.version)
        return meta

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
        progress: ProgressCallback | None = None,
    ) -> Meta:
        """Pin files as they are (type ``file``) as pin ``owner/name``; see Board.pin_upload."""
        if name is None:
            raise PinsError("pin_upload on Connect needs a name= ('owner/name' or 'name').")
        owner, short = await self._split(name)
        token = WRITE_OWNER.set(owner)
        try:
            meta = await super().pin_upload(
                paths, short, title, description, metadata, versioned, created,
                force_identical_write=force_identical_write, tags=tags, urls=urls,
                progress=progress,
            )  # fmt: skip
        finally:
            WRITE_OWNER.reset(token)
        meta.name = f"{owner}/{short}"
        if meta.version is not None:
            meta.local = self.connect.local_info(meta.name, meta.version)
        return meta

    async def pin_versions_prune(
        self, name: str, n: int | None = None, days: float | None = None
    ) -> list[VersionInfo]:
        """Delete old versions (bundles), keeping the ``n`` newest or those younger than
        ``days`` (by bundle creation time). The active bundle is never deleted."""
        versions = await self.backend.list_versions(name)
        # select_prune orders by name: give it zero-padded ids so "10" sorts after "9"
        padded = [dc_replace(v, version=f"{int(v.version):020d}") for v in versions]
        by_padded = {p.version: v for p, v in zip(padded, versions, strict=True)}
        doomed = [
            by_padded[p.version]
            for p in select_prune(padded, n=n, days=days)
            if not by_padded[p.version].active
        ]
        for v in doomed:
            await self.backend.delete_version(name, v.version)
        return doomed


def _cache_for(cache: Cache | str | os.PathLike[str] | bool | None) -> Cache | None:
    if cache is False:
        return None
    if cache is None or cache is True:
        return Cache()
    if isinstance(cache, Cache):
        return cache
    return Cache(cache)


def board_connect(
    server_url: str | None = None,
    api_key: str | None = None,
    versioned: bool = True,
    allow_pickle_read: bool | None = None,
    *,
    cache: Cache | str | os.PathLike[str] | bool | None = None,
    settings: TransferSettings | None = None,
    page_size: int = 1000,
) -> ConnectBoard:
    """A board on a Posit Connect server; pins are named ``owner/name`` (or your own ``name``).

    ``server_url`` and ``api_key`` default to ``CONNECT_SERVER`` and ``CONNECT_API_KEY`` (what
    Connect sets for deployed content). The key is sent as ``Authorization: Key ...`` to that
    server only. ``cache=False`` disables the local cache. ``page_size`` is the number of pins
    asked for per listing request. No I/O happens until the first verb.
    """
    server = server_url or os.environ.get("CONNECT_SERVER")
    if not server:
        raise PinsError(
            "board_connect needs the server address: pass server_url= or set CONNECT_SERVER."
        )
    key = api_key if api_key is not None else os.environ.get("CONNECT_API_KEY")
    settings = settings or TransferSettings()
    client = ConnectClient(server, key, settings=settings, page_size=page_size)
    desc = f"board_connect(server_url={client.server_url!r}"
    if allow_pickle_read is not None:
        desc += f", allow_pickle_read={allow_pickle_read!r}"
    desc += ")"
    backend = ConnectBackend(client, cache=_cache_for(cache), settings=settings, description=desc)
    return ConnectBoard(
        backend,
        versioned=versioned,
        allow_pickle_read=allow_pickle_read,
        meta_concurrency=settings.meta_concurrency,
    )
