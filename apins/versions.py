"""Version names, ordering, the versioned/unversioned write rule and pruning (spec §3)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum

from .errors import PinsError, VersionConflict
from .meta import format_created, parse_created

_VERSION = re.compile(r"^(\d{8}T\d{6}Z)-([0-9a-fA-F]+)$")


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One version of a pin. ``created``/``hash`` are None when the name does not parse."""

    version: str
    created: datetime | None = None
    hash: str | None = None
    #: backend-specific extras (Connect: bundle size, active flag)
    active: bool | None = None
    size: int | None = None

    @classmethod
    def from_name(cls, name: str) -> VersionInfo:
        """Parse ``YYYYMMDDTHHMMSSZ-<hash>``; any other name is kept with no date or hash."""
        m = _VERSION.match(name)
        if not m:
            return cls(name)
        try:
            created = parse_created(m.group(1))
        except PinsError:
            return cls(name)
        return cls(name, created, m.group(2).lower())


def version_name(created: datetime, pin_hash: str) -> str:
    """``<created as YYYYMMDDTHHMMSSZ in UTC>-<first 5 hex of pin_hash>``."""
    return f"{format_created(created)}-{pin_hash[:5]}"


def _order_key(v: VersionInfo) -> tuple[int, int, str]:
    # Connect bundle ids are numbers ("9" < "10"); pins version names sort as text
    if v.version.isdigit():
        return (0, int(v.version), "")
    return (1, 0, v.version)


def is_newer(a: VersionInfo, b: VersionInfo) -> bool:
    """True if ``a`` sorts after ``b`` (the order of :func:`sort_versions`)."""
    return _order_key(a) > _order_key(b)


def sort_versions(versions: Sequence[VersionInfo]) -> list[VersionInfo]:
    """Oldest first: by version name (which begins with the second-precision UTC time), or
    by number for numeric ids (Connect bundles)."""
    return sorted(versions, key=_order_key)


class WriteAction(Enum):
    ADD = "add"
    REPLACE = "replace"


def write_action(versioned: bool | None, board_versioned: bool, n_existing: int) -> WriteAction:
    """The §3.5 rule: add a version, or replace the only one, or refuse.

    ``versioned=None`` means: versioned if the pin already has several versions, else the
    board's default.
    """
    effective = versioned
    if effective is None:
        effective = True if n_existing > 1 else board_versioned
    if effective or n_existing == 0:
        return WriteAction.ADD
    if n_existing == 1:
        return WriteAction.REPLACE
    raise VersionConflict(
        f"This pin has {n_existing} versions, but you asked for an unversioned write. "
        "Write with versioned=True, or delete old versions first (pin_versions_prune)."
    )


def select_prune(
    versions: Sequence[VersionInfo],
    *,
    n: int | None = None,
    days: float | None = None,
    now: datetime | None = None,
) -> list[VersionInfo]:
    """The versions ``pin_versions_prune`` deletes: never the newest one, never the active one.

    Exactly one of ``n`` (keep the n newest, n >= 1) or ``days`` (keep those created within
    the last ``days`` days) must be given.
    """
    if n is None and days is None:
        raise ValueError("pin_versions_prune needs n= (versions to keep) or days= (age to keep).")
    if n is not None and days is not None:
        raise ValueError("pin_versions_prune takes n= or days=, not both.")
    ordered = sort_versions(versions)
    if not ordered:
        return []
    newest = ordered[-1]
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a whole number of versions to keep, at least 1; got {n!r}")
        return [v for v in (ordered[:-n] if len(ordered) > n else []) if not v.active]
    assert days is not None
    if days < 0:
        raise ValueError(f"days must not be negative; got {days!r}")
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    return [
        v
        for v in ordered
        if v is not newest and not v.active and v.created is not None and v.created < cutoff
    ]
