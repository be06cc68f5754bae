"""One background event-loop thread shared by every sync call (an anyio blocking portal).

It works where ``asyncio.run`` cannot (inside Jupyter's running loop), from many threads at
once, and is shut down cleanly at interpreter exit.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager, suppress
from typing import Any, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

T = TypeVar("T")

_lock = threading.Lock()
_cm: AbstractContextManager[BlockingPortal] | None = None
_portal: BlockingPortal | None = None
#: closes still under way (started when an owner was garbage collected)
_closing: set[Future[Any]] = set()


def portal() -> BlockingPortal:
    """The shared portal, started on first use."""
    global _cm, _portal
    if _portal is None:
        with _lock:
            if _portal is None:
                cm = start_blocking_portal(backend="asyncio")
                _portal = cm.__enter__()
                _cm = cm
    return _portal


def call(fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``await fn(*args)`` on the portal's loop and return its result."""
    return portal().call(fn, *args)


def register(owner: Any, obj: Any) -> weakref.finalize[Any, Any]:
    """Close ``obj`` (its ``aclose``) when ``owner`` is garbage collected, or at exit.

    ``obj`` is held until then, so a sync board that is never closed still releases its
    connections (no "Unclosed client session" warning).
    """
    return weakref.finalize(owner, _close_soon, obj)


def _close_soon(obj: Any) -> None:
    """Start ``obj.aclose()`` on the portal's loop without blocking the caller (a finalizer
    may run on any thread, the loop's own included)."""
    current = _portal
    if current is None:
        return
    try:
        future = current.start_task_soon(obj.aclose)
    except RuntimeError:
        # on the loop thread itself (a collection during a task), or the portal is closing
        with suppress(RuntimeError):
            loop = asyncio.get_running_loop()
            task = loop.create_task(obj.aclose())
            _tasks.add(task)
            task.add_done_callback(_tasks.discard)
        return
    _closing.add(future)
    future.add_done_callback(_closing.discard)


_tasks: set[asyncio.Task[Any]] = set()


@atexit.register
def _shutdown() -> None:
    """Finish pending closes, then stop the loop (registered first, so it runs last)."""
    global _cm, _portal
    if _portal is None:
        return
    for future in list(_closing):
        with suppress(Exception):
            future.result(timeout=10)
    cm, _cm, _portal = _cm, None, None
    if cm is not None:
        with suppress(Exception):
            cm.__exit__(None, None, None)
