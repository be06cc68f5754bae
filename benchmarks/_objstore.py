"""The scenarios every object-store board is measured by, beside pins-python on its emulator:
cold download (with an A/A row) and upload of the big file, cold and warm small reads,
pin_search, and per-request client CPU against a reference client.

A store module describes its boards with a :class:`Side` and registers thin scenarios that
call these functions (see benchmarks/gcs.py and benchmarks/azure.py).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._core import Context, MiB, Row, alternate, median, run_async, time_rows, timed

#: (cache: a folder, or False; prefix or None for the default) -> an apins Board
ApinsFactory = Callable[[Path | bool, str | None], Any]
#: (cache folder or None, prefix or None) -> a pins-python board
PinsFactory = Callable[[Path | None, str | None], Any]


@dataclass
class Side:
    """One store's boards: ``big`` is already pinned as ``big``, a small parquet as ``small``."""

    group: str
    apins: ApinsFactory
    pins: PinsFactory
    big: Path
    #: ctx.state key prefix, so two stores' setups never mix
    tag: str


def _apins_download(ctx: Context, side: Side) -> float:
    with ctx.cold_cache("a") as cache:

        async def go() -> tuple[float, str]:
            async with side.apins(cache, None) as board:
                t0 = time.perf_counter()
                paths = await board.pin_download("big")
                return time.perf_counter() - t0, paths[0]

        dt, path = run_async(go)
        assert Path(path).stat().st_size == side.big.stat().st_size
        return dt


def _pins_download(ctx: Context, side: Side) -> float:
    with ctx.cold_cache("p") as cache:
        board = side.pins(cache, None)
        dt, paths = timed(lambda: board.pin_download("big"))
        assert Path(paths[0]).stat().st_size == side.big.stat().st_size
        return dt


def cold_download(ctx: Context, side: Side) -> list[Row]:
    a: list[float] = []
    a2: list[float] = []
    p: list[float] = []
    alternate(
        ctx.runs,
        lambda: a.append(_apins_download(ctx, side)),
        lambda: p.append(_pins_download(ctx, side)),
        lambda: a2.append(_apins_download(ctx, side)),
    )
    size = side.big.stat().st_size
    name = f"cold pin_download {size // MiB} MiB file pin"
    return [
        time_rows(side.group, name, a, p, size=size,
                  note="apins checks the XXH64; pins-python not"),
        time_rows(side.group, name + " (A/A: apins against itself)", a, a2,
                  reference="apins (2nd series)",
                  size=size, note="the spread of two identical runs: the noise floor"),
    ]  # fmt: skip


def upload(ctx: Context, side: Side, note: str) -> list[Row]:
    a: list[float] = []
    p: list[float] = []
    count = iter(range(10_000))

    def apins_up() -> None:
        async def go() -> float:
            async with side.apins(False, None) as board:
                t0 = time.perf_counter()
                await board.pin_upload(side.big, name=f"up-apins-{next(count)}")
                return time.perf_counter() - t0

        a.append(run_async(go))

    def pins_up() -> None:
        board = side.pins(None, None)
        p.append(timed(lambda: board.pin_upload(str(side.big), name=f"up-pins-{next(count)}"))[0])

    alternate(ctx.runs, apins_up, pins_up)
    size = side.big.stat().st_size
    return [time_rows(side.group, f"pin_upload {size // MiB} MiB file", a, p, size=size, note=note)]


def small_reads(ctx: Context, side: Side) -> list[Row]:
    n = max(ctx.runs, 10)
    cold_a: list[float] = []
    cold_p: list[float] = []

    def apins_cold() -> None:
        with ctx.cold_cache("a") as cache:

            async def go() -> float:
                async with side.apins(cache, None) as board:
                    t0 = time.perf_counter()
                    await board.pin_read("small")
                    return time.perf_counter() - t0

            cold_a.append(run_async(go))

    def pins_cold() -> None:
        with ctx.cold_cache("p") as cache:
            board = side.pins(cache, None)
            cold_p.append(timed(lambda: board.pin_read("small"))[0])

    alternate(ctx.runs, apins_cold, pins_cold)

    with ctx.cold_cache("a") as cache:

        async def warm() -> list[float]:
            out = []
            async with side.apins(cache, None) as board:
                await board.pin_read("small")
                for _ in range(n):
                    t0 = time.perf_counter()
                    await board.pin_read("small")
                    out.append(time.perf_counter() - t0)
            return out

        warm_a = run_async(warm)
    with ctx.cold_cache("p") as cache:
        board = side.pins(cache, None)
        board.pin_read("small")
        warm_p = [timed(lambda: board.pin_read("small"))[0] for _ in range(n)]
    rows = [
        time_rows(side.group, "cold pin_read of a small parquet pin", cold_a, cold_p),
        time_rows(side.group, "warm pin_read of a small pin (same board)", warm_a, warm_p),
    ]
    return [row.in_ms() for row in rows]


