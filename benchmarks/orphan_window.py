"""Measure the window in which a peer can see a version folder without its data.txt on S3.

    python -m benchmarks.orphan_window [N]

Starts a SeaweedFS server, writes N versions of a small table (single PutObject per file)
and N versions of a 12 MiB file (multipart, 5 MiB parts), and times, for each write, the
span from the start of the first request that can make a data object visible (a PutObject
of a data file, or a CompleteMultipartUpload) to the end of the data.txt PutObject. That
span bounds the window: outside it the version's folder holds no visible object or holds
data.txt. The store's methods are timed by wrapping them on the instance (measurement only).
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


async def measure(n: int, endpoint: str, creds: dict[str, str], bucket: str) -> None:
    async with apins.board_s3(
        f"{bucket}/window", endpoint_url=endpoint, settings=SETTINGS, cache=False, **creds
    ) as board:
        store = board.backend.store  # type: ignore[attr-defined]
        with tempfile.TemporaryDirectory() as tmp:
            big = Path(tmp) / "big.bin"
            big.write_bytes(os.urandom(12 * MiB))
            for label, write in [
                ("single PutObject (small parquet)", lambda i: board.pin_write(
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
                    f"{label}: {n} writes; window median {statistics.median(windows):.1f} ms, "
                    f"p95 {windows[int(0.95 * (len(windows) - 1))]:.1f} ms, "
                    f"max {windows[-1]:.1f} ms; whole write median "
                    f"{statistics.median(totals) * 1000:.0f} ms"
                )
                store.__dict__.pop("put_file_single", None)
                store.__dict__.pop("complete_multipart", None)
                store.__dict__.pop("put_bytes", None)


async def _upload(board: Any, big: Path, i: int) -> Any:
    with big.open("r+b") as f:
        f.write(i.to_bytes(8, "big"))
    return await board.pin_upload(big, "big")


def main() -> None:
    from tests.servers import start_seaweed

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    server = start_seaweed()
    try:
        creds = {
            "region": server.region,
            "access_key": server.access_key,
            "secret_key": server.secret_key,
        }
        asyncio.run(measure(n, server.endpoint_url, creds, server.make_bucket()))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
