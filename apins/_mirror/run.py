"""``mirror()``: plan every pin, copy what the target lacks, delete what the source lost."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

import anyio

from .._one_error import public_verb
from ..backends.path import PathBackend
from ..errors import BoardNotFound, PinsError, ReadOnlyBoard
from ..stores.base import ProgressCallback
from ..transfer.progress import Progress, progress_scope
from .copy import VersionCopier
from .plan import (
    Listing,
    PinPlan,
    SideVersion,
    SinceArg,
    VersionsArg,
    board_listing,
    check_versions_arg,
    gather_bounded,
    parse_since,
    path_like,
    plan_pin,
    side_versions,
    target_pin_name,
)
from .report import MirrorFailed, MirrorFailure, MirrorRefused, MirrorReport, VersionRef
from .shard import Shard, check_shard, in_shard

if TYPE_CHECKING:
    from ..board import Board

log = logging.getLogger("apins")

#: concurrent metadata requests while planning, at least
_PLAN_CONCURRENCY = 16


class _Run:
    """State of one mirror call: the report, the failure rule, the limits."""

    def __init__(self, report: MirrorReport, stop_on_error: bool, concurrency: int) -> None:
        self.report = report
        self.stop_on_error = stop_on_error
        self.concurrency = concurrency
        self.files = anyio.CapacityLimiter(concurrency)
        self.meta = anyio.CapacityLimiter(max(concurrency, _PLAN_CONCURRENCY))
        self.scope: anyio.CancelScope | None = None
        self.failed_pins: set[str] = set()

    def fail(self, pin: str, version: str | None, error: BaseException) -> None:
        """Record a failure; with stop_on_error, cancel whatever runs in ``scope``."""
        log.warning("mirror: %s%s failed: %s", pin, f"@{version}" if version else "", error)
        self.report.failed.append(MirrorFailure(pin, version, error))
        self.failed_pins.add(pin)
        if self.stop_on_error and self.scope is not None:
            self.scope.cancel()

    def check_stop(self) -> None:
        if self.stop_on_error and self.report.failed:
            raise MirrorFailed(self.report.failed[0], self.report)

    async def guarded(
        self, pin: str, version: str | None, fn: Callable[[], Awaitable[None]]
    ) -> None:
        """Run ``fn``; an error becomes a failure of ``pin``/``version`` instead of raising."""
        try:
            await fn()
        except Exception as exc:  # one bad pin must not stop the others
            self.fail(pin, version, exc)


@public_verb
async def mirror(
    source: Board,
    target: Board,
    names: str | Iterable[str] | None = None,
    versions: VersionsArg = "all",
    since: SinceArg = None,
    dry_run: bool = False,
    delete: bool = False,
    concurrency: int = 8,
    stop_on_error: bool = False,
    progress: Progress = None,
    shard: Shard | None = None,
    *,
    allow_empty_source: bool = False,
    before_delete: Callable[[list[VersionRef]], object] | None = None,
) -> MirrorReport:
    """Copy pins from ``source`` to ``target`` version by version, as bytes.

    Every copied version keeps its version name, its data.txt (byte for byte) and pin_hash;
    files are checked against the hash on the way (server-side copies by size). Versions the
    target already has with the same hash are skipped, so a re-run after an interruption
    finishes the job. ``names``: pins to mirror (default: all). ``versions``: ``"all"``,
    ``"latest"`` or the ``n`` newest; ``since``: only versions created at or after it.
    ``delete=True`` also removes target versions the source does not have (and, when
    ``names`` is None, target pins the source does not have). ``dry_run`` changes nothing.
    ``concurrency`` bounds versions and file transfers in flight. A failing pin or version is
    reported in ``MirrorReport.failed``; with ``stop_on_error`` the first failure cancels the
    rest and raises :class:`MirrorFailed` (its ``report`` says what was done).
    ``progress``: True for a bar, or a callback receiving every transfer's events.
    ``shard=(k, n)`` (``0 <= k < n``): only the pins whose stable hash of the name is ``k``
    mod ``n`` (and, with ``delete``, only such target orphans), so ``n`` processes or hosts
    running shards ``0..n-1`` together mirror the whole board without coordinating.

    A missing source board raises BoardNotFound. With ``delete=True`` and no ``names``, a
    source that lists no pins while the target has some raises :class:`MirrorRefused` (a typo
    in the source would otherwise empty the target) unless ``allow_empty_source=True``.
    ``before_delete`` is called with every version about to be deleted, before any is.
    """
    check_versions_arg(versions)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive number, not {concurrency!r}")
    cutoff = parse_since(since)
    shard = check_shard(shard)
    if target.backend.read_only and not dry_run:
        raise ReadOnlyBoard(f"cannot mirror into {target.board_deparse()}: it is read-only")
    started = time.monotonic()
    run = _Run(MirrorReport(dry_run=dry_run), stop_on_error, concurrency)
    pins = [names] if isinstance(names, str) else (list(names) if names is not None else None)
    listings: tuple[Listing | None, Listing | None] = (None, None)
    if pins is None:
        # path boards: one listing per side serves every pin (a missing source board
        # raises BoardNotFound here)
        listed = await board_listing(source.backend, missing_ok=False)
        pins = sorted(listed) if listed is not None else await source.pin_list()
        if delete and not pins and not allow_empty_source:
            await _refuse_to_empty(source, target)
        listings = (listed, await board_listing(target.backend, missing_ok=True))
    every_pin = pins
    if shard is not None:
        pins = [p for p in every_pin if in_shard(p, shard)]
    plans = await _plan_all(source, target, pins, versions, cutoff, delete, run, listings)
    run.check_stop()
    orphans: list[PinPlan] = []
    if delete and names is None:
        orphans = await _orphan_pins(target, plans, run, every_pin, shard, listings[1])
    run.check_stop()
    if dry_run:
        await _dry_run(source, plans, orphans, run)
    else:
        with progress_scope(progress, None, "mirror") as callback:
            await _copy_all(source, target, plans, callback, run)
        run.check_stop()
        doomed = _doomed(plans, orphans, run)
        if before_delete is not None and doomed:
            before_delete(doomed)
        await _delete_all(target, plans, orphans, run)
        run.check_stop()
    report = run.report
    for refs in (report.copied, report.skipped, report.deleted):
        refs.sort(key=lambda r: (r.pin, r.version or ""))
    report.seconds = time.monotonic() - started
    return report


async def _target_pins(target: Board) -> list[str]:
    """The target's pins; a folder target that does not exist yet has none."""
    try:
        return await target.pin_list()
    except BoardNotFound:
        return []


