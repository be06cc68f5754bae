"""Issue 11: GCS boards on fake-gcs-server, apins beside pins-python (gcsfs), and the
per-request client CPU of apins's JSON API store beside gcloud-aio-storage."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._core import Context, MiB, Row, big_file, median, run_async, scenario, time_rows, timed

GROUP = "GCS (fake-gcs-server)"


@dataclass
class GCSData:
    url: str
    bucket: str
    prefix: str
    big: Path


def _emulator_env(url: str) -> None:
    """What gcsfs (inside pins-python) needs to reach the emulator: STORAGE_EMULATOR_HOST,
    and no experimental zonal-bucket probe (gRPC over TLS, which the emulator lacks)."""
    os.environ["STORAGE_EMULATOR_HOST"] = url
    os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"


def apins_gcs(data: GCSData, cache: Path | bool, prefix: str | None = None) -> Any:
    import apins

    return apins.board_gcs(
        f"{data.bucket}/{prefix or data.prefix}", cache=cache, endpoint_url=data.url
    )


def pins_gcs(data: GCSData, cache: Path | None, prefix: str | None = None) -> Any:
    """A pins-python board on gcsfs with a fresh filesystem instance (no shared listings)."""
    import pins

    _emulator_env(data.url)
    if cache is not None:
        os.environ["PINS_CACHE_DIR"] = str(cache)
    return pins.board(
        "gcs",
        f"{data.bucket}/{prefix or data.prefix}",
        storage_options={"token": "anon", "endpoint_url": data.url, "skip_instance_cache": True},
    )


def gcs_data(ctx: Context) -> GCSData:
    """One bucket: the big file pin ``big`` and a small parquet pin ``small``."""
    if "gcs" in ctx.state:
        data: GCSData = ctx.state["gcs"]
        return data
    server = ctx.servers.fakegcs
    _emulator_env(server.url)
    big = big_file(ctx, ctx.pick(256 * MiB, 16 * MiB))
    data = GCSData(server.url, server.make_bucket("bench"), "board", big)

    async def setup() -> None:
        import pandas as pd

        async with apins_gcs(data, cache=False) as board:
            await board.pin_upload(big, name="big")
            await board.pin_write(pd.DataFrame({"x": range(10)}), "small", type="parquet")

    run_async(setup)
    ctx.state["gcs"] = data
    return data


def _alternate(runs: int, *steps: Any) -> None:
    for i in range(runs):
        for step in steps if i % 2 == 0 else steps[::-1]:
            step()


def _apins_download(ctx: Context, data: GCSData) -> float:
    with ctx.cold_cache("a") as cache:

        async def go() -> tuple[float, str]:
            async with apins_gcs(data, cache) as board:
                t0 = time.perf_counter()
                paths = await board.pin_download("big")
                return time.perf_counter() - t0, paths[0]

        dt, path = run_async(go)
        assert Path(path).stat().st_size == data.big.stat().st_size
        return dt


def _pins_download(ctx: Context, data: GCSData) -> float:
    with ctx.cold_cache("p") as cache:
        board = pins_gcs(data, cache)
        dt, paths = timed(lambda: board.pin_download("big"))
        assert Path(paths[0]).stat().st_size == data.big.stat().st_size
        return dt


@scenario("gcs.download", GROUP)
def cold_download(ctx: Context) -> list[Row]:
    data = gcs_data(ctx)
    a: list[float] = []
    a2: list[float] = []
    p: list[float] = []
    _alternate(
        ctx.runs,
        lambda: a.append(_apins_download(ctx, data)),
        lambda: p.append(_pins_download(ctx, data)),
        lambda: a2.append(_apins_download(ctx, data)),
    )
    size = data.big.stat().st_size
    name = f"cold pin_download {size // MiB} MiB file pin"
    return [
        time_rows(GROUP, name, a, p, size=size, note="apins checks the XXH64; pins-python not"),
        time_rows(GROUP, name + " (A/A: apins against itself)", a, a2, reference="apins",
                  size=size, note="the spread of two identical runs: the noise floor"),
    ]  # fmt: skip


@scenario("gcs.upload", GROUP)
def upload(ctx: Context) -> list[Row]:
    data = gcs_data(ctx)
    a: list[float] = []
    p: list[float] = []
    count = iter(range(10_000))

    def apins_up() -> None:
        async def go() -> float:
            async with apins_gcs(data, cache=False) as board:
                t0 = time.perf_counter()
                await board.pin_upload(data.big, name=f"up-apins-{next(count)}")
                return time.perf_counter() - t0

        a.append(run_async(go))

    def pins_up() -> None:
        board = pins_gcs(data, None)
        p.append(timed(lambda: board.pin_upload(str(data.big), name=f"up-pins-{next(count)}"))[0])

    _alternate(ctx.runs, apins_up, pins_up)
    size = data.big.stat().st_size
    note = "apins: parallel composite upload (parts + compose); gcsfs: one resumable session"
    return [time_rows(GROUP, f"pin_upload {size // MiB} MiB file", a, p, size=size, note=note)]


@scenario("gcs.read", GROUP)
def small_reads(ctx: Context) -> list[Row]:
    data = gcs_data(ctx)
    n = max(ctx.runs, 10)
    cold_a: list[float] = []
    cold_p: list[float] = []

    def apins_cold() -> None:
        with ctx.cold_cache("a") as cache:

            async def go() -> float:
                async with apins_gcs(data, cache) as board:
                    t0 = time.perf_counter()
                    await board.pin_read("small")
                    return time.perf_counter() - t0

            cold_a.append(run_async(go))

    def pins_cold() -> None:
        with ctx.cold_cache("p") as cache:
            board = pins_gcs(data, cache)
            cold_p.append(timed(lambda: board.pin_read("small"))[0])

    _alternate(ctx.runs, apins_cold, pins_cold)

    with ctx.cold_cache("a") as cache:

        async def warm() -> list[float]:
            out = []
            async with apins_gcs(data, cache) as board:
                await board.pin_read("small")
                for _ in range(n):
                    t0 = time.perf_counter()
                    await board.pin_read("small")
                    out.append(time.perf_counter() - t0)
            return out

        warm_a = run_async(warm)
    with ctx.cold_cache("p") as cache:
        board = pins_gcs(data, cache)
        board.pin_read("small")
        warm_p = [timed(lambda: board.pin_read("small"))[0] for _ in range(n)]
    rows = [
        time_rows(GROUP, "cold pin_read of a small parquet pin", cold_a, cold_p),
        time_rows(GROUP, "warm pin_read of a small pin (same board)", warm_a, warm_p),
    ]
    for row in rows:
        row.unit = "ms"
        row.apins = (row.apins or 0) * 1000
        row.ref_value = (row.ref_value or 0) * 1000
    return rows


@scenario("gcs.search", GROUP)
def search(ctx: Context) -> list[Row]:
    data = gcs_data(ctx)
    n = ctx.pick(200, 20)
    prefix = "search"
    if "gcs.search" not in ctx.state:

        async def setup() -> None:
            import anyio

            async with apins_gcs(data, cache=False, prefix=prefix) as board:
                limit = anyio.Semaphore(16)

                async def one(i: int) -> None:
                    async with limit:
                        await board.pin_write({"i": i}, f"pin-{i:03d}", type="json",
                                              title=f"pin number {i}")  # fmt: skip

                async with anyio.create_task_group() as tg:
                    for i in range(n):
                        tg.start_soon(one, i)

        run_async(setup)
        ctx.state["gcs.search"] = True
    a: list[float] = []
    p: list[float] = []

    def apins_search() -> None:
        with ctx.cold_cache("a") as cache:

            async def go() -> float:
                async with apins_gcs(data, cache, prefix) as board:
                    t0 = time.perf_counter()
                    found = await board.pin_search()
                    dt = time.perf_counter() - t0
                assert len(found) == n
                return dt

            a.append(run_async(go))

    def pins_search() -> None:
        with ctx.cold_cache("p") as cache:
            board = pins_gcs(data, cache, prefix)
            dt, df = timed(lambda: board.pin_search())
            assert len(df) == n
            p.append(dt)

    _alternate(ctx.runs, apins_search, pins_search)
    return [time_rows(GROUP, f"pin_search over {n} pins (cold cache)", a, p)]


# -- per-request client CPU: apins's store against gcloud-aio-storage ------------------------


async def _cpu_apins(data: GCSData, name: str, n: int) -> tuple[float, float]:
    from apins.stores.gcs import GCSStore

    store = GCSStore(data.bucket, "", endpoint_url=data.url)
    try:

        async def get() -> None:
            stream = await store.open_read(name)
            async for _ in stream.chunks():
                pass
            await stream.aclose()

        for _ in range(20):  # warm: connections open, modules imported
            await get()
            await store.head(name)
        t0 = time.process_time()
        for _ in range(n):
            await get()
        media = time.process_time() - t0
        t0 = time.process_time()
        for _ in range(n):
            await store.head(name)
        meta = time.process_time() - t0
    finally:
        await store.aclose()
    return media / n, meta / n


async def _cpu_gcloud(data: GCSData, name: str, n: int) -> tuple[float, float]:
    import aiohttp
    from gcloud.aio.storage import Storage

    async with aiohttp.ClientSession() as session:
        storage = Storage(session=session, api_root=data.url)
        for _ in range(20):
            await storage.download(data.bucket, name)
            await storage.download_metadata(data.bucket, name)
        t0 = time.process_time()
        for _ in range(n):
            await storage.download(data.bucket, name)
        media = time.process_time() - t0
        t0 = time.process_time()
        for _ in range(n):
            await storage.download_metadata(data.bucket, name)
        meta = time.process_time() - t0
    return media / n, meta / n


@scenario("gcs.cpu", GROUP)
def request_cpu(ctx: Context) -> list[Row]:
    try:
        import gcloud.aio.storage  # noqa: F401
    except ImportError as e:
        from ._core import unavailable

        return [unavailable(GROUP, "client CPU per request", f"gcloud-aio-storage: {e}")]
    data = gcs_data(ctx)
    name = "cpu-probe.bin"
    ctx.servers.fakegcs.put_object(data.bucket, name, os.urandom(1024))
    n = ctx.pick(500, 100)
    a_media: list[float] = []
    a_meta: list[float] = []
    g_media: list[float] = []
    g_meta: list[float] = []

    def apins_run() -> None:
        m, h = run_async(lambda: _cpu_apins(data, name, n))
        a_media.append(m * 1e6)
        a_meta.append(h * 1e6)

    def gcloud_run() -> None:
        m, h = run_async(lambda: _cpu_gcloud(data, name, n))
        g_media.append(m * 1e6)
        g_meta.append(h * 1e6)

    _alternate(max(2, ctx.runs // 2), apins_run, gcloud_run)
    rows = []
    for what, a, g in (("1 KiB media GET", a_media, g_media),
                       ("metadata GET", a_meta, g_meta)):  # fmt: skip
        row = Row(
            GROUP, f"client CPU per {what} ({n} sequential, process_time)", unit="µs",
            apins=median(a), reference="gcloud-aio-storage", ref_value=median(g),
            ratio=median(g) / median(a), samples={"apins": a, "gcloud-aio-storage": g},
            note="same aiohttp underneath; apins: GCSStore.open_read / head",
        )  # fmt: skip
        rows.append(row.finish())
    return rows
