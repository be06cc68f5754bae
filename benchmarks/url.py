"""Issue 4: URL boards served by nginx (loopback and 25 MB/s per connection)."""

from __future__ import annotations

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
    big_file,
    median,
    run_async,
    scenario,
    time_rows,
    timed,
    unavailable,
)
from ._count import LogWindow, count_requests

GROUP = "URL board (nginx)"
SLOW = "URL board (nginx, limit_rate 25 MB/s per connection)"


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


def _tool(ctx: Context, base: str, data: UrlData, cmd: str) -> float:
    url = f"{base}/board/big/{data.big_version}/{data.big.name}"
    folder = ctx.fresh_dir(cmd)
    out = folder / "big.bin"
    if cmd == "curl":
        argv = ["curl", "-sSf", "-o", str(out), url]
    else:
        argv = ["aria2c", "-x8", "-s8", "-k1M", "--file-allocation=none", "--quiet=true",
                "--allow-overwrite=true", "--auto-file-renaming=false", "-d", str(folder),
                "-o", "big.bin", url]  # fmt: skip
    try:
        dt, _ = timed(lambda: subprocess.run(argv, check=True))
        assert out.stat().st_size == data.big.stat().st_size
        return dt
    finally:
        out.unlink(missing_ok=True)


def _missing() -> str | None:
    return feature("apins.url")


def _download_rows(ctx: Context, base: str, group: str, slow: bool) -> list[Row]:
    data = url_data(ctx)
    from .s3 import wan_settings

    tuned = wan_settings() if slow else None
    samples: dict[str, list[float]] = {"a": [], "t": [], "p": [], "curl": [], "aria": []}
    for i in range(ctx.runs):
        steps = [
            lambda: samples["a"].append(_apins_download(ctx, base, data)),
            lambda: samples["p"].append(_pins_download(ctx, base, data)),
            lambda: samples["aria"].append(_tool(ctx, base, data, "aria2c")),
        ]
        if slow:
            steps.append(lambda: samples["t"].append(_apins_download(ctx, base, data, tuned)))
        else:  # one connection at 25 MB/s is 25 MB/s by construction: curl only on loopback
            steps.append(lambda: samples["curl"].append(_tool(ctx, base, data, "curl")))
        for step in steps if i % 2 == 0 else steps[::-1]:
            step()
    size = data.big.stat().st_size
    name = f"cold pin_download {size // MiB} MiB pin"
    check = (
        "apins reads _pins.yaml and data.txt and checks the file's XXH64 against pin_hash; "
        "pins-python's pin_download needs a dict entry pointing at the raw file"
    )
    if not slow:
        return [
            time_rows(group, name, samples["a"], samples["p"], target=1.0, size=size, note=check),
            time_rows(group, name, samples["a"], samples["curl"], reference="curl",
                      target=0.9, size=size),
            time_rows(group, name, samples["a"], samples["aria"], reference="aria2c -x8",
                      size=size),
        ]  # fmt: skip
    return [
        time_rows(group, name + ", default TransferSettings", samples["a"], samples["p"],
                  target=4.0, size=size),
        time_rows(group, name + ", default TransferSettings", samples["a"], samples["aria"],
                  reference="aria2c -x8", target=0.8, size=size),
        time_rows(group, name + ", tuned TransferSettings", samples["t"], samples["p"],
                  size=size, note="tuned as in the S3 WAN-like rows"),
        time_rows(group, name + ", tuned TransferSettings", samples["t"], samples["aria"],
                  reference="aria2c -x8", size=size),
    ]  # fmt: skip


@scenario("url.download", GROUP)
def download(ctx: Context) -> list[Row]:
    why = _missing()
    if why:
        return [unavailable(GROUP, "cold pin_download", why)]
    return _download_rows(ctx, ctx.servers.www.url, GROUP, slow=False)


@scenario("url.slow", SLOW)
def slow_download(ctx: Context) -> list[Row]:
    why = _missing()
    if why:
        return [unavailable(SLOW, "cold pin_download", why)]
    return _download_rows(ctx, ctx.servers.www.slow_url, SLOW, slow=True)


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
    ms_a, ms_p, ms_m = ([x * 1000 for x in xs] for xs in (a, p, m))
    row = time_rows(GROUP, "warm pin_read of a small pin (same board)", a, p,
                    note="apins revalidates with a conditional request; pins-python never "
                    "revalidates its URL cache")  # fmt: skip
    row.unit, row.apins, row.ref_value = "ms", median(ms_a), median(ms_p)
    row.samples = {"apins": ms_a, "pins-python": ms_p}
    req = Row(GROUP, "warm pin_read of a small pin: requests", unit="requests", apins=ra,
              ref_value=rp, ratio=rp / ra if ra else None, target_text="apins <= 1",
              met=ra <= 1, note="counted in nginx's access log")  # fmt: skip
    aged = time_rows(GROUP, "warm pin_read of a small pin, board_url(max_age=300)", m, p,
                     note=f"{rm} request(s) per warm read within max_age")  # fmt: skip
    aged.unit, aged.apins, aged.ref_value = "ms", median(ms_m), median(ms_p)
    aged.samples = {"apins": ms_m, "pins-python": ms_p}
    return [row, req, aged]