async def _refuse_to_empty(source: Board, target: Board) -> None:
    there = await _target_pins(target)
    if there:
        raise MirrorRefused(
            f"The source board {source.board_deparse()} lists no pins, so delete=True would "
            f"delete all {len(there)} pins of the target {target.board_deparse()}. If the "
            "source is right, pass allow_empty_source=True (CLI: --allow-empty-source)."
        )


def _doomed(plans: list[PinPlan], orphans: list[PinPlan], run: _Run) -> list[VersionRef]:
    """Every target version ``_delete_all`` is about to delete."""
    out = [
        VersionRef(p.target_pin, v.name)
        for p in plans
        if p.pin not in run.failed_pins
        for v in p.delete
    ]
    out += [VersionRef(p.target_pin, v.name) for p in orphans for v in p.delete]
    return sorted(out, key=lambda r: (r.pin, r.version or ""))


async def _plan_all(
    source: Board,
    target: Board,
    pins: list[str],
    versions: VersionsArg,
    since: datetime | None,
    delete: bool,
    run: _Run,
    listings: tuple[Listing | None, Listing | None],
) -> list[PinPlan]:
    found: list[PinPlan | None] = [None] * len(pins)

    async def one(i: int) -> None:
        async def work() -> None:
            found[i] = await plan_pin(
                source.backend, target.backend, pins[i], versions=versions, since=since,
                delete=delete, limit=run.meta, listings=listings,
            )  # fmt: skip

        await run.guarded(pins[i], None, work)

    with anyio.CancelScope() as scope:
        run.scope = scope
        async with anyio.create_task_group() as tg:
            for i in range(len(pins)):
                tg.start_soon(one, i)
    plans = [p for p in found if p is not None]
    seen: dict[str, str] = {}
    for plan in plans:
        other = seen.setdefault(plan.target_pin, plan.pin)
        if other != plan.pin:
            run.fail(plan.pin, None, PinsError(
                f"pins {other!r} and {plan.pin!r} would both become {plan.target_pin!r} on "
                "the target; mirror them separately (names=)"
            ))  # fmt: skip
    plans = [p for p in plans if p.pin not in run.failed_pins]
    for plan in plans:
        run.report.skipped += [VersionRef(plan.pin, v.name) for v in plan.skip]
        for sv, err in plan.conflicts:
            run.fail(plan.pin, sv.name, err)
    return plans


