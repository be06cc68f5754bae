"""Planning a mirror: name every version on both sides, select, and diff (no data moves here).

Path boards (folder, S3, URL) name a version ``<created>-<hash5>`` and that name is kept.
Boards whose version ids are opaque (Connect bundle ids) are named from each version's
data.txt: its ``version`` field when present, else ``created`` + ``pin_hash[:5]``, the name
pins gives a version, so a pin goes Connect → S3 → Connect and keeps its names.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Literal, TypeVar

import anyio

from .._one_error import collapsed
from ..backends.base import Backend
from ..backends.path import PathBackend
from ..errors import BoardNotFound, PinNotFound, PinsError, VersionConflict
from ..meta import AnyMeta, parse_created
from ..names import validate_pin_name
from ..versions import VersionInfo, version_name

T = TypeVar("T")

VersionsArg = Literal["all", "latest"] | int
SinceArg = datetime | date | str | None

_VERSION_NAME = re.compile(r"^\d{8}T\d{6}Z-[0-9a-fA-F]+$")


@dataclass(frozen=True, slots=True)
class SideVersion:
    """One version as one board holds it.

    ``id`` is what the board calls it (a path version name, a Connect bundle id); ``name`` is
    the portable version name both boards are compared by.
    """

    id: str
    name: str
    created: datetime | None
    #: the full pin_hash when known, else the hash prefix in the name (or None)
    hash: str | None


@dataclass(slots=True)
class PinPlan:
    """What to do for one pin: versions to copy (oldest first), to skip, to delete."""

    pin: str
    target_pin: str
    copy: list[SideVersion] = field(default_factory=list)
    skip: list[SideVersion] = field(default_factory=list)
    delete: list[SideVersion] = field(default_factory=list)
    conflicts: list[tuple[SideVersion, PinsError]] = field(default_factory=list)


def path_like(backend: Backend) -> bool:
    """True when version ids are portable version names (the pins folder layout)."""
    return isinstance(backend, PathBackend)


def target_pin_name(pin: str) -> str:
    """The pin's name on the target: ``owner/name`` (Connect) loses its owner."""
    return pin.rsplit("/", 1)[-1]


def check_versions_arg(versions: VersionsArg) -> None:
    """Raise ValueError unless ``versions`` is "all", "latest" or a positive int."""
    if versions in ("all", "latest"):
        return
    if isinstance(versions, bool) or not isinstance(versions, int) or versions < 1:
        raise ValueError(f"versions must be 'all', 'latest' or a positive number, not {versions!r}")


def parse_since(since: SinceArg) -> datetime | None:
    """``since`` as an aware UTC datetime (dates mean midnight UTC; naive times are UTC)."""
    if since is None:
        return None
    if isinstance(since, str):
        return parse_created(since)
    if not isinstance(since, datetime):
        return datetime(since.year, since.month, since.day, tzinfo=timezone.utc)
    if since.tzinfo is None:
        return since.replace(tzinfo=timezone.utc)
    return since.astimezone(timezone.utc)


def name_from_meta(meta: AnyMeta, fallback: str) -> str:
    """The portable name of a version whose board id is opaque (see the module docstring)."""
    named = getattr(meta, "extra", {}).get("version")
    if isinstance(named, str) and _VERSION_NAME.match(named):
        return named
    if meta.created and meta.pin_hash:
        return version_name(parse_created(meta.created), meta.pin_hash)
    return fallback


async def gather_bounded(
    limit: anyio.CapacityLimiter, fns: Sequence[Callable[[], Awaitable[T]]]
) -> list[T]:
    """Await every ``fn()`` concurrently, at most ``limit`` at a time; results in order."""
    out: list[T | None] = [None] * len(fns)

    async def one(i: int) -> None:
        async with limit:
            out[i] = await fns[i]()

    with collapsed():
        async with anyio.create_task_group() as tg:
            for i in range(len(fns)):
                tg.start_soon(one, i)
    return out  # type: ignore[return-value]


#: pin -> versions (oldest first) from one listing of a whole path board
Listing = dict[str, list[VersionInfo]]


async def board_listing(backend: Backend, *, missing_ok: bool) -> Listing | None:
    """One listing of a whole board in the plain key layout (None for other boards, URL
    boards included: they name versions per pin); a target board that does not exist yet
    (``missing_ok``) lists as empty."""
    if type(backend) is not PathBackend:
        return None
    try:
        return await backend.versions_by_pin()
    except BoardNotFound:
        if missing_ok:
            return {}
        raise


