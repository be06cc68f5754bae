"""Issue 11: Azure boards on Azurite, apins beside pins-python (adlfs), and the per-request
client CPU of apins's signed-REST store beside the official azure-storage-blob aio client."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._core import Context, MiB, Row, big_file, median, run_async, scenario, time_rows, timed
from .gcs import _alternate

GROUP = "Azure (Azurite)"


@dataclass
class AzureData:
    connection_string: str
    container: str
    prefix: str
    big: Path


def apins_az(data: AzureData, cache: Path | bool, prefix: str | None = None) -> Any:
    import apins

    return apins.board_azure(
        f"{data.container}/{prefix or data.prefix}",
        cache=cache,
        connection_string=data.connection_string,
    )


def pins_az(data: AzureData, cache: Path | None, prefix: str | None = None) -> Any:
    """A pins-python board on adlfs with a fresh filesystem instance (no shared listings)."""
    import pins

    if cache is not None:
        os.environ["PINS_CACHE_DIR"] = str(cache)
    return pins.board(
        "abfs",
        f"{data.container}/{prefix or data.prefix}",
        storage_options={
            "connection_string": data.connection_string,
            "skip_instance_cache": True,
        },
    )


def az_data(ctx: Context) -> AzureData:
    """One container: the big file pin ``big`` and a small parquet pin ``small``."""
    if "azure" in ctx.state:
        data: AzureData = ctx.state["azure"]
        return data
    server = ctx.servers.azurite
    big = big_file(ctx, ctx.pick(256 * MiB, 16 * MiB))
    data = AzureData(server.connection_string, server.make_container("bench"), "board", big)

    async def setup() -> None:
        import pandas as pd

        async with apins_az(data, cache=False) as board:
            await board.pin_upload(big, name="big")
            await board.pin_write(pd.DataFrame({"x": range(10)}), "small", type="parquet")

    run_async(setup)
    ctx.state["azure"] = data
    return data


def _apins_download(ctx: Context, data: AzureData) -> float:
    with ctx.cold_cache("a") as cache:

        async def go() -> tuple[float, str]:
            async with apins_az(data, cache) as board:
                t0 = time.perf_counter()
                paths = await board.pin_download("big")
                return time.perf_counter() - t0, paths[0]

        dt, path = run_async(go)
        assert Path(path).stat().st_size == data.big.stat().st_size
        return dt


def _pins_download(ctx: Context, data: AzureData) -> float:
    with ctx.cold_cache("p") as cache:
        board = pins_az(data, cache)
        dt, paths = timed(lambda: board.pin_download("big"))
        assert Path(paths[0]).stat().st_size == data.big.stat().st_size
        return dt


@scenario("azure.download", GROUP)
def cold_download(ctx: Context) -> list[Row]:
    data = az_data(ctx)
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


@scenario("azure.upload", GROUP)
def upload(ctx: Context) -> list[Row]:
    data = az_data(ctx)
    a: list[float] = []
    p: list[float] = []
    count = iter(range(10_000))

    def apins_up() -> None:
        async def go() -> float:
            async with apins_az(data, cache=False) as board:
                t0 = time.perf_counter()
                await board.pin_upload(data.big, name=f"up-apins-{next(count)}")
                return time.perf_counter() - t0

        a.append(run_async(go))

    def pins_up() -> None:
        board = pins_az(data, None)
        p.append(timed(lambda: board.pin_upload(str(data.big), name=f"up-pins-{next(count)}"))[0])

    _alternate(ctx.runs, apins_up, pins_up)
    size = data.big.stat().st_size
    note = "apins: parallel Put Block from disk + Put Block List; adlfs: its own block upload"
    return [time_rows(GROUP, f"pin_upload {size // MiB} MiB file", a, p, size=size, note=note)]


def _ms(rows: list[Row]) -> list[Row]:
    for row in rows:
        row.unit = "ms"
        row.apins = (row.apins or 0) * 1000
        row.ref_value = (row.ref_value or 0) * 1000
    return rows


@scenario("azure.read", GROUP)
def small_reads(ctx: Context) -> list[Row]:
    data = az_data(ctx)
    n = max(ctx.runs, 10)
    cold_a: list[float] = []
    cold_p: list[float] = []

    def apins_cold() -> None:
        with ctx.cold_cache("a") as cache:

            async def go() -> float:
                async with apins_az(data, cache) as board:
                    t0 = time.perf_counter()
                    await board.pin_read("small")
                    return time.perf_counter() - t0

            cold_a.append(run_async(go))

    def pins_cold() -> None:
        with ctx.cold_cache("p") as cache:
            board = pins_az(data, cache)
            cold_p.append(timed(lambda: board.pin_read("small"))[0])

    _alternate(ctx.runs, apins_cold, pins_cold)

    with ctx.cold_cache("a") as cache:

        async def warm() -> list[float]:
            out = []
            async with apins_az(data, cache) as board:
                await board.pin_read("small")
                for _ in range(n):
                    t0 = time.perf_counter()
                    await board.pin_read("small")
                    out.append(time.perf_counter() - t0)
            return out

        warm_a = run_async(warm)
    with ctx.cold_cache("p") as cache:
        board = pins_az(data, cache)
        board.pin_read("small")
        warm_p = [timed(lambda: board.pin_read("small"))[0] for _ in range(n)]
    return _ms(
        [
            time_rows(GROUP, "cold pin_read of a small parquet pin", cold_a, cold_p),
            time_rows(GROUP, "warm pin_read of a small pin (same board)", warm_a, warm_p),
        ]
    )


@scenario("azure.search", GROUP)
def search(ctx: Context) -> list[Row]:
    data = az_data(ctx)
    n = ctx.pick(200, 20)
    prefix = "search"
    if "azure.search" not in ctx.state:

        async def setup() -> None:
            import anyio

            async with apins_az(data, cache=False, prefix=prefix) as board:
                limit = anyio.Semaphore(16)

                async def one(i: int) -> None:
                    async with limit:
                        await board.pin_write({"i": i}, f"pin-{i:03d}", type="json",
                                              title=f"pin number {i}")  # fmt: skip

                async with anyio.create_task_group() as tg:
                    for i in range(n):
                        tg.start_soon(one, i)

        run_async(setup)
        ctx.state["azure.search"] = True
    a: list[float] = []
    p: list[float] = []

    def apins_search() -> None:
        with ctx.cold_cache("a") as cache:

            async def go() -> float:
                async with apins_az(data, cache, prefix) as board:
                    t0 = time.perf_counter()
                    found = await board.pin_search()
                    dt = time.perf_counter() - t0
                assert len(found) == n
                return dt

            a.append(run_async(go))

    def pins_search() -> None:
        with ctx.cold_cache("p") as cache:
            board = pins_az(data, cache, prefix)
            dt, df = timed(lambda: board.pin_search())
            assert len(df) == n
            p.append(dt)

    _alternate(ctx.runs, apins_search, pins_search)
    return [time_rows(GROUP, f"pin_search over {n} pins (cold cache)", a, p)]


# -- per-request client CPU: signed requests on apins's session against azure-storage-blob ----


async def _per_request(
    n: int, get: Callable[[], Any], head: Callable[[], Any]
) -> tuple[float, float]:
    """Process CPU seconds per GET and per HEAD, after 20 warm-up rounds."""
    for _ in range(20):  # connections open, modules imported, tokens cached
        await get()
        await head()
    t0 = time.process_time()
    for _ in range(n):
        await get()
    gets = time.process_time() - t0
    t0 = time.process_time()
    for _ in range(n):
        await head()
    heads = time.process_time() - t0
    return gets / n, heads / n


async def _cpu_apins(data: AzureData, name: str, n: int) -> tuple[float, float]:
    from apins.stores._azure_auth import from_connection_string
    from apins.stores.azure import AzureStore

    store = AzureStore(from_connection_string(data.connection_string), data.container, "")

    async def get() -> None:
        stream = await store.open_read(name)
        async for _ in stream.chunks():
            pass
        await stream.aclose()

    try:
        return await _per_request(n, get, lambda: store.head(name))
    finally:
        await store.aclose()


async def _cpu_sdk(data: AzureData, name: str, n: int) -> tuple[float, float]:
    from azure.storage.blob.aio import BlobServiceClient

    async with BlobServiceClient.from_connection_string(data.connection_string) as service:
        blob = service.get_blob_client(data.container, name)

        async def get() -> None:
            downloader = await blob.download_blob()
            await downloader.readall()

        return await _per_request(n, get, blob.get_blob_properties)


@scenario("azure.cpu", GROUP)
def request_cpu(ctx: Context) -> list[Row]:
    try:
        import azure.storage.blob.aio  # noqa: F401
    except ImportError as e:
        from ._core import unavailable

        return [unavailable(GROUP, "client CPU per request", f"azure-storage-blob: {e}")]
    data = az_data(ctx)
    name = "cpu-probe.bin"
    ctx.servers.azurite.service().get_blob_client(data.container, name).upload_blob(
        os.urandom(1024), overwrite=True
    )
    n = ctx.pick(500, 100)
    a_get: list[float] = []
    a_head: list[float] = []
    s_get: list[float] = []
    s_head: list[float] = []

    def apins_run() -> None:
        g, h = run_async(lambda: _cpu_apins(data, name, n))
        a_get.append(g * 1e6)
        a_head.append(h * 1e6)

    def sdk_run() -> None:
        g, h = run_async(lambda: _cpu_sdk(data, name, n))
        s_get.append(g * 1e6)
        s_head.append(h * 1e6)

    _alternate(max(2, ctx.runs // 2), apins_run, sdk_run)
    rows = []
    for what, a, s in (("1 KiB GET", a_get, s_get), ("HEAD", a_head, s_head)):
        row = Row(
            GROUP, f"client CPU per {what} ({n} sequential, process_time)", unit="µs",
            apins=median(a), reference="azure-storage-blob", ref_value=median(s),
            ratio=median(s) / median(a), samples={"apins": a, "azure-storage-blob": s},
            note="both on aiohttp; apins: AzureStore.open_read / head (Shared Key signed)",
        )  # fmt: skip
        rows.append(row.finish())
    return rows
