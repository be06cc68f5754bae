"""Issue 3: S3 boards on SeaweedFS on loopback (the WAN profile is in benchmarks/wan.py)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

from ._boards import apins_s3, feature, pins_s3
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
from ._proc import tree_cpu

GROUP = "S3 loopback (SeaweedFS)"


@dataclass
class S3Data:
    server: Any
    bucket: str
    prefix: str
    big: Path
    rows: int


def _table(rows: int) -> Any:
    """A pandas DataFrame of ``rows`` rows: ints, floats, a low-cardinality string, times."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(42)
    cats = np.array([f"category-{i:03d}" for i in range(100)])
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype="int64"),
            "x": rng.random(rows),
            "y": rng.integers(0, 1_000_000, rows),
            "cat": cats[rng.integers(0, 100, rows)],
            "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(rows), unit="s"),
        }
    )


def s3_data(ctx: Context) -> S3Data:
    """The shared bucket: the big file pin ``big``, ``table`` (parquet) and ``small``."""
    if "s3" in ctx.state:
        data: S3Data = ctx.state["s3"]
        return data
    server = ctx.servers.seaweed
    bucket = server.make_bucket("bench")
    big = big_file(ctx, ctx.pick(256 * MiB, 16 * MiB))
    rows = ctx.pick(2_000_000, 100_000)
    data = S3Data(server, bucket, "board", big, rows)
    df = _table(rows)

    async def setup() -> None:
        async with apins_s3(server, bucket, data.prefix, cache=False) as board:
            await board.pin_upload(big, name="big")
            await board.pin_write(df, "table", type="parquet")
            await board.pin_write(_table(10), "small", type="parquet")

    run_async(setup)
    ctx.state["s3"] = data
    return data


# -- cold download ---------------------------------------------------------------------------


def _apins_download(ctx: Context, server: Any, data: S3Data, settings: Any = None) -> float:
    with ctx.cold_cache("a") as cache:

        async def go() -> tuple[float, str]:
            async with apins_s3(server, data.bucket, data.prefix, cache, settings) as board:
                t0 = time.perf_counter()
                paths = await board.pin_download("big")
                dt = time.perf_counter() - t0
            return dt, paths[0]

        dt, path = run_async(go)
        assert Path(path).stat().st_size == data.big.stat().st_size
        return dt


def _pins_download(ctx: Context, server: Any, data: S3Data) -> float:
    with ctx.cold_cache("p") as cache:
        board = pins_s3(server, data.bucket, data.prefix, cache)
        dt, paths = timed(lambda: board.pin_download("big"))
        assert Path(paths[0]).stat().st_size == data.big.stat().st_size
        return dt


def _curl_presigned(ctx: Context, data: S3Data) -> float:
    client = data.server.boto3_client()
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": data.bucket, "Key": _big_key(data)}, ExpiresIn=3600
    )
    out = ctx.fresh_dir("curl") / "big.bin"
    try:
        dt, _ = timed(lambda: subprocess.run(["curl", "-sSf", "-o", str(out), url], check=True))
        assert out.stat().st_size == data.big.stat().st_size
        return dt
    finally:
        out.unlink(missing_ok=True)


def _big_key(data: S3Data) -> str:
    client = data.server.boto3_client()
    listing = client.list_objects_v2(Bucket=data.bucket, Prefix=f"{data.prefix}/big/")
    keys = [o["Key"] for o in listing.get("Contents", []) if o["Key"].endswith(data.big.name)]
    return str(keys[0])


def _obstore_download(ctx: Context, data: S3Data, key: str) -> float:
    """obstore (Rust object_store): one GET streamed into a file, as its docs show it."""
    import obstore
    from obstore.store import S3Store

    server = data.server
    store = S3Store(
        data.bucket, endpoint=server.endpoint_url, region=server.region,
        access_key_id=server.access_key, secret_access_key=server.secret_key,
        virtual_hosted_style_request=False, client_options={"allow_http": True},
    )  # fmt: skip
    out = ctx.fresh_dir("obstore") / "big.bin"
    try:
        t0 = time.perf_counter()
        result = obstore.get(store, key)
        with open(out, "wb") as f:
            for chunk in result.stream(min_chunk_size=8 * MiB):
                f.write(chunk)
        dt = time.perf_counter() - t0
        assert out.stat().st_size == data.big.stat().st_size
        return dt
    finally:
        out.unlink(missing_ok=True)


