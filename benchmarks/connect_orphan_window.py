"""Measure the window in which a killed Connect writer leaves a bundle pins-python reads as latest.

    python -m benchmarks.connect_orphan_window [N]

Starts the Connect emulator on loopback (its own thread and event loop) and writes N versions
of a 5000-row parquet table with apins. A bundle is listed from the moment the server has
stored its upload (its ``created_time``); it is served once the server has started its
deploy (the content URLs then wait for the deploy to finish). Between the two, pins-python,
which takes the highest bundle id as the latest, would read a bundle that serves nothing,
and a writer killed there leaves it behind. The span is timed on the server: the deploy
task's start is recorded by wrapping the emulator's task runner on the instance
(measurement only).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime
from typing import Any

import pyarrow as pa

import apins
from apins.testing.connect import run_in_thread


def _timed(tasks: Any, windows: list[float]) -> None:
    """Append, at each deploy, the seconds since its bundle was stored."""
    start_deploy = tasks.start_deploy

    def timed(user_guid: str, content_guid: str, bundle_id: int) -> Any:
        now = time.time()
        stored = tasks.core.state.bundles[bundle_id].created_time
        windows.append(now - datetime.fromisoformat(stored.replace("Z", "+00:00")).timestamp())
        return start_deploy(user_guid, content_guid, bundle_id)

    tasks.start_deploy = timed


async def write(url: str, n: int) -> list[float]:
    totals = []
    async with apins.board_connect(url, "key-a", cache=False) as board:
        for i in range(n):
            t0 = time.perf_counter()
            table = pa.table({"i": list(range(i, i + 5000))})
            await board.pin_write(table, "window", type="parquet")
            totals.append(time.perf_counter() - t0)
    return totals


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    windows: list[float] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        run_in_thread(root=tmp, users={"alice": "key-a"}) as server,
    ):
        asyncio.run(write(server.url, 1))  # the content item exists: every write is alike
        _timed(server._tasks, windows)
        totals = asyncio.run(write(server.url, n))
    ms = sorted(w * 1000 for w in windows)
    print(
        f"Connect pin_write (5000-row parquet): {n} writes; window median "
        f"{statistics.median(ms):.1f} ms, p95 {ms[int(0.95 * (len(ms) - 1))]:.1f} ms, "
        f"max {ms[-1]:.1f} ms; whole write median {statistics.median(totals) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
