"""Retry classification and the retry loop: the ONE place that decides what is tried again.

Stores translate their own transport errors into :class:`TransientError` (connection drops,
timeouts, HTTP 408/429/5xx, S3 SlowDown...) with :func:`transient_for_status`, so this module
never imports a client library and works for every store. The rules:

* 4xx other than 408 and 429 is never retried (the request itself is wrong);
* a ``Retry-After`` (seconds or an HTTP date) is waited out, up to
  ``settings.retry_after_max``; otherwise exponential backoff with full jitter;
* no wait may run past the verb's deadline (:func:`verb_deadline`);
* while :func:`offline_probe` is active, a store that cannot be reached at all
  (:class:`StoreUnreachable`) is given up on at once, so the offline fallback starts within
  the connect timeout instead of after every retry.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import random
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TypeVar

import anyio

from ..errors import TransferError
from ..settings import TransferSettings

T = TypeVar("T")
log = logging.getLogger("apins.transfer")

log = logging.getLogger("apins.transfer")

#: HTTP statuses worth another attempt (every other 5xx but 501/505 is retried too)
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
        # the body did not match its Content-MD5: damaged on the way (a file changed while
        # it was sent fails again, and stops after the retries)
        "BadDigest",
    }
)
_NEVER_RETRIED_5XX = frozenset({501, 505})


class TransientError(TransferError):
    """A failure that may succeed when tried again (raised by stores, retried by the engine).

    ``retry_after`` is the wait the server asked for (seconds), if it asked.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreUnreachable(TransientError):
    """No connection could be made (refused, connect timeout, no answer to a probe)."""


class ConnectionLost(TransientError):
    """The connection failed after the request may have reached the server: a write may
    have taken effect (look before sending it again)."""


class DeadlineExceeded(TransferError):
    """A verb ran past ``TransferSettings.deadline``."""


def is_retryable_status(status: int) -> bool:
    """True for 408, 429 and 5xx (but 501/505): every other status is final."""
    if status in TRANSIENT_STATUSES:
        return True
    return 500 <= status <= 599 and status not in _NEVER_RETRIED_5XX


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def transient_for_status(
    status: int, message: str, headers: Mapping[str, str] | None = None, *, code: str = ""
) -> TransientError | None:
    """A TransientError for a retryable answer (status or S3 error ``code``), else None.

    ``headers`` (case-insensitive mapping or plain dict) supply ``Retry-After``.
    """
    if not (is_retryable_status(status) or code in TRANSIENT_CODES):
        return None
    after = None
    if headers is not None:
        raw = headers.get("Retry-After")
        if raw is None:
            raw = headers.get("retry-after")
        after = parse_retry_after(raw)
    return TransientError(message, retry_after=after)


def is_transient(exc: BaseException) -> bool:
    """True for errors :func:`with_retries` retries: TransientError, connection errors, timeouts."""
    return isinstance(exc, TransientError | ConnectionError | TimeoutError)


def backoff_delay(attempt: int, settings: TransferSettings) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based): full jitter, capped."""
    cap = min(settings.backoff_max, settings.backoff_base * (2**attempt))
    return random.uniform(0.0, cap)


def retry_delay(attempt: int, exc: BaseException, settings: TransferSettings) -> float:
    """The wait before the next attempt: the server's Retry-After (capped), else backoff."""
    after = getattr(exc, "retry_after", None)
    if isinstance(after, int | float):
        return min(float(after), settings.retry_after_max)
    return backoff_delay(attempt, settings)


# -- deadlines and offline probes ------------------------------------------------------------

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "apins_deadline", default=None
)
_PROBE: contextvars.ContextVar[bool] = contextvars.ContextVar("apins_probe", default=False)


def remaining_time() -> float | None:
    """Seconds left before the current verb's deadline (None: no deadline)."""
    deadline = _DEADLINE.get()
    return None if deadline is None else deadline - anyio.current_time()


@contextlib.contextmanager
def verb_deadline(seconds: float | None, what: str) -> Iterator[None]:
    """Bound everything inside to ``seconds`` (None: unbounded); raise DeadlineExceeded."""
    if seconds is None:
        yield
        return
    deadline = anyio.current_time() + seconds
    outer = _DEADLINE.get()
    token = _DEADLINE.set(deadline if outer is None else min(outer, deadline))
    try:
        with anyio.fail_after(seconds):
            yield
    except TimeoutError:
        raise DeadlineExceeded(
            f"{what} did not finish within its deadline of {seconds:g} s "
            "(TransferSettings.deadline)."
        ) from None
    finally:
        _DEADLINE.reset(token)


@contextlib.contextmanager
def offline_probe(enabled: bool = True) -> Iterator[None]:
    """Inside, an unreachable store fails at once (no retries): the caller has a fallback."""
    token = _PROBE.set(enabled)
    try:
        yield
    finally:
        _PROBE.reset(token)


def probing() -> bool:
    """True inside :func:`offline_probe`: stores should bound the wait for a first answer."""
    return _PROBE.get()


async def with_retries(
    fn: Callable[[], Awaitable[T]],
    *,
    settings: TransferSettings,
    what: str,
    applied: Callable[[], Awaitable[T | None]] | None = None,
) -> T:
    """Await ``fn()``, retrying transient failures up to ``settings.retries`` times.

    Non-transient errors propagate at once. When every attempt failed (or the next wait
    would pass the verb's deadline, or the store is unreachable during an offline probe),
    raises TransferError naming ``what`` and the attempt count, chained to the last error.

    For a write, ``applied()`` looks at the server after a failed attempt (whose answer may
    have been lost after the server applied it) and returns the result when the write took
    effect, so it is not repeated blindly; None (or an error) means: try again.
    """
    attempts = settings.retries + 1
    for attempt in range(attempts):
        try:
            return await fn()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if applied is not None:
                done = await _check_applied(applied, what)
                if done is not None:
                    return done
            delay = retry_delay(attempt, exc, settings)
            left = remaining_time()
            final = attempt + 1 >= attempts
            if (isinstance(exc, StoreUnreachable) and probing()) or final:
                raise _gave_up(what, attempt + 1, exc) from exc
            if left is not None and delay >= left:
                raise _gave_up(what, attempt + 1, exc, "the deadline is near") from exc
            log.debug(
                "retry %d/%d of %s in %.0f ms: %s: %s",
                attempt + 1, attempts - 1, what, delay * 1000, type(exc).__name__, exc,
            )  # fmt: skip
        await anyio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


async def _check_applied(applied: Callable[[], Awaitable[T | None]], what: str) -> T | None:
    try:
        done = await applied()
    except Exception as exc:  # the check failed too: repeating the write is the safe choice
        log.debug("%s: could not check whether a failed attempt took effect: %s", what, exc)
        return None
    if done is not None:
        log.debug("%s: the answer was lost, but the write took effect; not repeated", what)
    return done


def _gave_up(what: str, tried: int, exc: BaseException, why: str = "") -> TransferError:
    """The final error: not transient, so an enclosing retry loop does not start over."""
    plural = "s" if tried > 1 else ""
    reason = f" ({why})" if why else ""
    return TransferError(f"{what} failed after {tried} attempt{plural}{reason}: {exc}")
