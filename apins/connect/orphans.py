"""Orphan bundles: uploaded by a writer that died before its deploy reached the server.

On Connect a version is a bundle that was deployed: its files are served under
``_rev<id>/``. A bundle whose deploy never happened (the writer was killed between upload
and deploy, or lost the deploy's answer and could not delete it) is listed by the API but
serves nothing. apins does not list it as a version; pins-python lists it, and takes it as
the latest while it is the newest bundle. The sweep deletes such bundles once they are
older than a grace period (a live writer's bundle waits for its deploy for a moment).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from .client import ConnectClient
from .errors import ConnectNotFound

log = logging.getLogger("apins.connect")

#: ``served(guid, bundle id)``: whether the bundle's data.txt is served
Served = Callable[[str, str], Awaitable[bool]]


def created_at(bundle: dict[str, Any]) -> datetime | None:
    """A bundle's ``created_time`` (UTC), or None if missing or unreadable."""
    value = bundle.get("created_time")
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


async def sweep_pin(
    client: ConnectClient, served: Served, full: str, content: dict[str, Any], grace: float
) -> list[str]:
    """Delete the never-deployed bundles of pin ``full`` (content JSON ``content``) created
    ``grace`` seconds ago or earlier; return ``"<full>/<bundle id>"`` for each one deleted."""
    cutoff = time.time() - grace
    guid = str(content["guid"])
    active = str(content.get("bundle_id"))
    gone: list[str] = []
    for bundle in await client.list_bundles(guid):
        bid = str(bundle.get("id", ""))
        if not bid.isdigit() or bid == active or bundle.get("active"):
            continue
        created = created_at(bundle)
        too_young = grace > 0 if created is None else created.timestamp() > cutoff
        if too_young or await served(guid, bid):
            continue
        log.info("Deleting bundle %s of pin %s: uploaded but never deployed (a crashed write)",
                 bid, full)  # fmt: skip
        try:
            await client.delete(
                f"v1/content/{guid}/bundles/{bid}", what=f"Deleting orphan bundle {bid} of {full}"
            )
        except ConnectNotFound:
            continue  # deleted meanwhile
        gone.append(f"{full}/{bid}")
    return gone