async def _orphan_pins(
    target: Board,
    plans: list[PinPlan],
    run: _Run,
    every_pin: list[str] | None,
    shard: Shard | None,
    listing: Listing | None,
) -> list[PinPlan]:
    """Target pins the source does not have at all (delete=True without names=).

    With a shard, ``every_pin`` is the whole source list (other shards' pins are kept) and
    only the orphans whose target name falls in this shard are this shard's to delete.
    """
    kept = {p.target_pin for p in plans} | {target_pin_name(p) for p in run.failed_pins}
    kept |= {target_pin_name(p) for p in every_pin or ()}
    there_pins = sorted(listing) if listing is not None else await _target_pins(target)
    orphans = [n for n in there_pins if n not in kept and in_shard(n, shard)]

    async def versions_of(name: str) -> PinPlan:
        there = await side_versions(
            target.backend, name, run.meta, missing_ok=True, listing=listing
        )
        return PinPlan(name, name, delete=there)

    return await gather_bounded(run.meta, [lambda n=n: versions_of(n) for n in orphans])  # type: ignore[misc]


async def _dry_run(source: Board, plans: list[PinPlan], orphans: list[PinPlan], run: _Run) -> None:
    report = run.report
    sizes: list[int] = []

    async def size_of(pin: str, sv: SideVersion) -> None:
        async def work() -> None:
            meta = await source.backend.read_meta(pin, sv.id)
            sizes.append(meta.total_size)

        await run.guarded(pin, sv.name, work)

    async with anyio.create_task_group() as tg:
        for plan in plans:
            for sv in plan.copy:
                report.copied.append(VersionRef(plan.pin, sv.name))
                tg.start_soon(size_of, plan.pin, sv)
    report.bytes = sum(sizes)
    for plan in [*plans, *orphans]:
        report.deleted += [VersionRef(plan.target_pin, v.name) for v in plan.delete]


def _jobs(
    plans: list[PinPlan], per_pin: bool, sizes: dict[str, int]
) -> Iterator[tuple[PinPlan, list[SideVersion]]]:
    """Units of work: one version each, or (per_pin) each pin's versions in order.

    Single versions go round-robin over pins (every pin makes progress early), the biggest
    versions by ``sizes`` (``pin/version`` -> listed bytes) first: a big copy started last
    would run alone at the end while the rest of the machine idles."""
    if per_pin:
        for plan in plans:
            if plan.copy:
                yield plan, plan.copy
        return
    depth = max((len(p.copy) for p in plans), default=0)
    jobs = [(p, [p.copy[i]]) for i in range(depth) for p in plans if i < len(p.copy)]
    jobs.sort(key=lambda job: -sizes.get(f"{job[0].pin}/{job[1][0].id}", 0))
    yield from jobs


async def _copy_all(
    source: Board,
    target: Board,
    plans: list[PinPlan],
    progress: ProgressCallback | None,
    run: _Run,
) -> None:
    copier = VersionCopier(source.backend, target.backend, run.files, progress)
    # boards without portable version names (Connect) get versions oldest first, one by one,
    # so that the newest copied version ends up the active one
    src = source.backend
    sizes = src.listed_sizes() if type(src) is PathBackend else {}
    jobs = _jobs(plans, per_pin=not path_like(target.backend), sizes=sizes)
    report = run.report

    async def worker() -> None:
        for plan, versions in jobs:
            for sv in versions:
                if plan.pin in run.failed_pins and not path_like(target.backend):
                    break

                async def work(plan: PinPlan = plan, sv: SideVersion = sv) -> None:
                    done = await copier.copy(plan.pin, sv, plan.target_pin)
                    report.copied.append(VersionRef(plan.pin, sv.name))
                    report.bytes += done.bytes
                    report.server_side_files += done.server_side

                await run.guarded(plan.pin, sv.name, work)

    try:
        with anyio.CancelScope() as scope:
            run.scope = scope
            async with anyio.create_task_group() as tg:
                for _ in range(run.concurrency):
                    tg.start_soon(worker)
    finally:
        with anyio.CancelScope(shield=True):
            await copier.aclose()


async def _delete_all(
    target: Board, plans: list[PinPlan], orphans: list[PinPlan], run: _Run
) -> None:
    """Delete after copying (a pin never goes empty mid-way); pins with failures keep all."""
    backend = target.backend

    async def pin_done(plan: PinPlan) -> None:
        if plan.pin in run.failed_pins or not plan.delete:
            return
        for tv in plan.delete:

            async def work(tv: SideVersion = tv) -> None:
                await backend.delete_version(plan.target_pin, tv.id)
                run.report.deleted.append(VersionRef(plan.target_pin, tv.name))

            await run.guarded(plan.target_pin, tv.name, work)

    async def orphan(plan: PinPlan) -> None:
        async def work() -> None:
            await backend.delete_pin(plan.target_pin)
            run.report.deleted += [VersionRef(plan.target_pin, v.name) for v in plan.delete]

        await run.guarded(plan.target_pin, None, work)

    with anyio.CancelScope() as scope:
        run.scope = scope
        async with anyio.create_task_group() as tg:
            for plan in plans:
                tg.start_soon(pin_done, plan)
            for plan in orphans:
                tg.start_soon(orphan, plan)
