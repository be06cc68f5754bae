"""One big upload or download of a file pin in a fresh interpreter, with its peak resident
memory above the board's baseline (Linux VmHWM, reset after the board is open).

Reads a JSON spec on stdin (a connection string is a secret: never argv) and prints a JSON
report with ``peak_above_mib``, ``reset`` (whether VmHWM could be reset) and ``seconds``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import apins
from apins.settings import TransferSettings
from benchmarks._rss import reset_peak, status_kib


def _board(spec: dict[str, Any], cache: str) -> apins.Board:
    settings = TransferSettings(**spec["settings"])
    if spec["kind"] == "s3":
        return apins.board_s3(
            spec["path"], cache=cache, endpoint_url=spec["endpoint_url"], region=spec["region"],
            access_key=spec["access_key"], secret_key=spec["secret_key"], settings=settings,
        )  # fmt: skip
    if spec["kind"] == "azure":
        return apins.board_azure(
            spec["path"], cache=cache, connection_string=spec["connection_string"],
            settings=settings,
        )  # fmt: skip
    return apins.board_gcs(
        spec["path"], cache=cache, endpoint_url=spec["endpoint_url"], settings=settings
    )


async def _measure(spec: dict[str, Any]) -> dict[str, Any]:
    op, src = spec["op"], Path(spec["file"])
    async with _board(spec, spec["cache"]) as board:
        await board.pin_exists("big")  # the session and the credentials, before the baseline
        baseline = status_kib("VmRSS")
        reset = reset_peak()
        t0 = time.perf_counter()
        if op == "upload":
            await board.pin_upload(str(src), "big")
        else:
            (path,) = await board.pin_download("big")
            assert Path(path).stat().st_size == src.stat().st_size
        seconds = time.perf_counter() - t0
        peak = status_kib("VmHWM") - baseline
    return {"peak_above_mib": peak / 1024, "reset": reset, "seconds": seconds}


def main() -> None:
    spec = json.loads(sys.stdin.read())
    print(json.dumps(asyncio.run(_measure(spec))), flush=True)


if __name__ == "__main__":
    main()
