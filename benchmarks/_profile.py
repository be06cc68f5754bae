"""Profile one apins operation under cProfile: ``python -m benchmarks._profile OP [--size MiB]``.

OPs: ``warm`` (warm pin_read of a small S3 pin), ``search`` (pin_search over 200 pins),
``upload`` and ``download`` (a file pin on S3). A fresh SeaweedFS is started; the setup is
not profiled. Prints wall time, the number of S3 requests by operation, and the top functions
by own time and by cumulative time.

Requests are counted where they are sent: calls through botocore (writes, deletes) by an
event hook, and the GETs apins sends itself on aiohttp (presigned GetObject and
ListObjectsV2) from the ``apins.http`` request log, which is on at DEBUG for the profiled
board (its tracing adds about 80 µs of CPU per aiohttp request to the profile).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._boards import apins_s3  # noqa: E402
from benchmarks._core import MiB, write_random_file  # noqa: E402
from tests.servers import start_seaweed  # noqa: E402


async def _count_botocore(board: Any, calls: Counter[str]) -> None:
    """Count S3 API calls sent through botocore with an event hook on the board's client."""

    def hook(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    client = await board.backend.store._get_client()
    client.meta.events.register("before-call.s3", hook)


def s3_operation(line: str) -> str:
    """The S3 operation of one ``apins.http`` request line (``GET url -> 200, ...``)."""
    method, _, rest = line.partition(" ")
    query = parse_qs(urlsplit(rest.split(" -> ", 1)[0]).query)
    if method == "GET":
        return "ListObjectsV2" if query.get("list-type") == ["2"] else "GetObject"
    return f"{method} (aiohttp)"


class _RequestCounter(logging.Handler):
    """Counts the aiohttp requests ``apins.http`` logs, by S3 operation."""

    def __init__(self, calls: Counter[str]) -> None:
        super().__init__(logging.DEBUG)
        self.calls = calls

    def emit(self, record: logging.LogRecord) -> None:
        self.calls[s3_operation(record.getMessage())] += 1


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
        calls: Counter[str] = Counter()
        counting = Counter[str]()  # requests before profiling are dropped below
        http_log = logging.getLogger("apins.http")
        handler = _RequestCounter(counting)
        http_log.addHandler(handler)
        http_log.setLevel(logging.DEBUG)  # before the board's aiohttp session opens
        try:
            await _profiled(op, server, bucket, work, big, calls, counting)
        finally:
            http_log.removeHandler(handler)
            http_log.setLevel(logging.NOTSET)
    finally:
        server.stop()


async def _profiled(
    op: str,
    server: Any,
    bucket: str,
    work: Path,
    big: Path | None,
    calls: Counter[str],
    counting: Counter[str],
) -> None:
    async with apins_s3(server, bucket, "b", cache=work / "cache") as board:
        if op == "warm":
            await board.pin_read("small")
        await board.pin_exists("small")  # opens the clients
        await _count_botocore(board, calls)
        counting.clear()
        prof = cProfile.Profile()
        t0, c0 = time.perf_counter(), time.process_time()
        prof.enable()
        if op == "warm":
            for _ in range(50):
                await board.pin_read("small")
        elif op == "search":
            await board.pin_search()
        elif op == "upload":
            assert big is not None
            await board.pin_upload(big, name="up")
        else:
            await board.pin_download("big")
        prof.disable()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    calls.update(counting)
    print(
        f"{op}: {wall:.3f} s wall, {cpu:.3f} s client CPU (all threads, profiler on); "
        f"S3 requests: {dict(sorted(calls.items())) or 'none'}"
    )
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(25)
        print(buf.getvalue())


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("op", choices=["warm", "search", "upload", "download"])
    p.add_argument("--size", type=int, default=256, help="file size in MiB (upload/download)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="apins-prof-") as work:
        asyncio.run(_run(args.op, args.size * MiB, Path(work)))


if __name__ == "__main__":
    main()
