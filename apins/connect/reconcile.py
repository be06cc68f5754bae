"""Writes to Connect whose answer was lost: find out whether they took effect.

A bundle upload (``POST v1/content/<guid>/bundles``) is matched by content: every body sent is
fingerprinted (size, MD5) as it streams, and an inactive bundle of that size whose archive has
that MD5 (``metadata.archive_md5``, which Connect reports; else the archive is read) is ours,
so no second bundle is uploaded. A deploy is known to have
taken effect when the bundle becomes the content's active one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio

from .client import ConnectClient

log = logging.getLogger("apins.connect")


class SentBodies:
    """Fingerprints ``(size, md5)`` of every body streamed in full for one upload."""

    def __init__(self) -> None:
        self.done: set[tuple[int, str]] = set()

    def wrap(self, stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async def counted() -> AsyncIterator[bytes]:
            digest, size = hashlib.md5(usedforsecurity=False), 0
            async for chunk in stream:
                digest.update(chunk)
                size += len(chunk)
                yield chunk
            self.done.add((size, digest.hexdigest()))

        return counted()


async def bundle_digest(
    client: ConnectClient, guid: str, bundle: dict[str, Any]
) -> tuple[int, str]:
    """``(size, md5)`` of a bundle's archive: as Connect reports it, else read."""
    digest, size = hashlib.md5(usedforsecurity=False), 0
    metadata = bundle.get("metadata")
    reported = metadata.get("archive_md5") if isinstance(metadata, dict) else None
    if isinstance(reported, str) and isinstance(bundle.get("size"), int):
        return bundle["size"], reported.lower()
    bundle_id = bundle.get("id")
    url = client.api_url(f"v1/content/{guid}/bundles/{bundle_id}/download")
    async with client.request("GET", url, what=f"Reading bundle {bundle_id}") as resp:
        async for chunk in resp.content.iter_chunked(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


async def find_uploaded(client: ConnectClient, guid: str, sent: SentBodies) -> Any:
    """The bundle JSON of an upload whose answer was lost, or None if none took effect."""
    if not sent.done:
        return None
    sizes = {size for size, _ in sent.done}
    for bundle in await client.list_bundles(guid):
        if bundle.get("active") or bundle.get("size") not in sizes:
            continue
        if await bundle_digest(client, guid, bundle) in sent.done:
            log.debug("The upload of bundle %s took effect; its answer was lost.", bundle["id"])
            return bundle
    return None


#: seconds a deploy whose answer was lost is given to activate its bundle before it is sent
#: again (deploying the same bundle twice is harmless, only slower)
DEPLOY_SETTLE = 10.0


async def deployed(client: ConnectClient, guid: str, bundle_id: str) -> Any:
    """``{"task_id": None}`` once ``bundle_id`` is the content's active bundle (its deploy
    task finished), None if that does not happen within :data:`DEPLOY_SETTLE` seconds."""
    delay = 0.05
    with anyio.move_on_after(DEPLOY_SETTLE):
        while True:
            content = await client.get_json(f"v1/content/{guid}", what="Checking a deploy")
            if isinstance(content, dict) and str(content.get("bundle_id")) == bundle_id:
                return {"task_id": None}
            await anyio.sleep(delay)
            delay = min(delay * 2, 1.0)
    return None
