"""Single-flight: concurrent calls with the same key share one run (per event loop).

``await FLIGHTS.run(key, fn)`` runs ``fn()`` once for every caller that arrives while it is
in flight; they all get its result (or its exception). With ``fresh=True`` a caller never
takes the result of a run that started before it arrived: it waits for that one to end,
then joins (or starts) the next, so at most two runs serve any burst of callers and
each caller still sees the board as it was after its call began.

If the task leading a run is cancelled, the others are not: one of them leads a new run.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

import anyio

T = TypeVar("T")


class _Flight:
    __slots__ = ("cancelled", "done", "error", "result")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.cancelled = False


class SingleFlight:
    """A table of runs in flight, one per event loop."""

    def __init__(self) -> None:
        self._tables: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, _Flight]]
        self._tables = weakref.WeakKeyDictionary()

    def _table(self) -> dict[Hashable, _Flight]:
        loop = asyncio.get_running_loop()
        table = self._tables.get(loop)
        if table is None:
            table = self._tables[loop] = {}
        return table

    def in_flight(self) -> int:
        """Runs in flight on the current loop (for tests)."""
        return len(self._table())

    async def run(self, key: Hashable, fn: Callable[[], Awaitable[T]], *, fresh: bool = False) -> T:
        table = self._table()
        too_old: _Flight | None = None
        while True:
            flight = table.get(key)
            if flight is not None and fresh and too_old is None:
                too_old = flight  # started before we came: wait for it, then use a newer one
                await flight.done.wait()
                continue
            if flight is not None and flight is not too_old:
                await flight.done.wait()
                if flight.cancelled:
                    continue  # its leader was cancelled, not us: run it again
                if flight.error is not None:
                    raise flight.error
                return flight.result  # type: ignore[no-any-return]
            return await self._lead(table, key, fn)

    @staticmethod
    async def _lead(
        table: dict[Hashable, _Flight], key: Hashable, fn: Callable[[], Awaitable[T]]
    ) -> T:
        flight = table[key] = _Flight()
        try:
            flight.result = await fn()
        except anyio.get_cancelled_exc_class():
            flight.cancelled = True
            raise
        except BaseException as e:
            flight.error = e
            raise
        finally:
            if table.get(key) is flight:
                del table[key]
            flight.done.set()
        return flight.result  # type: ignore[no-any-return]


#: the process's single-flight table for board reads
FLIGHTS = SingleFlight()
