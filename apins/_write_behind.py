"""Write-behind: small blocking writes from many tasks, done in batches of one thread hop.

``await WriteBehind(write).put(item)`` queues ``item``. When no batch is being written, the
caller becomes the writer: it hands everything queued to ``write(items)`` in a worker
thread, again until the queue is empty, and only then returns. Other callers return at
once; their items are written before the writer's call returns, so a task group whose
tasks all ``put`` ends after every item is written (items of another, concurrent group may
still be in flight then). ``write`` reports its own failures (it should not raise). The
writer finishes its batches even when cancelled: nothing queued is left behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")


class WriteBehind(Generic[T]):
    """A queue of items for ``write``, drained by whichever caller finds it idle."""

    def __init__(self, write: Callable[[list[T]], None]) -> None:
        self._write = write
        self._queue: list[T] = []
        self._writing = False
        #: batches written so far (for tests and profiles)
        self.batches = 0

    async def put(self, item: T) -> None:
        self._queue.append(item)
        if self._writing:
            return
        self._writing = True
        try:
            with anyio.CancelScope(shield=True):
                while self._queue:
                    batch, self._queue = self._queue, []
                    self.batches += 1
                    await anyio.to_thread.run_sync(self._write, batch)
        finally:
            self._writing = False