async def _versions(backend: Backend, pin: str, listing: Listing | None) -> list[VersionInfo]:
    if listing is None:
        return await backend.list_versions(pin)
    validate_pin_name(pin)
    if not listing.get(pin):
        raise PinNotFound(f"Pin {pin!r} does not exist on this board.")
    return listing[pin]


async def side_versions(
    backend: Backend,
    pin: str,
    limit: anyio.CapacityLimiter,
    *,
    missing_ok: bool,
    listing: Listing | None = None,
) -> list[SideVersion]:
    """Every complete version of ``pin`` on ``backend``, oldest first, with portable names
    (from ``listing`` when given, else from a listing of the pin)."""
    try:
        infos = await _versions(backend, pin, listing)
    except (PinNotFound, BoardNotFound):
        if missing_ok:
            return []
        raise
    if path_like(backend):
        return [SideVersion(v.version, v.version, v.created, v.hash) for v in infos]

    async def named(info: VersionInfo) -> SideVersion:
        meta = await backend.read_meta(pin, info.version)
        created = meta.created_datetime if isinstance(meta.created, str) else info.created
        return SideVersion(info.version, name_from_meta(meta, info.version), created, meta.pin_hash)

    return await gather_bounded(limit, [lambda i=i: named(i) for i in infos])  # type: ignore[misc]


async def select(
    backend: Backend,
    pin: str,
    found: list[SideVersion],
    versions: VersionsArg,
    since: datetime | None,
) -> list[SideVersion]:
    """The source versions to mirror, oldest first."""
    chosen = list(found)
    if versions == "latest" and chosen:
        if path_like(backend):
            chosen = chosen[-1:]
        else:
            latest = (await backend.latest_version(pin)).version
            chosen = [v for v in chosen if v.id == latest] or chosen[-1:]
    elif isinstance(versions, int) and not isinstance(versions, bool):
        chosen = chosen[-versions:]
    if since is not None:
        chosen = [v for v in chosen if v.created is not None and v.created >= since]
    return chosen


def _prefixes_agree(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    return a.startswith(b) or b.startswith(a)


async def _full_hash(backend: Backend, pin: str, v: SideVersion) -> str | None:
    if v.hash is not None and len(v.hash) > 5:
        return v.hash
    meta = await backend.read_meta(pin, v.id)
    return meta.pin_hash or v.hash


async def same_content(
    source: Backend, pin: str, sv: SideVersion, target: Backend, tpin: str, tv: SideVersion
) -> bool:
    """True when two versions with one name hold the same content (by pin_hash)."""
    if sv.hash and tv.hash and not _prefixes_agree(sv.hash, tv.hash):
        return False
    if sv.hash and tv.hash and _VERSION_NAME.match(sv.name):
        return True  # equal name = equal time and hash prefix; nothing more to read
    a = await _full_hash(source, pin, sv)
    b = await _full_hash(target, tpin, tv)
    return a is None or b is None or _prefixes_agree(a, b)


async def plan_pin(
    source: Backend,
    target: Backend,
    pin: str,
    *,
    versions: VersionsArg,
    since: datetime | None,
    delete: bool,
    limit: anyio.CapacityLimiter,
    listings: tuple[Listing | None, Listing | None] = (None, None),
) -> PinPlan:
    """Diff one pin: copy what the target lacks, skip what it has, delete what the source lost.

    ``listings``: whole-board listings of the source and the target, when the caller made
    them (one request each instead of one per pin and side)."""
    tpin = target_pin_name(pin)
    found = await side_versions(source, pin, limit, missing_ok=False, listing=listings[0])
    there = await side_versions(target, tpin, limit, missing_ok=True, listing=listings[1])
    plan = PinPlan(pin, tpin)
    by_name = {v.name: v for v in there}
    for sv in await select(source, pin, found, versions, since):
        tv = by_name.get(sv.name)
        if tv is None:
            plan.copy.append(sv)
        elif await same_content(source, pin, sv, target, tpin, tv):
            plan.skip.append(sv)
        else:
            plan.conflicts.append(
                (
                    sv,
                    VersionConflict(
                        f"the target already has a version {sv.name!r} of pin {tpin!r} "
                        "with other content; delete it there to mirror this one"
                    ),
                )
            )
    if delete:
        names = {v.name for v in found}
        plan.delete = [tv for tv in there if tv.name not in names]
    return plan
