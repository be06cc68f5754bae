"""Helpers for the Connect board tests: raw API calls and small HTTP servers for redirects."""

from __future__ import annotations

import io
import json
import tarfile
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web

USERS: dict[str, str | tuple[str, str]] = {
    "alice": "key-a",
    "bob": "key-b",
    "carol": ("key-c", "viewer"),
}


async def api(
    url: str, key: str, method: str, path: str, *, json_body: Any = None, raw: bool = False
) -> Any:
    """One request to ``<url>/__api__/<path>`` as the owner of ``key``; JSON or raw bytes."""
    async with (
        aiohttp.ClientSession() as s,
        s.request(
            method,
            f"{url}/__api__/{path}",
            json=json_body,
            headers={"Authorization": f"Key {key}"},
        ) as r,
    ):
        body = await r.read()
        assert r.status < 400, (r.status, body[:300])
        if raw:
            return body
        return json.loads(body) if body.strip() else None


def bundle_served(url: str, key: str, guid: str, bundle_id: str) -> bool:
    """Whether ``<url>/content/<guid>/_rev<bundle_id>/data.txt`` is served (a blocking GET:
    the server must run on another thread or process); False on 404."""
    request = urllib.request.Request(
        f"{url}/content/{guid}/_rev{bundle_id}/data.txt", headers={"Authorization": f"Key {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60):
            return True
    except urllib.error.HTTPError as e:
        assert e.code == 404, e
        return False


async def bundle_members(url: str, key: str, guid: str, bundle_id: str) -> dict[str, bytes]:
    """Download a bundle through the API and return its members by name."""
    data = await api(url, key, "GET", f"v1/content/{guid}/bundles/{bundle_id}/download", raw=True)
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for m in tar:
            if m.isfile():
                f = tar.extractfile(m)
                assert f is not None
                out[m.name] = f.read()
    return out


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def tiny_server(handler: Handler) -> AsyncIterator[str]:
    """An aiohttp server on a free 127.0.0.1 port answering every path with ``handler``."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
