"""Retries with exponential backoff and full jitter, for transient failures only.

Stores translate their own transport errors into :class:`TransientError` (connection drops,
timeouts, HTTP 500/502/503/504, S3 SlowDown...), so this module never imports a client
library and works for every store.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

from ..errors import TransferError
from ..settings import TransferSettings

T = TypeVar("T")

#: HTTP statuses worth another attempt
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: S3-style error codes worth another attempt
TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "InternalError",
        "ServiceUnavailable",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
    }
)


class TransientError(TransferError):
    """A failure that may succeed when tried again (raised by stores, retried by the engine)."""


def is_transient(exc: BaseException) -> bool:
    """True for errors :func:`with_retries` retries: TransientError, connection errors, timeouts."""
    return isinstance(exc, TransientError | ConnectionError | TimeoutError)


def backoff_delay(attempt: int, settings: TransferSettings) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based): full jitter, capped."""
    cap = min(settings.backoff_max, settings.backoff_base * (2**attempt))
    return random.uniform(0.0, cap)


async def with_retries(
    fn: Callable[[], Awaitable[T]], *, settings: TransferSettings, what: str
) -> T:
    """Await ``fn()``, retrying transient failures up to ``settings.retries`` times.

    Non-transient errors propagate at once. When every attempt failed, raises
    TransferError naming ``what`` and the attempt count, chained to the last error.
    """
    attempts = settings.retries + 1
    for attempt in range(attempts):
        try:
            return await fn()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt + 1 >= attempts:
                raise TransferError(
                    f"{what} failed after {attempts} attempt{'s' if attempts > 1 else ''}: {exc}"
                ) from exc
        await anyio.sleep(backoff_delay(attempt, settings))
    raise AssertionError("unreachable")  # pragma: no cover
