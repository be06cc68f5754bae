"""``board_connect``: a Board over the Connect backend.

Pins are named ``owner/name``; the backend resolves a bare name to the current user, names
data files after the bare name (as both pins libraries do on Connect), and lists versions as
bundle ids, which sort as numbers; pruning never deletes the active bundle.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..board import Board
from ..cache import Cache
from ..constructors import _cache_for
from ..settings import TransferSettings
from ..transfer.progress import Progress
from .auth import resolve as resolve_auth
from .backend import ConnectBackend
from .client import ConnectClient

if TYPE_CHECKING:
    from ..formats import Output


class ConnectBoard(Board):
    """A Board on Posit Connect (create it with :func:`board_connect`)."""

    @property
    def connect(self) -> ConnectBackend:
        backend = self.backend
        assert isinstance(backend, ConnectBackend)
        return backend


def board_connect(
    server_url: str | None = None,
    api_key: str | None = None,
    versioned: bool = True,
    allow_pickle_read: bool | None = None,
    *,
    cache: Cache | str | os.PathLike[str] | bool | None = None,
    settings: TransferSettings | None = None,
    page_size: int = 1000,
    output: Output | None = None,
    progress: Progress = False,
    auth: str = "auto",
) -> ConnectBoard:
    """A board on a Posit Connect server; pins are named ``owner/name`` (or your own ``name``).

    ``auth`` says where the server and key come from, as in R: ``"auto"`` (the arguments, else
    ``CONNECT_SERVER``/``CONNECT_API_KEY`` as Connect sets them for content, else a server
    stored by rsconnect-python), ``"manual"`` (both arguments), ``"envvar"`` or ``"rsconnect"``
    (``server_url`` then picks a stored server by URL or name). The key is sent as
    ``Authorization: Key ...`` to that server only. ``cache=False`` disables the local cache.
    ``page_size`` is the number of pins asked for per listing request. No I/O happens until
    the first verb.
    """
    server, key = resolve_auth(server_url, api_key, auth)
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
        output=output,
        progress=progress,
    )
