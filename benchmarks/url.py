"""Issue 4: URL boards served by nginx on loopback (WAN profile: benchmarks/wan.py)."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
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
    run_async,
    scenario,
    time_rows,
    timed,
    unavailable,
)
from ._count import LogWindow, count_requests, requests_row

GROUP = "URL board (nginx)"


@dataclass
class UrlData:
    big: Path
    big_version: str
    small_version: str


def url_data(ctx: Context) -> UrlData:
    """A folder board under nginx's root (``/board/``) with ``big``, ``small`` and _pins.yaml."""
    if "url" in ctx.state:
        data: UrlData = ctx.state["url"]
        return data
    import apins

    from .s3 import _table

    root = ctx.servers.www.root / "board"
    big = big_file(ctx, ctx.pick(256 * MiB, 16 * MiB))

    async def setup() -> UrlData:
        async with apins.board_folder(root) as board:
            mb = await board.pin_upload(big, name="big")
            ms = await board.pin_write(_table(10), "small", type="parquet")
            await board.write_board_manifest()
        return UrlData(big, mb.version, ms.version)

    data = run_async(setup)
    ctx.state["url"] = data
    return data


def _apins_board(base: str, cache: Path | bool, settings: Any = None) -> Any:
    import apins

    return apins.board_url(base + "/board/", cache=cache, settings=settings)


def _pins_board(base: str, data: UrlData) -> Any:
    """pins-python's dict form: pin_download works only on a URL to a single raw file."""
    import pins

    return pins.board_url(
        "",
        {
            "big": f"{base}/board/big/{data.big_version}/{data.big.name}",
            "small": f"{base}/board/small/{data.small_version}/",
        },
    )


def _apins_download(ctx: Context, base: str, data: UrlData, settings: Any = None) -> float:
    with ctx.cold_cache("a") as cache:

        async def go() -> tuple[float, str]:
            async with _apins_board(base, cache, settings) as board:
                t0 = time.perf_counter()
                paths = await board.pin_download("big")
                dt = time.perf_counter() - t0
            return dt, paths[0]

        dt, path = run_async(go)
        assert Path(path).stat().st_size == data.big.stat().st_size
        return dt


def _pins_download(ctx: Context, base: str, data: UrlData) -> float:
    with ctx.cold_cache("p"):
        board = _pins_board(base, data)
        dt, paths = timed(lambda: board.pin_download("big"))
        assert Path(paths[0]).stat().st_size == data.big.stat().st_size
        return dt


def aria2c(ctx: Context, url: str, size: int) -> float:
    """Seconds for ``aria2c -x8`` (8 connections, 1 MiB pieces) to fetch ``url`` to a file."""
    folder = ctx.fresh_dir("aria2c")
    argv = ["aria2c", "-x8", "-s8", "-k1M", "--file-allocation=none", "--quiet=true",
            "--allow-overwrite=true", "--auto-file-renaming=false", "-d", str(folder),
            "-o", "big.bin", url]  # fmt: skip
    try:
        dt, _ = timed(lambda: subprocess.run(argv, check=True))
        assert (folder / "big.bin").stat().st_size == size
        return dt
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _curl(ctx: Context, url: str, size: int) -> float:
    out = ctx.fresh_dir("curl") / "big.bin"
    try:
        dt, _ = timed(lambda: subprocess.run(["curl", "-sSf", "-o", str(out), url], check=True))
        assert out.stat().st_size == size
        return dt
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


def _missing() -> str | None:
    return feature("apins.url")


