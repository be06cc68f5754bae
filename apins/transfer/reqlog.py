"""DEBUG records of every HTTP request apins sends through aiohttp (logger ``apins.http``).

One record per request once its response head arrived (or it failed): method, redacted URL,
status, body bytes (Content-Length of the response, or of the request for uploads) and the
time in milliseconds. Sessions take :func:`request_tracing`: the trace config only while
``apins.http`` logs at DEBUG when the session opens (stores open theirs on first request).
"""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING

from .._redact import redact_url

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger("apins.http")


def request_line(
    method: str, url: str, status: int | str, nbytes: int | None, seconds: float
) -> str:
    """``GET https://host/path?X-Amz-Signature=*** -> 206, 1048576 bytes, 12.3 ms``."""
    size = "? bytes" if nbytes is None else f"{nbytes} bytes"
    return f"{method} {redact_url(url)} -> {status}, {size}, {seconds * 1000:.1f} ms"


def trace_config() -> aiohttp.TraceConfig:
    """An aiohttp TraceConfig logging each request to ``apins.http`` at DEBUG."""
    import aiohttp

    async def on_start(
        _s: aiohttp.ClientSession, ctx: SimpleNamespace, _p: aiohttp.TraceRequestStartParams
    ) -> None:
        ctx.apins_t0 = time.perf_counter()

    async def on_end(
        _s: aiohttp.ClientSession, ctx: SimpleNamespace, p: aiohttp.TraceRequestEndParams
    ) -> None:
        if log.isEnabledFor(logging.DEBUG):
            length = p.response.content_length
            if p.method == "PUT" or (length is None and p.method == "POST"):
                # an upload: the bytes sent, not its (empty) answer's
                length = _int(p.headers.get("Content-Length")) or length
            elapsed = time.perf_counter() - getattr(ctx, "apins_t0", time.perf_counter())
            log.debug(request_line(p.method, str(p.url), p.response.status, length, elapsed))

    async def on_error(
        _s: aiohttp.ClientSession, ctx: SimpleNamespace, p: aiohttp.TraceRequestExceptionParams
    ) -> None:
        if log.isEnabledFor(logging.DEBUG):
            elapsed = time.perf_counter() - getattr(ctx, "apins_t0", time.perf_counter())
            failure = type(p.exception).__name__
            log.debug(request_line(p.method, str(p.url), failure, None, elapsed))

    config = aiohttp.TraceConfig()
    config.on_request_start.append(on_start)
    config.on_request_end.append(on_end)
    config.on_request_exception.append(on_error)
    return config


def request_tracing() -> list[aiohttp.TraceConfig]:
    """``[trace_config()]`` when ``apins.http`` logs at DEBUG, else ``[]``.

    aiohttp's tracing costs CPU on every request even when nothing is logged (measured on
    fake-gcs-server: about 80 µs of a 250 µs metadata GET), so sessions skip it unless asked.
    """
    return [trace_config()] if log.isEnabledFor(logging.DEBUG) else []


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
