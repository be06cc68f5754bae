"""One background event-loop thread shared by every sync call (an anyio blocking portal).

It works where ``asyncio.run`` cannot (inside Jupyter's running loop), from many threads at
once, and is shut down cleanly at interpreter exit.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, suppress
from typing import Any, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

T = TypeVar("T")

_lock = threading.Lock()
_cm: AbstractContextManager[BlockingPortal] | None = None
_portal: BlockingPortal | None = None
_closers: weakref.WeakSet[Any] = weakref.WeakSet()


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


def register(obj: Any) -> None:
    """Close ``obj`` (its ``aclose``) on the portal at exit if it is still alive."""
    _closers.add(obj)


@atexit.register
def _shutdown() -> None:
    global _cm, _portal
    if _portal is None:
        return
    for obj in list(_closers):
        with suppress(Exception):
            _portal.call(obj.aclose)
    cm, _cm, _portal = _cm, None, None
    if cm is not None:
        with suppress(Exception):
            cm.__exit__(None, None, None)
