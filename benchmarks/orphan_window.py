"""Measure the window in which a peer can see a version folder without its data.txt on an
object store (S3, GCS, Azure).

    python -m benchmarks.orphan_window [N] [s3|gcs|azure ...]

Starts the server of each store (SeaweedFS, fake-gcs-server, Azurite; all by default), writes
N versions of a small table (one single-request upload per file) and N versions of a 12 MiB
file (multipart: S3 parts, GCS composite parts, Azure blocks; 5 MiB each), and times, for
each write, the span from the start of the first request that can make a data object
visible (a single-request upload of a data file, or the completion of a multipart upload:
CompleteMultipartUpload, compose, Put Block List) to the end of the data.txt upload. That
span bounds the window: outside it the version's folder holds no visible object or holds
data.txt (parts, staged GCS parts and uncommitted blocks are invisible to pins readers).
The store's methods are timed by wrapping them on the instance (measurement only).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

import apins
from apins.settings import MiB, TransferSettings

SETTINGS = TransferSettings(multipart_threshold=5 * MiB, part_size=5 * MiB)


def _timed(store: Any, spans: list[list[float]]) -> None:
    """Record [first visible-making request start, data.txt end] of each write."""

    def wrap(name: str, starts: bool) -> None:
        inner = getattr(store, name)

        async def timed(key: str, *args: Any, **kwargs: Any) -> Any:
            if starts and not key.endswith("/data.txt") and not spans[-1]:
                spans[-1].append(time.perf_counter())
            result = await inner(key, *args, **kwargs)
            if key.endswith("/data.txt"):
                spans[-1].append(time.perf_counter())
            return result

        setattr(store, name, timed)

    wrap("put_file_single", True)
    wrap("complete_multipart", True)
    wrap("put_bytes", False)


async def measure(n: int, label: str, board: Any) -> None:
    async with board:
        store = board.backend.store
        with tempfile.TemporaryDirectory() as tmp:
            big = Path(tmp) / "big.bin"
            big.write_bytes(os.urandom(12 * MiB))
            for what, write in [
                ("single request (small parquet)", lambda i: board.pin_write(
                    pa.table({"i": list(range(i, i + 1000))}), "small", type="parquet")),
                ("multipart (12 MiB, 3 parts)", lambda i: _upload(board, big, i)),
            ]:  # fmt: skip
                spans: list[list[float]] = []
                _timed(store, spans)
                totals = []
                for i in range(n):
                    spans.append([])
                    t0 = time.perf_counter()
                    await write(i)
                    totals.append(time.perf_counter() - t0)
                windows = [(s[1] - s[0]) * 1000 for s in spans if len(s) == 2]
                windows.sort()
                print(
                    f"{label} {what}: {n} writes; window median "
                    f"{statistics.median(windows):.1f} ms, "
                    f"p95 {windows[int(0.95 * (len(windows) - 1))]:.1f} ms, "
                    f"max {windows[-1]:.1f} ms; whole write median "
                    f"{statistics.median(totals) * 1000:.0f} ms",
                    flush=True,
                )
                store.__dict__.pop("put_file_single", None)
                store.__dict__.pop("complete_multipart", None)
                store.__dict__.pop("put_bytes", None)


async def _upload(board: Any, big: Path, i: int) -> Any:
    with big.open("r+b") as f:
        f.write(i.to_bytes(8, "big"))
    return await board.pin_upload(big, "big")


def _s3(n: int) -> None:
    from tests.servers import start_seaweed

    server = start_seaweed()
    try:
        board = apins.board_s3(
            f"{server.make_bucket()}/window", endpoint_url=server.endpoint_url,
            settings=SETTINGS, cache=False, region=server.region,
            access_key=server.access_key, secret_key=server.secret_key,
        )  # fmt: skip
        asyncio.run(measure(n, "S3 (SeaweedFS)", board))
    finally:
        server.stop()


def _gcs(n: int) -> None:
    from tests.servers import start_fakegcs

    server = start_fakegcs()
    try:
        board = apins.board_gcs(
            f"{server.make_bucket()}/window", endpoint_url=server.url, settings=SETTINGS,
            cache=False,
        )  # fmt: skip
        asyncio.run(measure(n, "GCS (fake-gcs-server)", board))
    finally:
        server.stop()


def _azure(n: int) -> None:
    from tests.servers import start_azurite

    server = start_azurite()
    try:
        board = apins.board_azure(
            f"{server.make_container()}/window", connection_string=server.connection_string,
            settings=SETTINGS, cache=False,
        )  # fmt: skip
        asyncio.run(measure(n, "Azure (Azurite)", board))
    finally:
        server.stop()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    stores = {"s3": _s3, "gcs": _gcs, "azure": _azure}
    for name in sys.argv[2:] or list(stores):
        stores[name](n)


if __name__ == "__main__":
    main()