@scenario("s3.download", GROUP)
def cold_download(ctx: Context) -> list[Row]:
    data = s3_data(ctx)
    key = _big_key(data)
    obstore_missing = feature("obstore")
    t: dict[str, list[float]] = {"a": [], "p": [], "p2": [], "c": [], "o": []}
    steps = [
        lambda: t["a"].append(_apins_download(ctx, data.server, data)),
        lambda: t["p"].append(_pins_download(ctx, data.server, data)),
        lambda: t["c"].append(_curl_presigned(ctx, data)),
        lambda: t["p2"].append(_pins_download(ctx, data.server, data)),
    ]
    if not obstore_missing:
        steps.append(lambda: t["o"].append(_obstore_download(ctx, data, key)))
    alternate(ctx.runs, *steps)
    size = data.big.stat().st_size
    name = f"cold pin_download {size // MiB} MiB file pin"
    note = "apins checks the file's XXH64 against pin_hash; curl and pins-python check nothing"
    rows = [
        time_rows(GROUP, name, t["a"], t["p"], target=1.5, size=size, note=note),
        aa_row(GROUP, name, t["p"], t["p2"], size=size),
        time_rows(GROUP, name, t["a"], t["c"], reference="curl (presigned URL)", target=0.9,
                  size=size),
    ]  # fmt: skip
    if obstore_missing:
        rows.append(unavailable(GROUP, name + " beside obstore", obstore_missing))
    else:
        rows.append(time_rows(GROUP, name, t["a"], t["o"], reference="obstore", target=0.8,
                              size=size, note="obstore: get + stream to a file, key given "
                              "(no metadata read), no hash check"))  # fmt: skip
    return rows


# -- parquet ---------------------------------------------------------------------------------


@scenario("s3.parquet", GROUP)
def cold_parquet(ctx: Context) -> list[Row]:
    data = s3_data(ctx)
    server = data.server
    times: dict[str, list[float]] = {"pandas": [], "arrow": [], "pins": [], "pins2": []}

    def apins_read(output: str) -> float:
        with ctx.cold_cache("a") as cache:

            async def go() -> float:
                async with apins_s3(server, data.bucket, data.prefix, cache) as board:
                    t0 = time.perf_counter()
                    x = await board.pin_read("table", output=output)
                    dt = time.perf_counter() - t0
                assert len(x) == data.rows
                return dt

            return run_async(go)

    def pins_read() -> float:
        with ctx.cold_cache("p") as cache:
            board = pins_s3(server, data.bucket, data.prefix, cache)
            dt, df = timed(lambda: board.pin_read("table"))
            assert len(df) == data.rows
            return dt

    alternate(
        ctx.runs,
        lambda: times["pandas"].append(apins_read("pandas")),
        lambda: times["arrow"].append(apins_read("arrow")),
        lambda: times["pins"].append(pins_read()),
        lambda: times["pins2"].append(pins_read()),
    )
    rows = f"{data.rows:,}"
    name = f"cold pin_read parquet, {rows} rows"
    return [
        time_rows(GROUP, f"{name} -> pandas", times["pandas"], times["pins"], target=1.3),
        aa_row(GROUP, f"{name} -> pandas", times["pins"], times["pins2"]),
        time_rows(GROUP, f"{name} -> pyarrow (apins default)", times["arrow"], times["pins"],
                  note="pins-python returns pandas"),
    ]  # fmt: skip


# -- upload ----------------------------------------------------------------------------------


@dataclass
class UploadCost:
    """One upload: seconds, and the CPU seconds the client (this process, all threads) and
    the server (the SeaweedFS process tree) spent meanwhile."""

    seconds: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0