def search(ctx: Context, side: Side) -> list[Row]:
    n = ctx.pick(200, 20)
    prefix = "search"
    if f"{side.tag}.search" not in ctx.state:

        async def setup() -> None:
            import anyio

            async with side.apins(False, prefix) as board:
                limit = anyio.Semaphore(16)

                async def one(i: int) -> None:
                    async with limit:
                        await board.pin_write({"i": i}, f"pin-{i:03d}", type="json",
                                              title=f"pin number {i}")  # fmt: skip

                async with anyio.create_task_group() as tg:
                    for i in range(n):
                        tg.start_soon(one, i)

        run_async(setup)
        ctx.state[f"{side.tag}.search"] = True
    a: list[float] = []
    p: list[float] = []

    def apins_search() -> None:
        with ctx.cold_cache("a") as cache:

            async def go() -> float:
                async with side.apins(cache, prefix) as board:
                    t0 = time.perf_counter()
                    found = await board.pin_search()
                    dt = time.perf_counter() - t0
                assert len(found) == n
                return dt

            a.append(run_async(go))

    def pins_search() -> None:
        with ctx.cold_cache("p") as cache:
            board = side.pins(cache, prefix)
            dt, df = timed(lambda: board.pin_search())
            assert len(df) == n
            p.append(dt)

    alternate(ctx.runs, apins_search, pins_search)
    return [time_rows(side.group, f"pin_search over {n} pins (cold cache)", a, p)]


# -- per-request client CPU --------------------------------------------------------------------

#: n -> (CPU seconds per body GET, per metadata request)
CpuProbe = Callable[[int], Awaitable[tuple[float, float]]]


async def per_request(
    n: int, get: Callable[[], Awaitable[Any]], meta: Callable[[], Awaitable[Any]]
) -> tuple[float, float]:
    """Process CPU seconds per ``get()`` and per ``meta()``, after 20 warm-up rounds."""
    for _ in range(20):  # connections open, modules imported, tokens cached
        await get()
        await meta()
    t0 = time.process_time()
    for _ in range(n):
        await get()
    gets = time.process_time() - t0
    t0 = time.process_time()
    for _ in range(n):
        await meta()
    metas = time.process_time() - t0
    return gets / n, metas / n


def request_cpu(
    ctx: Context,
    group: str,
    n: int,
    ours: CpuProbe,
    reference: str,
    theirs: CpuProbe,
    what: tuple[str, str],
    note: str,
) -> list[Row]:
    """Rows of client CPU per request (µs), apins beside ``reference``, alternating runs."""
    a: tuple[list[float], list[float]] = ([], [])
    r: tuple[list[float], list[float]] = ([], [])

    def run(probe: CpuProbe, into: tuple[list[float], list[float]]) -> None:
        g, m = run_async(lambda: probe(n))
        into[0].append(g * 1e6)
        into[1].append(m * 1e6)

    # per-request CPU swings by ±40 % between rounds on a shared machine: many short rounds
    alternate(max(8, ctx.runs), lambda: run(ours, a), lambda: run(theirs, r))
    rows = []
    for i, label in enumerate(what):
        row = Row(
            group, f"client CPU per {label} ({n} sequential, process_time)", unit="µs",
            apins=median(a[i]), reference=reference, ref_value=median(r[i]),
            ratio=median(r[i]) / median(a[i]), samples={"apins": a[i], reference: r[i]},
            note=note,
        )  # fmt: skip
        rows.append(row.finish())
    return rows
