"""One request to a cloud REST API on a store's aiohttp session (Azure, GCS, and S3's
presigned reads and signed small writes).

The stores differ in how they sign and in what an error answer means; this module holds
what they share: send on a pre-encoded URL with the verb's timeouts and no redirects, turn
a dropped connection into a retryable error, and hand an error answer (status, body,
headers) to the store's own mapping. Nothing here retries: :mod:`apins.transfer.retry` does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..settings import TransferSettings
from ..transfer.retry import ConnectionLost
from .http import request_timeout, transport_error

if TYPE_CHECKING:
    import aiohttp

#: builds the store's error for an answer outside ``ok``: (status, body, headers) -> error
ErrorMapper = Callable[[int, bytes, Mapping[str, str]], Exception]


async def send_checked(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    settings: TransferSettings,
    what: str,
    ok: tuple[int, ...],
    on_error: ErrorMapper,
    headers: Mapping[str, str] | None = None,
    data: Any = None,
    json_body: Any = None,
    read: bool = False,
) -> aiohttp.ClientResponse:
    """Send one request to ``url`` exactly as given (already percent-encoded: a signed URL
    must not be re-quoted) and return its response when the status is in ``ok``, its body
    read first when ``read``; else raise ``on_error(...)``. ``what`` names the call in
    errors (e.g. "Azure GetBlob on az://...").

    A refused connection raises ``StoreUnreachable``; one dropped after the request went
    out raises ``ConnectionLost`` (a write may have taken effect). The transport's own
    exception is not chained: its text can hold a signed URL (a SAS token, an S3 signature).
    """
    import aiohttp
    from yarl import URL

    try:
        resp = await session.request(
            method,
            URL(url, encoded=True),
            headers=headers,
            data=data,
            json=json_body,
            allow_redirects=False,
            timeout=request_timeout(session, settings),
        )
    except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as exc:
        raise transport_error(exc, f"{what} failed: {type(exc).__name__}") from None
    if resp.status in ok:
        if read:
            try:
                await resp.read()
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as exc:
                resp.release()
                raise ConnectionLost(f"{what} failed: {type(exc).__name__}") from None
        return resp
    try:
        body = await resp.read()
    except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError):
        body = b""
    finally:
        resp.release()
    raise on_error(resp.status, body, resp.headers)
