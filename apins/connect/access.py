"""Who may read a pin on Connect: ``access_type`` and ACL entries through the permissions API.

A pin is shared with users (by user name) or groups (by group name) as ``viewer`` or ``owner``
(a collaborator, who may also write new versions). Sharing again with another role changes the
entry; unsharing someone who has no entry does nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import PinsError
from .client import ConnectClient

ROLES = ("viewer", "owner")


def check_role(role: str) -> str:
    """``role`` if it is viewer or owner, else PinsError."""
    if role not in ROLES:
        raise PinsError(f"role must be 'viewer' or 'owner', not {role!r}.")
    return role


def names_of(value: str | Sequence[str], what: str) -> list[str]:
    """One name or several as a list of non-empty names."""
    names = [value] if isinstance(value, str) else list(value)
    for n in names:
        if not isinstance(n, str) or not n:
            raise PinsError(f"{what} must be names (non-empty strings), not {n!r}.")
    return names


async def principals(
    client: ConnectClient, users: Sequence[str], groups: Sequence[str]
) -> list[tuple[str, str, str]]:
    """``(principal_type, guid, label)`` for each user and group name; unknown names raise."""
    out = []
    for u in users:
        guid = await client.user_guid(u)
        if guid is None:
            raise PinsError(f"There is no Connect user called {u!r} on {client.server_url}.")
        out.append(("user", guid, f"user {u}"))
    for g in groups:
        guid = await client.group_guid(g)
        if guid is None:
            raise PinsError(f"There is no Connect group called {g!r} on {client.server_url}.")
        out.append(("group", guid, f"group {g}"))
    return out


async def acl(client: ConnectClient, guid: str, full: str) -> list[dict[str, Any]]:
    """The content's ACL entries."""
    doc = await client.get_json(
        f"v1/content/{guid}/permissions", what=f"Reading who may see pin {full}"
    )
    if not isinstance(doc, list):
        raise PinsError(f"Reading the permissions of {full}: unexpected answer {doc!r:.200}")
    return [p for p in doc if isinstance(p, dict)]


async def share(
    client: ConnectClient,
    guid: str,
    full: str,
    who: list[tuple[str, str, str]],
    role: str,
) -> None:
    """Give every principal in ``who`` the ``role`` on content ``guid`` (add or change)."""
    existing = {str(p.get("principal_guid")): p for p in await acl(client, guid, full)}
    for kind, pguid, label in who:
        body = {"principal_guid": pguid, "principal_type": kind, "role": role}
        entry = existing.get(pguid)
        if entry is None:
            await client.send_json(
                "POST", f"v1/content/{guid}/permissions", body,
                what=f"Sharing pin {full} with {label}",
            )  # fmt: skip
        elif entry.get("role") != role:
            await client.send_json(
                "PUT", f"v1/content/{guid}/permissions/{entry['id']}", body,
                what=f"Changing the role of {label} on pin {full}",
            )  # fmt: skip


async def unshare(
    client: ConnectClient, guid: str, full: str, who: list[tuple[str, str, str]]
) -> None:
    """Remove the ACL entries of every principal in ``who`` (absent ones are fine)."""
    existing = {str(p.get("principal_guid")): p for p in await acl(client, guid, full)}
    for _kind, pguid, label in who:
        entry = existing.get(pguid)
        if entry is not None:
            await client.delete(
                f"v1/content/{guid}/permissions/{entry['id']}",
                what=f"Unsharing pin {full} with {label}",
            )