@contextmanager
def upload_window(server_pid: int) -> Iterator[UploadCost]:
    """Time the block, and read both CPU clocks before and after it, into the cost it yields."""
    cost = UploadCost()
    s0, c0, t0 = tree_cpu(server_pid), time.process_time(), time.perf_counter()
    yield cost
    cost.seconds = time.perf_counter() - t0
    cost.client_cpu = time.process_time() - c0
    s1 = tree_cpu(server_pid)
    if s0 is None or s1 is None:
        raise RuntimeError("the SeaweedFS process is gone, or /proc cannot be read")
    cost.server_cpu = s1 - s0


def cpu_rows(group: str, name: str, size: int, a: list[UploadCost],
             p: list[UploadCost]) -> list[Row]:  # fmt: skip
    """Info rows: server and client CPU milliseconds per MB (10^6 bytes) of each upload."""
    mb = size / 1e6
    out = []
    for who, note in (
        ("server", "the SeaweedFS process tree (weed mini), from /proc/<pid>/stat before "
         "and after each upload (10 ms ticks)"),
        ("client", "this process, all threads (time.process_time)"),
    ):  # fmt: skip
        field = f"{who}_cpu"
        row = time_rows(group, f"{name}: {who} CPU per MB",
                        [getattr(c, field) / mb for c in a], [getattr(c, field) / mb for c in p],
                        note=note).in_ms()  # fmt: skip
        row.unit = "CPU ms/MB"
        out.append(row)
    return out


@scenario("s3.upload", GROUP)
def upload(ctx: Context) -> list[Row]:
    data = s3_data(ctx)
    server = data.server
    pid = server._proc.pid
    runs = count()
    a: list[UploadCost] = []
    p: list[UploadCost] = []
    p2: list[UploadCost] = []

    def apins_up() -> UploadCost:
        async def go() -> UploadCost:
            async with apins_s3(server, data.bucket, data.prefix, cache=False) as board:
                with upload_window(pid) as cost:
                    await board.pin_upload(data.big, name=f"up-apins-{next(runs)}")
                return cost

        return run_async(go)

    def pins_up() -> UploadCost:
        board = pins_s3(server, data.bucket, data.prefix, None)
        with upload_window(pid) as cost:
            board.pin_upload(str(data.big), name=f"up-pins-{next(runs)}")
        return cost

    alternate(
        ctx.runs,
        lambda: a.append(apins_up()),
        lambda: p.append(pins_up()),
        lambda: p2.append(pins_up()),
    )
    size = data.big.stat().st_size
    name = f"pin_upload {size // MiB} MiB file"
    secs = [[c.seconds for c in x] for x in (a, p, p2)]
    return [
        time_rows(GROUP, name, secs[0], secs[1], target=1.5, size=size,
                  note="both hash the file first"),
        aa_row(GROUP, name, secs[1], secs[2], size=size),
        *cpu_rows(GROUP, name, size, a, p),
    ]  # fmt: skip


# -- warm read -------------------------------------------------------------------------------


def _warm_apins(server: Any, data: S3Data, cache: Path, n: int) -> list[float]:
    async def go() -> list[float]:
        out = []
        async with apins_s3(server, data.bucket, data.prefix, cache) as board:
            await board.pin_read("small")  # fills the cache
            for _ in range(n):
                t0 = time.perf_counter()
                await board.pin_read("small")
                out.append(time.perf_counter() - t0)
        return out

    return run_async(go)


def _count_apins_warm(ctx: Context, data: S3Data, cache: Path) -> int:
    """Requests of one warm read through the logging proxy (a second read on one board)."""
    import anyio.to_thread

    proxy = ctx.servers.s3_proxy
    via = ctx.servers.s3_via_proxy()

    async def go() -> int:
        async with apins_s3(via, data.bucket, data.prefix, cache) as board:
            await board.pin_read("small")
            window = LogWindow(proxy, via.endpoint_url)
            await board.pin_read("small")
            return await anyio.to_thread.run_sync(window.count)

    return run_async(go)


