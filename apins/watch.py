"""PinWatch: the async iterator behind :meth:`apins.Board.pin_watch`.

Nothing runs in the background: each ``__anext__`` polls the board (``interval`` seconds
apart) until it has a version to hand out, so a watch that is no longer iterated costs
nothing and cancelling the iterating task stops it at once.

A poll asks the backend for the pin's versions with ``poll_versions`` (one listing, or one
conditional request that may answer "unchanged"). Versions that appear after the newest
version already known are queued oldest first and their metadata read; one deleted before
its metadata is read is skipped.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING

import anyio

from ._one_error import public_verb
from .errors import ConnectError, OfflineError, PinsError, TransferError, VersionNotFound

if TYPE_CHECKING:
    from .board import Board
    from .meta import AnyMeta
    from .versions import VersionInfo

log = logging.getLogger("apins")

#: the longest wait between two attempts of a failing poll, in seconds
MAX_BACKOFF = 60.0


def transient(err: BaseException) -> bool:
    """True for errors worth another poll: the network, the server, an offline board."""
    if isinstance(err, ConnectError):
        return err.status is None or err.status >= 500 or err.status in (408, 429)
    return isinstance(err, TransferError | OfflineError)


class PinWatch:
    """``async for meta in board.pin_watch("name")``: the latest version, then each new one."""

    def __init__(self, board: Board, name: str, *, interval: float, retries: int) -> None:
        if not interval > 0:
            raise ValueError(f"pin_watch: interval must be a positive number, not {interval!r}.")
        if retries < 0:
            raise ValueError(f"pin_watch: retries must be 0 or more, not {retries!r}.")
        self.board = board
        self.name = name
        self.interval = float(interval)
        self.retries = retries
        #: polls started so far (each costs the requests documented for its board kind)
        self.polls = 0
        self._known: set[str] | None = None  # None until the first poll succeeded
        self._newest: str | None = None
        self._ready: deque[AnyMeta] = deque()
        self._closed = False

    def __repr__(self) -> str:
        return f"<PinWatch {self.name!r} every {self.interval}s on {self.board!r}>"

    def __aiter__(self) -> PinWatch:
        return self

    @public_verb
    async def __anext__(self) -> AnyMeta:
        while not self._ready:
            if self._closed:
                raise StopAsyncIteration
            if self._known is not None:
                await anyio.sleep(self.interval)
            await self._poll_with_retries()
        return self._ready.popleft()

    async def aclose(self) -> None:
        """Stop: the iterator ends (a pending ``__anext__`` is not interrupted)."""
        self._closed = True
        self._ready.clear()

    async def __aenter__(self) -> PinWatch:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _poll_with_retries(self) -> None:
        attempt = 0
        while True:
            try:
                await self._poll()
                return
            except PinsError as e:
                if not transient(e) or attempt >= self.retries:
                    raise
                delay = min(self.interval * 2**attempt, MAX_BACKOFF)
                attempt += 1
                log.warning(
                    "Watching pin %r: poll failed (%s); attempt %d of %d in %.1fs.",
                    self.name, e, attempt + 1, self.retries + 1, delay,
                )  # fmt: skip
                await anyio.sleep(delay)

    async def _poll(self) -> None:
        """One poll; the watch's state changes only once it has fully succeeded."""
        self.polls += 1
        poll = getattr(self.board.backend, "poll_versions", None)
        if poll is not None:
            versions: list[VersionInfo] | None = await poll(self.name, self._newest)
        else:  # a backend without a cheap poll: a plain listing
            versions = await self.board.backend.list_versions(self.name)
        if versions is None or not versions:
            return
        listed = [v.version for v in versions]
        if self._known is None:
            fresh = listed[-1:]
        else:
            seen = [i for i, v in enumerate(listed) if v in self._known]
            fresh = listed[seen[-1] + 1 :] if seen else listed
        metas: list[AnyMeta] = []
        for version in fresh:
            try:
                metas.append(await self.board.pin_meta(self.name, version))
            except VersionNotFound:
                log.info("Version %s of pin %r was deleted before it was seen.", version, self.name)
        if self._known is None and not metas:
            return  # the latest went away under us: the next poll finds the new latest
        self._known = set(listed)
        self._newest = listed[-1]
        self._ready.extend(metas)
