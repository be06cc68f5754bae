"""A small aiohttp service that serves a pinned table and follows its new versions.

Run:  python examples/pin_service.py BOARD PIN [--port 8080] [--interval 1]

BOARD is a board URL as the ``apins`` command takes it (a folder path, ``s3://bucket/prefix``
with the AWS_* environment, ``https://host/board/``, ``connect://host``).

Routes (JSON):
  GET /version                   the version being served and its row count
  GET /rows?offset=0&limit=100   rows of the table, with the version they come from
  GET /latest-meta               the pin's latest metadata, asked of the board per request

``pin_watch`` reports each new version; it is read in full, then swapped in with a single
assignment. A request takes the snapshot once and answers from it alone, so a response never
mixes rows of two versions and no request waits for, or fails during, a swap.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from aiohttp import web

from apins.board import Board
from apins.cli.boards import open_board, s3_options
from apins.errors import PinsError

log = logging.getLogger("pin_service")
#: the longest page /rows answers
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Snapshot:
    """One version of the table, never changed once built."""

    version: str
    table: pa.Table


STATE: web.AppKey[dict[str, Any]] = web.AppKey("state", dict)


def snapshot(request: web.Request) -> Snapshot:
    snap: Snapshot | None = request.app[STATE]["snapshot"]
    if snap is None:
        raise web.HTTPServiceUnavailable(text="no version loaded yet")
    return snap


def _int(request: web.Request, name: str, default: int, high: int) -> int:
    raw = request.query.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be an integer, not {raw!r}") from None
    if not 0 <= value <= high:
        raise web.HTTPBadRequest(text=f"{name} must be between 0 and {high}")
    return value


async def get_version(request: web.Request) -> web.Response:
    snap = snapshot(request)
    return web.json_response({"version": snap.version, "rows": snap.table.num_rows})


async def get_rows(request: web.Request) -> web.Response:
    snap = snapshot(request)  # the one snapshot this response is made of
    offset = _int(request, "offset", 0, 2**62)
    limit = _int(request, "limit", 100, MAX_LIMIT)
    rows = snap.table.slice(offset, limit).to_pylist()
    return web.json_response({"version": snap.version, "offset": offset, "rows": rows})


async def get_latest_meta(request: web.Request) -> web.Response:
    state = request.app[STATE]
    board: Board = state["board"]
    meta = await board.pin_meta(state["pin"])
    return web.json_response({"version": meta.version, "hash": meta.pin_hash})


async def follow(app: web.Application) -> None:
    """Load each version pin_watch reports and swap it in; restart the watch on errors."""
    state = app[STATE]
    board: Board = state["board"]
    while True:
        try:
            async for meta in board.pin_watch(state["pin"], interval=state["interval"]):
                table = await board.pin_read(state["pin"], meta.version)
                state["snapshot"] = Snapshot(meta.version or "", table)
                log.info("serving version %s (%d rows)", meta.version, table.num_rows)
        except PinsError as e:
            log.warning("watching %s failed (%s); serving the last version", state["pin"], e)
            await asyncio.sleep(state["interval"])


async def lifecycle(app: web.Application) -> AsyncIterator[None]:
    state = app[STATE]
    async with state["board"]:
        task = asyncio.create_task(follow(app))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def make_app(board: Board, pin: str, *, interval: float = 1.0) -> web.Application:
    app = web.Application()
    app[STATE] = {"board": board, "pin": pin, "interval": interval, "snapshot": None}
    app.router.add_get("/version", get_version)
    app.router.add_get("/rows", get_rows)
    app.router.add_get("/latest-meta", get_latest_meta)
    app.cleanup_ctx.append(lifecycle)
    return app


async def serve(app: web.Application, host: str, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"listening on http://{host}:{bound}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("board", help="board URL")
    parser.add_argument("pin", help="name of a table pin")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    board = open_board(args.board, s3_options(None, None, None))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(make_app(board, args.pin, interval=args.interval), args.host, args.port))


if __name__ == "__main__":
    sys.exit(main())
