"""examples/pin_service.py written on pins-python, for the load benchmark.

pins-python is blocking, so its calls run in a thread pool (``run_in_executor``); new
versions are found by polling ``pin_versions`` in that pool. Same routes and answers.

Run: python benchmarks/_pins_service.py s3://BUCKET/PREFIX PIN --endpoint-url URL --port 0
(credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from aiohttp import web

STATE: web.AppKey[dict[str, Any]] = web.AppKey("state", dict)
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Snapshot:
    version: str
    table: pa.Table


def snapshot(request: web.Request) -> Snapshot:
    snap: Snapshot | None = request.app[STATE]["snapshot"]
    if snap is None:
        raise web.HTTPServiceUnavailable(text="no version loaded yet")
    return snap


async def in_pool(request: web.Request, fn: Any, *args: Any) -> Any:
    state = request.app[STATE]
    return await asyncio.get_running_loop().run_in_executor(state["pool"], fn, *args)


async def get_version(request: web.Request) -> web.Response:
    snap = snapshot(request)
    return web.json_response({"version": snap.version, "rows": snap.table.num_rows})


async def get_rows(request: web.Request) -> web.Response:
    snap = snapshot(request)
    try:
        offset = int(request.query.get("offset", "0"))
        limit = int(request.query.get("limit", "100"))
    except ValueError:
        raise web.HTTPBadRequest(text="offset and limit must be integers") from None
    if offset < 0 or not 0 <= limit <= MAX_LIMIT:
        raise web.HTTPBadRequest(text="offset or limit out of range")
    rows = snap.table.slice(offset, limit).to_pylist()
    return web.json_response({"version": snap.version, "offset": offset, "rows": rows})


async def get_latest_meta(request: web.Request) -> web.Response:
    state = request.app[STATE]
    meta = await in_pool(request, state["board"].pin_meta, state["pin"])
    return web.json_response({"version": meta.version.version, "hash": meta.pin_hash})


def _read(board: Any, pin: str, version: str) -> pa.Table:
    return pa.Table.from_pandas(board.pin_read(pin, version))


async def follow(app: web.Application) -> None:
    state = app[STATE]
    board, pin = state["board"], state["pin"]
    loop = asyncio.get_running_loop()
    seen: str | None = None
    while True:
        try:
            versions = await loop.run_in_executor(state["pool"], board.pin_versions, pin)
            latest = str(versions["version"].iloc[-1])
            if latest != seen:
                table = await loop.run_in_executor(state["pool"], _read, board, pin, latest)
                state["snapshot"] = Snapshot(latest, table)
                seen = latest
        except Exception as e:  # keep serving the last version
            print(f"watching {pin} failed: {e}", flush=True)
        await asyncio.sleep(state["interval"])


async def lifecycle(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(follow(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    app[STATE]["pool"].shutdown(wait=False)


def make_app(board: Any, pin: str, interval: float) -> web.Application:
    app = web.Application()
    pool = ThreadPoolExecutor(max_workers=min(32, (os.cpu_count() or 1) + 4))
    app[STATE] = {"board": board, "pin": pin, "interval": interval, "snapshot": None,
                  "pool": pool}  # fmt: skip
    app.router.add_get("/version", get_version)
    app.router.add_get("/rows", get_rows)
    app.router.add_get("/latest-meta", get_latest_meta)
    app.cleanup_ctx.append(lifecycle)
    return app


async def serve(app: web.Application, host: str, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(f"listening on http://{host}:{runner.addresses[0][1]}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    import pins

    p = argparse.ArgumentParser()
    p.add_argument("board")
    p.add_argument("pin")
    p.add_argument("--endpoint-url", required=True)
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--interval", type=float, default=1.0)
    args = p.parse_args()
    board = pins.board_s3(
        args.board.removeprefix("s3://"),
        key=os.environ["AWS_ACCESS_KEY_ID"],
        secret=os.environ["AWS_SECRET_ACCESS_KEY"],
        client_kwargs={"endpoint_url": args.endpoint_url, "region_name": args.region},
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(make_app(board, args.pin, args.interval), args.host, args.port))


if __name__ == "__main__":
    main()
