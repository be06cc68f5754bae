"""Issue 11: Azure boards on Azurite, apins beside pins-python (adlfs), and the per-request
client CPU of apins's signed-REST store beside the official azure-storage-blob aio client."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from . import _objstore
from ._core import Context, MiB, Row, big_file, run_async, scenario

GROUP = "Azure (Azurite)"


def az_side(ctx: Context) -> _objstore.Side:
    """One container: the big file pin ``big`` and a small parquet pin ``small``."""
    if "azure" in ctx.state:
        side: _objstore.Side = ctx.state["azure"]
        return side
    server = ctx.servers.azurite
    conn = server.connection_string
    container = server.make_container("bench")

    def apins_az(cache: Path | bool, prefix: str | None) -> Any:
        import apins

        path = f"{container}/{prefix or 'board'}"
        return apins.board_azure(path, cache=cache, connection_string=conn)

    def pins_az(cache: Path | None, prefix: str | None) -> Any:
        """pins-python on adlfs, a fresh filesystem instance each time (no shared listings)."""
        import pins

        if cache is not None:
            os.environ["PINS_CACHE_DIR"] = str(cache)
        options = {"connection_string": conn, "skip_instance_cache": True}
        return pins.board("abfs", f"{container}/{prefix or 'board'}", storage_options=options)

    big = big_file(ctx, ctx.pick(256 * MiB, 16 * MiB))
    side = _objstore.Side(GROUP, apins_az, pins_az, big, "azure")

    async def setup() -> None:
        import pandas as pd

        async with apins_az(False, None) as board:
            await board.pin_upload(big, name="big")
            await board.pin_write(pd.DataFrame({"x": range(10)}), "small", type="parquet")

    run_async(setup)
    ctx.state["azure"] = side
    ctx.state["azure.container"] = container
    return side


@scenario("azure.download", GROUP)
def cold_download(ctx: Context) -> list[Row]:
    return _objstore.cold_download(ctx, az_side(ctx))


@scenario("azure.upload", GROUP)
def upload(ctx: Context) -> list[Row]:
    note = "apins: parallel Put Block from disk + Put Block List; adlfs: its own block upload"
    return _objstore.upload(ctx, az_side(ctx), note)


@scenario("azure.read", GROUP)
def small_reads(ctx: Context) -> list[Row]:
    return _objstore.small_reads(ctx, az_side(ctx))


@scenario("azure.search", GROUP)
def search(ctx: Context) -> list[Row]:
    return _objstore.search(ctx, az_side(ctx))


@scenario("azure.cpu", GROUP)
def request_cpu(ctx: Context) -> list[Row]:
    """Signed requests on apins's session against the azure-storage-blob aio client."""
    try:
        from azure.storage.blob.aio import BlobServiceClient
    except ImportError as e:
        from ._core import unavailable

        return [unavailable(GROUP, "client CPU per request", f"azure-storage-blob: {e}")]
    az_side(ctx)
    server, container, name = ctx.servers.azurite, ctx.state["azure.container"], "cpu-probe.bin"
    server.service().get_blob_client(container, name).upload_blob(os.urandom(1024), overwrite=True)

    async def ours(n: int) -> tuple[float, float]:
        from apins.stores._azure_auth import from_connection_string
        from apins.stores.azure import AzureStore

        store = AzureStore(from_connection_string(server.connection_string), container, "")

        async def get() -> None:
            stream = await store.open_read(name)
            async for _ in stream.chunks():
                pass
            await stream.aclose()

        try:
            return await _objstore.per_request(n, get, lambda: store.head(name))
        finally:
            await store.aclose()

    async def theirs(n: int) -> tuple[float, float]:
        async with BlobServiceClient.from_connection_string(server.connection_string) as svc:
            blob = svc.get_blob_client(container, name)

            async def get() -> None:
                await (await blob.download_blob()).readall()

            return await _objstore.per_request(n, get, blob.get_blob_properties)

    note = "both on aiohttp; apins: AzureStore.open_read / head (Shared Key signed)"
    return _objstore.request_cpu(
        ctx, GROUP, ctx.pick(500, 100), ours, "azure-storage-blob", theirs,
        ("1 KiB GET", "HEAD"), note,
    )  # fmt: skip
