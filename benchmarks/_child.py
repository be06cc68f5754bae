"""One measured operation in a fresh process; reads a JSON spec on stdin, prints a JSON report.

Ops: ``import`` (time to import the library), ``s3_upload`` and ``s3_download`` (a file pin
on S3, with the peak RSS above the post-import baseline). Credentials come in the spec
(stdin), never on the command line.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any


def _import(lib: str, with_s3: bool) -> dict[str, Any]:
    """Seconds to import the library (and, with ``with_s3``, what its S3 board loads)."""
    t0 = time.perf_counter()
    if lib == "apins":
        import apins

        if with_s3:
            import aiobotocore.client
            import aiobotocore.session  # noqa: F401

            import apins.stores.s3  # noqa: F401
    else:
        import pins  # noqa: F401

        if with_s3:
            import s3fs  # noqa: F401
    return {"seconds": time.perf_counter() - t0}


def _server(spec: dict[str, Any]) -> Any:
    from tests.servers import S3Server

    return S3Server(
        endpoint_url=spec["endpoint_url"],
        access_key=spec["access_key"],
        secret_key=spec["secret_key"],
    )


def _s3(spec: dict[str, Any]) -> dict[str, Any]:
    from benchmarks._rss import reset_peak, status_kib

    lib, op = spec["lib"], spec["op"]
    server = _server(spec)
    if lib == "apins":
        import asyncio

        import aiobotocore.session  # noqa: F401  (the transport, imported before the baseline)

        from benchmarks._boards import apins_s3

        board = apins_s3(server, spec["bucket"], spec["prefix"], cache=spec["cache"])

        async def work() -> float:
            async with board:
                await board.pin_exists(spec["name"])  # open the client before the baseline
                baseline["kib"] = status_kib("VmRSS")
                baseline["reset"] = reset_peak()
                t0 = time.perf_counter()
                if op == "s3_upload":
                    await board.pin_upload(spec["path"], name=spec["name"])
                else:
                    await board.pin_download(spec["name"])
                return time.perf_counter() - t0

        baseline: dict[str, Any] = {}
        seconds = asyncio.run(work())
    else:
        import s3fs  # noqa: F401

        from benchmarks._boards import pins_s3

        board = pins_s3(server, spec["bucket"], spec["prefix"], cache=spec["cache"])
        board.pin_exists(spec["name"])
        baseline = {"kib": status_kib("VmRSS"), "reset": reset_peak()}
        t0 = time.perf_counter()
        if op == "s3_upload":
            board.pin_upload(spec["path"], name=spec["name"])
        else:
            board.pin_download(spec["name"])
        seconds = time.perf_counter() - t0
    hwm = status_kib("VmHWM")
    return {
        "seconds": seconds,
        "baseline_kib": baseline["kib"],
        "hwm_kib": hwm,
        "peak_above_kib": hwm - baseline["kib"],
        "hwm_reset": baseline["reset"],
        "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def main() -> None:
    spec = json.loads(sys.stdin.read())
    if spec["op"] == "import":
        report = _import(spec["lib"], bool(spec.get("with_s3")))
    else:
        report = _s3(spec)
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
