"""Small helpers shared by the download and upload engines."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

import anyio

from .._one_error import collapsed
from ..stores.base import ProgressCallback, ProgressEvent

T = TypeVar("T")


async def for_each(items: Iterable[T], fn: Callable[[T], Awaitable[None]], limit: int) -> None:
    """Await ``fn(item)`` for every item, at most ``limit`` at once (a pool of workers);
    the first failure cancels the rest; the most meaningful error is raised bare."""
    todo = list(items)
    pending = iter(todo)

    async def worker() -> None:
        for item in pending:
            await fn(item)

    with collapsed():
        async with anyio.create_task_group() as tg:
            for _ in range(max(1, min(len(todo), limit))):
                tg.start_soon(worker)


class Meter:
    """Counts bytes of one transfer and reports them, at most once per ``step`` bytes."""

    def __init__(
        self,
        key: str,
        total: int | None,
        direction: str,
        callback: ProgressCallback | None,
        step: int,
    ) -> None:
        self.key = key
        self.total = total
        self.direction = direction
        self.done = 0
        self._callback = callback
        self._step = max(1, step)
        self._reported = 0

    def add(self, n: int) -> None:
        """Record ``n`` more bytes moved."""
        self.done += n
        if self._callback is not None and self.done - self._reported >= self._step:
            self._reported = self.done
            self._callback(ProgressEvent(self.key, self.done, self.total, self.direction))

    def rewind(self, n: int) -> None:
        """Forget ``n`` bytes counted by an attempt that failed and will be sent again."""
        self.done -= n

    def finish(self) -> None:
        """Report the final count with ``finished=True``."""
        if self._callback is not None:
            self._callback(
                ProgressEvent(self.key, self.done, self.total, self.direction, finished=True)
            )


def spans(size: int, part: int) -> list[tuple[int, int]]:
    """Split ``[0, size)`` into consecutive ``[start, end)`` spans of at most ``part`` bytes."""
    return [(s, min(s + part, size)) for s in range(0, size, part)]