def _download_rows(ctx: Context, base: str, group: str) -> list[Row]:
    data = url_data(ctx)
    url = f"{base}/board/big/{data.big_version}/{data.big.name}"
    size = data.big.stat().st_size
    t: dict[str, list[float]] = {"a": [], "p": [], "p2": [], "curl": [], "aria": []}
    alternate(
        ctx.runs,
        lambda: t["a"].append(_apins_download(ctx, base, data)),
        lambda: t["p"].append(_pins_download(ctx, base, data)),
        lambda: t["aria"].append(aria2c(ctx, url, size)),
        lambda: t["curl"].append(_curl(ctx, url, size)),
        lambda: t["p2"].append(_pins_download(ctx, base, data)),
    )
    name = f"cold pin_download {size // MiB} MiB pin"
    www = ctx.servers.www
    ra, _ = count_requests(www, base, lambda: _apins_download(ctx, base, data))
    rp, _ = count_requests(www, base, lambda: _pins_download(ctx, base, data))
    return [
        time_rows(group, name, t["a"], t["p"], target=1.0, size=size, note=CHECKS),
        aa_row(group, name, t["p"], t["p2"], size=size),
        time_rows(group, name, t["a"], t["curl"], reference="curl", target=0.9, size=size),
        time_rows(group, name, t["a"], t["aria"], reference="aria2c -x8", size=size),
        requests_row(group, name, ra, rp, note=COUNTED),
    ]  # fmt: skip


CHECKS = (
    "apins reads _pins.yaml and data.txt and checks the file's XXH64 against pin_hash; "
    "pins-python's pin_download needs a dict entry pointing at the raw file"
)


COUNTED = (
    "one more cold download each (a fresh cache folder), counted in nginx's access log; apins "
    "reads the board's _pins.yaml and the version's data.txt (the file's hash), HEADs the "
    "file (its size and ETag) and GETs it; pins-python is given the file's URL and fetches "
    "only the file, with no hash to check"
)


@scenario("url.download", GROUP)
def download(ctx: Context) -> list[Row]:
    why = _missing()
    if why:
        return [unavailable(GROUP, "cold pin_download", why)]
    return _download_rows(ctx, ctx.servers.www.url, GROUP)


@scenario("url.warm", GROUP)
def warm_read(ctx: Context) -> list[Row]:
    why = _missing()
    if why:
        return [unavailable(GROUP, "warm pin_read", why)]
    import anyio.to_thread

    import apins

    data = url_data(ctx)
    www = ctx.servers.www
    n = max(ctx.runs, 10)
    with ctx.cold_cache("a") as cache:

        async def go() -> tuple[list[float], int]:
            out = []
            async with _apins_board(www.url, cache) as board:
                await board.pin_read("small")
                for _ in range(n):
                    t0 = time.perf_counter()
                    await board.pin_read("small")
                    out.append(time.perf_counter() - t0)
                window = LogWindow(www, www.url)
                await board.pin_read("small")
                return out, await anyio.to_thread.run_sync(window.count)

        a, ra = run_async(go)
    with ctx.cold_cache("p"):
        board = _pins_board(www.url, data)
        board.pin_read("small")
        p = [timed(lambda: board.pin_read("small"))[0] for _ in range(n)]
        rp, _ = count_requests(www, www.url, lambda: board.pin_read("small"))
    with ctx.cold_cache("m") as cache:

        async def with_max_age() -> tuple[list[float], int]:
            out = []
            async with apins.board_url(www.url + "/board/", cache=cache, max_age=300) as board:
                await board.pin_read("small")
                for _ in range(n):
                    t0 = time.perf_counter()
                    await board.pin_read("small")
                    out.append(time.perf_counter() - t0)
                window = LogWindow(www, www.url)
                await board.pin_read("small")
                return out, await anyio.to_thread.run_sync(window.count)

        m, rm = run_async(with_max_age)
    row = time_rows(GROUP, "warm pin_read of a small pin (same board)", a, p,
                    note="apins revalidates with a conditional request; pins-python never "
                    "revalidates its URL cache")  # fmt: skip
    row.in_ms()
    req = requests_row(GROUP, "warm pin_read of a small pin", ra, rp, at_most=1,
                       note="counted in nginx's access log")  # fmt: skip
    aged = time_rows(GROUP, "warm pin_read of a small pin, board_url(max_age=300)", m, p,
                     note=f"{rm} request(s) per warm read within max_age")  # fmt: skip
    aged.in_ms()
    return [row, req, aged]
