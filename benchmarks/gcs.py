"""Issue 11: GCS boards on fake-gcs-server, apins beside pins-python (gcsfs), and the
per-request client CPU of apins's JSON API store beside gcloud-aio-storage."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _objstore
from ._core import Context, MiB, Row, big_file, run_async, scenario

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


def gcs_side(ctx: Context) -> _objstore.Side:
    data = gcs_data(ctx)
    return _objstore.Side(
        GROUP,
        lambda cache, prefix: apins_gcs(data, cache, prefix),
        lambda cache, prefix: pins_gcs(data, cache, prefix),
        data.big,
        "gcs",
    )


@scenario("gcs.download", GROUP)
def cold_download(ctx: Context) -> list[Row]:
    return _objstore.cold_download(ctx, gcs_side(ctx))


@scenario("gcs.upload", GROUP)
def upload(ctx: Context) -> list[Row]:
    note = "apins: parallel composite upload (parts + compose); gcsfs: one resumable session"
    return _objstore.upload(ctx, gcs_side(ctx), note)


@scenario("gcs.read", GROUP)
def small_reads(ctx: Context) -> list[Row]:
    return _objstore.small_reads(ctx, gcs_side(ctx))


@scenario("gcs.search", GROUP)
def search(ctx: Context) -> list[Row]:
    return _objstore.search(ctx, gcs_side(ctx))


# -- per-request client CPU: apins's store against gcloud-aio-storage ------------------------


async def _cpu_apins(data: GCSData, name: str, n: int) -> tuple[float, float]:
    from apins.stores.gcs import GCSStore

    store = GCSStore(data.bucket, "", endpoint_url=data.url)

    async def get() -> None:
        stream = await store.open_read(name)
        async for _ in stream.chunks():
            pass
        await stream.aclose()

    try:
        return await _objstore.per_request(n, get, lambda: store.head(name))
    finally:
        await store.aclose()


async def _cpu_gcloud(data: GCSData, name: str, n: int) -> tuple[float, float]:
    import aiohttp
    from gcloud.aio.storage import Storage

    async with aiohttp.ClientSession() as session:
        storage = Storage(session=session, api_root=data.url)
        return await _objstore.per_request(
            n,
            lambda: storage.download(data.bucket, name),
            lambda: storage.download_metadata(data.bucket, name),
        )


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
    return _objstore.request_cpu(
        ctx, GROUP, ctx.pick(500, 100),
        lambda n: _cpu_apins(data, name, n), "gcloud-aio-storage",
        lambda n: _cpu_gcloud(data, name, n),
        ("1 KiB media GET", "metadata GET"),
        "same aiohttp underneath; apins: GCSStore.open_read / head",
    )  # fmt: skip
