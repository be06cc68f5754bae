"""Profile one apins operation under cProfile: ``python -m benchmarks._profile OP [--size MiB]``.

OPs: ``warm`` (warm pin_read of a small S3 pin), ``search`` (pin_search over 200 pins),
``upload`` and ``download`` (a file pin on S3). A fresh SeaweedFS is started; the setup is
not profiled. Prints wall time, the number of S3 calls by operation, and the top functions
by own time and by cumulative time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._boards import apins_s3  # noqa: E402
from benchmarks._core import MiB, write_random_file  # noqa: E402
from tests.servers import start_seaweed  # noqa: E402


def _count_calls(board: Any, calls: Counter[str]) -> None:
    """Count S3 API calls with a botocore event hook on the board's client."""

    def hook(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    board.backend.store._client.meta.events.register("before-call.s3", hook)


async def _run(op: str, size: int, work: Path) -> None:
    server = start_seaweed()
    try:
        bucket = server.make_bucket("prof")
        big = write_random_file(work / "big.bin", size) if op in ("upload", "download") else None
        async with apins_s3(server, bucket, "b", cache=False) as board:
            if op == "search":
                await asyncio.gather(*(board.pin_write({"i": i}, f"p{i:03d}") for i in range(200)))
            elif op == "warm":
                await board.pin_write({"a": 1}, "small")
            elif op == "download":
                await board.pin_upload(big, name="big")
        async with apins_s3(server, bucket, "b", cache=work / "cache") as board:
            calls: Counter[str] = Counter()
            if op == "warm":
                await board.pin_read("small")
            await board.pin_exists("small")  # opens the client
            _count_calls(board, calls)
            prof = cProfile.Profile()
            t0, c0 = time.perf_counter(), time.process_time()
            prof.enable()
            if op == "warm":
                for _ in range(50):
                    await board.pin_read("small")
            elif op == "search":
                await board.pin_search()
            elif op == "upload":
                await board.pin_upload(big, name="up")
            else:
                await board.pin_download("big")
            prof.disable()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"{op}: {wall:.3f} s wall, {cpu:.3f} s client CPU (all threads, profiler on); "
            f"S3 calls: {dict(calls)}"
        )
        for key in ("tottime", "cumulative"):
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(25)
            print(buf.getvalue())
    finally:
        server.stop()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("op", choices=["warm", "search", "upload", "download"])
    p.add_argument("--size", type=int, default=256, help="file size in MiB (upload/download)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="apins-prof-") as work:
        asyncio.run(_run(args.op, args.size * MiB, Path(work)))


if __name__ == "__main__":
    main()