@scenario("s3.warm", GROUP)
def warm_read(ctx: Context) -> list[Row]:
    data = s3_data(ctx)
    server = data.server
    n = max(ctx.runs, 10)
    with ctx.cold_cache("a") as cache:
        a = _warm_apins(server, data, cache, n)
    with ctx.cold_cache("p") as cache:
        board = pins_s3(server, data.bucket, data.prefix, cache)
        board.pin_read("small")
        p = [timed(lambda: board.pin_read("small"))[0] for _ in range(n)]
    # request counts through the logging proxy: a primed board, then one more read
    with ctx.cold_cache("a") as cache:
        ra = _count_apins_warm(ctx, data, cache)
    with ctx.cold_cache("p") as cache:
        via = ctx.servers.s3_via_proxy()
        board = pins_s3(via, data.bucket, data.prefix, cache)
        board.pin_read("small")
        rp, _ = count_requests(ctx.servers.s3_proxy, via.endpoint_url,
                               lambda: board.pin_read("small"))  # fmt: skip
    time_row = time_rows(GROUP, "warm pin_read of a small pin (same board)", a, p, target=5.0)
    time_row.in_ms()
    req = requests_row(
        GROUP,
        "warm pin_read of a small pin",
        ra,
        rp,
        at_most=1,
        note="counted in the access log of an nginx proxy in front of SeaweedFS",
    )
    return [time_row, req]


# -- search ----------------------------------------------------------------------------------


def _search_board(ctx: Context) -> tuple[S3Data, str, int]:
    data = s3_data(ctx)
    n = ctx.pick(200, 20)
    prefix = "search"
    if "s3.search" not in ctx.state:

        async def setup() -> None:
            import anyio

            async with apins_s3(data.server, data.bucket, prefix, cache=False) as board:
                limit = anyio.Semaphore(16)

                async def one(i: int) -> None:
                    async with limit:
                        await board.pin_write({"i": i}, f"pin-{i:03d}", type="json",
                                              title=f"pin number {i}")  # fmt: skip

                async with anyio.create_task_group() as tg:
                    for i in range(n):
                        tg.start_soon(one, i)

        run_async(setup)
        ctx.state["s3.search"] = True
    return data, prefix, n


@scenario("s3.search", GROUP)
def search(ctx: Context) -> list[Row]:
    data, prefix, n = _search_board(ctx)

    def apins_search(server: Any) -> tuple[float, int]:
        with ctx.cold_cache("a") as cache:

            async def go() -> tuple[float, int]:
                async with apins_s3(server, data.bucket, prefix, cache) as board:
                    t0 = time.perf_counter()
                    found = await board.pin_search()
                    return time.perf_counter() - t0, len(found)

            return run_async(go)

    def pins_search(server: Any) -> tuple[float, int]:
        with ctx.cold_cache("p") as cache:
            board = pins_s3(server, data.bucket, prefix, cache)
            dt, df = timed(lambda: board.pin_search())
            return dt, len(df)

    a: list[float] = []
    p: list[float] = []
    for i in range(ctx.runs):
        steps = [
            lambda: a.append(_checked(apins_search(data.server), n)),
            lambda: p.append(_checked(pins_search(data.server), n)),
        ]
        for step in steps if i % 2 == 0 else steps[::-1]:
            step()
    via = ctx.servers.s3_via_proxy()
    proxy = ctx.servers.s3_proxy
    ra, _ = count_requests(proxy, via.endpoint_url, lambda: apins_search(via))
    rp, _ = count_requests(proxy, via.endpoint_url, lambda: pins_search(via))
    name = f"pin_search over {n} pins (cold cache)"
    return [
        time_rows(GROUP, name, a, p, target=10.0),
        requests_row(GROUP, f"pin_search over {n} pins", ra, rp,
                     note="counted in the nginx proxy's access log; apins sends them "
                     "concurrently"),
    ]  # fmt: skip


def _checked(result: tuple[float, int], n: int) -> float:
    dt, found = result
    if found != n:
        raise AssertionError(f"pin_search found {found} pins, expected {n}")
    return dt
