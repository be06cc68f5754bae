"""Issue 5: Posit Connect boards against the emulator (its own process), both libraries."""

from __future__ import annotations

import time
from itertools import count
from pathlib import Path
from typing import Any

from ._boards import feature
from ._core import (
    Context,
    MiB,
    Row,
    aa_row,
    alternate,
    big_file,
    first_rounds,
    run_async,
    scenario,
    time_rows,
    timed,
    unavailable,
)

GROUP = "Connect (apins.testing.connect emulator)"
#: runs of the 2nd pins-python series (A/A) of the slow calls, upload (about 11 s a run in
#: the full run) and search (about 7 s), kept to the first rounds
AA_RUNS = 2


def _apins(ctx: Context, cache: Path | bool) -> Any:
    import apins.connect

    c = ctx.servers.connect
    return apins.connect.board_connect(c.url, c.api_key, cache=cache)


def _pins(ctx: Context, cache: Path) -> Any:
    import os

    import pins

    os.environ["PINS_CACHE_DIR"] = str(cache)
    c = ctx.servers.connect
    return pins.board_connect(server_url=c.url, api_key=c.api_key)


def _big(ctx: Context) -> Path:
    return big_file(ctx, ctx.pick(256 * MiB, 16 * MiB))


@scenario("connect.write", GROUP)
def write(ctx: Context) -> list[Row]:
    why = feature("apins.connect")
    if why:
        return [unavailable(GROUP, "pin_upload", why)]
    big = _big(ctx)
    user = ctx.servers.connect.user
    t: dict[str, list[float]] = {"a": [], "p": [], "p2": []}
    runs = count()

    def apins_up() -> float:
        async def go() -> float:
            async with _apins(ctx, False) as board:
                t0 = time.perf_counter()
                await board.pin_upload(big, name=f"{user}/write-apins-{next(runs)}")
                return time.perf_counter() - t0

        return run_async(go)

    def pins_up() -> float:
        with ctx.cold_cache("p") as cache:
            board = _pins(ctx, cache)
            name = f"{user}/write-pins-{next(runs)}"
            return timed(lambda: board.pin_upload(str(big), name=name))[0]

    alternate(ctx.runs, lambda: t["a"].append(apins_up()), lambda: t["p"].append(pins_up()),
              first_rounds(AA_RUNS, lambda: t["p2"].append(pins_up())))  # fmt: skip
    size = big.stat().st_size
    name = f"pin_upload {size // MiB} MiB file pin (bundle + deploy)"
    note = "no target in issue 5; both build a tar.gz bundle"
    return [
        time_rows(GROUP, name, t["a"], t["p"], size=size, note=note),
        aa_row(GROUP, name, t["p"], t["p2"], size=size),
    ]


@scenario("connect.read", GROUP)
def read(ctx: Context) -> list[Row]:
    why = feature("apins.connect")
    if why:
        return [unavailable(GROUP, "cold pin_download", why)]
    big = _big(ctx)
    name = f"{ctx.servers.connect.user}/bigpin"
    if "connect.read" not in ctx.state:

        async def setup() -> None:
            async with _apins(ctx, False) as board:
                await board.pin_upload(big, name=name)

        run_async(setup)
        ctx.state["connect.read"] = True

    def apins_dl() -> float:
        with ctx.cold_cache("a") as cache:

            async def go() -> tuple[float, str]:
                async with _apins(ctx, cache) as board:
                    t0 = time.perf_counter()
                    paths = await board.pin_download(name)
                    dt = time.perf_counter() - t0
                return dt, paths[0]

            dt, path = run_async(go)
            assert Path(path).stat().st_size == big.stat().st_size
            return dt

    def pins_dl() -> float:
        with ctx.cold_cache("p") as cache:
            board = _pins(ctx, cache)
            dt, paths = timed(lambda: board.pin_download(name))
            assert Path(paths[0]).stat().st_size == big.stat().st_size
            return dt

    t: dict[str, list[float]] = {"a": [], "p": [], "p2": []}
    alternate(ctx.runs, lambda: t["a"].append(apins_dl()), lambda: t["p"].append(pins_dl()),
              lambda: t["p2"].append(pins_dl()))  # fmt: skip
    size = big.stat().st_size
    name = f"cold pin_download {size // MiB} MiB file pin"
    return [
        time_rows(GROUP, name, t["a"], t["p"], size=size,
                  note="no target in issue 5; apins checks the hash"),
        aa_row(GROUP, name, t["p"], t["p2"], size=size),
    ]  # fmt: skip


@scenario("connect.search", GROUP)
def search(ctx: Context) -> list[Row]:
    why = feature("apins.connect")
    if why:
        return [unavailable(GROUP, "pin_search", why)]
    n = ctx.pick(200, 20)
    user = ctx.servers.connect.user
    if "connect.search" not in ctx.state:

        async def setup() -> None:
            import anyio

            async with _apins(ctx, False) as board:
                limit = anyio.Semaphore(8)

                async def one(i: int) -> None:
                    async with limit:
                        await board.pin_write({"i": i}, f"{user}/search-{i:03d}", type="json",
                                              title=f"pin number {i}")  # fmt: skip

                async with anyio.create_task_group() as tg:
                    for i in range(n):
                        tg.start_soon(one, i)

        run_async(setup)
        ctx.state["connect.search"] = True

    def apins_cold(verb: str) -> float:
        """One cold-cache apins call of ``verb`` (pin_search or pin_list) on a new board;
        checks that it saw the ``n`` pins."""
        with ctx.cold_cache("a") as cache:

            async def go() -> tuple[float, int]:
                async with _apins(ctx, cache) as board:
                    t0 = time.perf_counter()
                    if verb == "pin_search":
                        seen = len(await board.pin_search("search-"))
                    else:
                        seen = sum("search-" in x for x in await board.pin_list())
                    return time.perf_counter() - t0, seen

            dt, found = run_async(go)
        if found != n:
            raise AssertionError(f"apins {verb} found {found} pins, expected {n}")
        return dt

    def pins_cold(verb: str) -> float:
        """The same call on pins-python."""
        with ctx.cold_cache("p") as cache:
            board = _pins(ctx, cache)
            if verb == "pin_search":
                dt, df = timed(lambda: board.pin_search("search-"))
                found = len(df)
            else:
                dt, names = timed(board.pin_list)
                found = sum("search-" in x for x in names)
        if found != n:
            raise AssertionError(f"pins-python {verb} found {found} pins, expected {n}")
        return dt

    t: dict[str, list[float]] = {k: [] for k in ("a", "p", "p2", "la", "lp", "lp2")}
    alternate(
        ctx.runs,
        lambda: t["a"].append(apins_cold("pin_search")),
        lambda: t["p"].append(pins_cold("pin_search")),
        first_rounds(AA_RUNS, lambda: t["p2"].append(pins_cold("pin_search"))),
        lambda: t["la"].append(apins_cold("pin_list")),
        lambda: t["lp"].append(pins_cold("pin_list")),
        lambda: t["lp2"].append(pins_cold("pin_list")),
    )
    search, listing = f"pin_search over {n} pins (cold cache)", f"pin_list of {n} pins (cold cache)"
    return [
        time_rows(GROUP, search, t["a"], t["p"], note="no target in issue 5"),
        aa_row(GROUP, search, t["p"], t["p2"]),
        time_rows(GROUP, listing, t["la"], t["lp"],
                  note="apins reads each pin's data.txt once (cached) to leave out content "
                       "of the first Python pins package"),
        aa_row(GROUP, listing, t["lp"], t["lp2"]),
    ]  # fmt: skip
