"""One error type at the API boundary.

Every public verb runs under :func:`one_error`: an exception group from concurrent parts is
collapsed to its most meaningful member (the others become notes on it), and any error that
is not a :class:`~apins.errors.PinsError` is wrapped in one, with the original as
``__cause__``. KeyboardInterrupt, SystemExit and cancellation pass through untouched.
"""

from __future__ import annotations

import errno
import functools
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

from .errors import (
    InvalidArgument,
    InvalidPinName,
    ObjectChanged,
    OfflineError,
    PinsError,
    StoreAccessError,
    TransferError,
)

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

__all__ = [
    "add_note",
    "as_pins_error",
    "collapse",
    "collapsed",
    "one_error",
    "public_verb",
    "raise_collapsed",
]

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
_MAX_NOTES = 5


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


def _rank(exc: BaseException) -> int:
    """Lower is more meaningful: what the user can act on beats a transfer hiccup."""
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        return 0
    if not isinstance(exc, Exception):
        return 6  # cancellation: only when nothing else failed
    if isinstance(exc, PinsError) and not isinstance(exc, (TransferError, OfflineError)):
        return 1
    if isinstance(exc, ObjectChanged):
        return 2
    if isinstance(exc, (TransferError, OfflineError)):
        return 3
    return 4


def add_note(exc: BaseException, note: str) -> None:
    """``exc.add_note(note)``, also on Python 3.10."""
    adder = getattr(exc, "add_note", None)
    if adder is not None:
        adder(note)
    else:  # pragma: no cover - Python 3.10
        notes = list(getattr(exc, "__notes__", []))
        exc.__notes__ = [*notes, note]


def collapse(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The most meaningful error in ``group`` (nested groups included); the others are
    attached to it as notes."""
    leaves = list(_leaves(group))
    chosen = min(leaves, key=_rank)  # min is stable: the first of equal rank wins
    others = [e for e in leaves if e is not chosen and isinstance(e, Exception)]
    for e in others[:_MAX_NOTES]:
        add_note(chosen, f"also failed at the same time: {type(e).__name__}: {e}")
    if len(others) > _MAX_NOTES:
        add_note(chosen, f"... and {len(others) - _MAX_NOTES} more failures")
    return chosen


def raise_collapsed(group: BaseExceptionGroup[BaseException]) -> NoReturn:
    """Raise the most meaningful member of ``group``, keeping its own cause."""
    chosen = collapse(group)
    raise chosen from chosen.__cause__


@contextmanager
def collapsed() -> Iterator[None]:
    """Around a task group: its exception group comes out as its most meaningful member
    (with that member's own cause kept), so ``except SomePinsError`` works on it."""
    try:
        yield
    except BaseExceptionGroup as group:
        raise_collapsed(group)


def as_pins_error(exc: Exception) -> PinsError:
    """``exc`` as a PinsError (itself if it is one); the caller chains the original."""
    if isinstance(exc, PinsError):
        return exc
    if type(exc).__module__.startswith(("botocore", "aiobotocore")):
        from .stores._cloud_errors import map_botocore_error

        mapped = map_botocore_error(exc, op="request", where="S3")
        if isinstance(mapped, PinsError):
            return mapped
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, PermissionError):
        return StoreAccessError(f"Permission denied: {exc}")
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
        return InvalidPinName(f"A name is too long for the file system (255 bytes at most): {exc}")
    if isinstance(exc, (ValueError, TypeError)):
        return InvalidArgument(text)
    if isinstance(exc, OSError):
        return TransferError(text)
    return PinsError(text)


def _reraise(exc: BaseException) -> None:
    """Raise ``exc`` (chosen from a group) as a PinsError, keeping its own cause."""
    if not isinstance(exc, Exception):
        raise exc
    mapped = as_pins_error(exc)
    if mapped is exc:
        raise exc from exc.__cause__
    raise mapped from exc


@contextmanager
def one_error() -> Iterator[None]:
    """Inside, errors come out as a single PinsError (see the module docstring)."""
    try:
        yield
    except (PinsError, StopAsyncIteration, StopIteration):
        raise
    except BaseExceptionGroup as group:
        _reraise(collapse(group))
    except Exception as exc:
        raise as_pins_error(exc) from exc


def public_verb(fn: F) -> F:
    """Decorate a public async verb so that it raises only PinsError subclasses."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        with one_error():
            return await fn(*args, **kwargs)

    wrapper.__apins_public__ = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
