"""The per-verb deadline (``TransferSettings.deadline``) as a decorator for Board verbs."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from .transfer.retry import verb_deadline

P = ParamSpec("P")
R = TypeVar("R")


class _HasDeadline(Protocol):
    @property
    def deadline(self) -> float | None: ...


S = TypeVar("S", bound=_HasDeadline)


def bounded(
    fn: Callable[Concatenate[S, P], Awaitable[R]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """Run the verb under its board's deadline; past it, DeadlineExceeded is raised."""

    @functools.wraps(fn)
    async def verb(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with verb_deadline(self.deadline, f"{fn.__name__}()"):
            return await fn(self, *args, **kwargs)

    return verb
