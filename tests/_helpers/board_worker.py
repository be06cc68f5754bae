"""A process that runs one board verb, for the multi-process race and crash tests.

The board comes from a JSON spec (argv[2]): ``{"kind": "folder", "path": ...}``,
``{"kind": "s3", "path": "bucket/prefix", "endpoint": ..., "multipart": bool}`` (credentials
from the AWS_* environment), ``{"kind": "gcs", "path": "bucket/prefix", "endpoint": ...,
"multipart": bool}`` or ``{"kind": "connect", "server": ...}`` (key in CONNECT_API_KEY).

python board_worker.py race SPEC PIN ID
    prints "ready", waits for a line on stdin, does an unversioned pin_write of a value
    unique to ID and prints one JSON line {"ok": version} or {"error": class name}.
python board_worker.py crash-write SPEC PIN ID
    pin_writes ever new versions of PIN until killed.
python board_worker.py crash-upload SPEC PIN FILE
    pin_uploads FILE, changed a little each time, until killed.
python board_worker.py crash-download SPEC PIN
    pin_downloads PIN again and again into a cleared cache (spec "cache") until killed.
python board_worker.py crash-mirror SPEC TARGET_SPEC
    mirrors the board to the target, adds a version of "crashy" (spec "upload", a file)
    and of "other" to the source, again, until killed.

python board_worker.py read-loop SPEC PIN COUNT
    prints "ready", waits for a line, pin_reads PIN COUNT times (a table of spec "rows"
    rows whose column "i" counts from 0) and prints {"errors": [...]}.
python board_worker.py prune-loop SPEC STOP_FILE
    runs cache_prune(max_bytes=0) on spec "cache" until STOP_FILE exists.

The crash modes print "go SECONDS" once, after the first operation, with its duration.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

import apins
from apins.board import Board
from apins.settings import MiB, TransferSettings

#: small parts so that a multi-MiB file is a multipart upload of several parts
MULTIPART = TransferSettings(
    multipart_threshold=5 * MiB, part_size=5 * MiB, range_threshold=5 * MiB, max_concurrency=2
)
#: never multipart for the sizes the tests use
SINGLE = TransferSettings(multipart_threshold=1024 * MiB, range_threshold=1024 * MiB)


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def make_board(spec: dict[str, Any]) -> Board:
    kind = spec["kind"]
    versioned = spec.get("versioned", True)
    if kind == "folder":
        return apins.board_folder(spec["path"], versioned=versioned)
    if kind == "s3":
        return apins.board_s3(
            spec["path"],
            versioned=versioned,
            endpoint_url=spec["endpoint"],
            settings=MULTIPART if spec.get("multipart") else SINGLE,
            cache=spec.get("cache", False),
        )
    if kind == "gcs":
        return apins.board_gcs(
            spec["path"],
            versioned=versioned,
            endpoint_url=spec["endpoint"],
            settings=MULTIPART if spec.get("multipart") else SINGLE,
            cache=spec.get("cache", False),
        )
    if kind == "connect":
        return apins.board_connect(
            server_url=spec["server"],
            api_key=os.environ["CONNECT_API_KEY"],
            versioned=versioned,
            cache=False,
        )
    raise SystemExit(f"unknown board kind {kind!r}")


async def race(spec: dict[str, Any], pin: str, ident: str) -> None:
    async with make_board(spec) as board:
        await board.pin_versions(pin)  # connected and imported: the writes start together
        _say("ready")
        sys.stdin.readline()
        try:
            meta = await board.pin_write({"writer": ident}, pin, type="json", versioned=False)
        except apins.PinsError as e:
            _say(json.dumps({"error": type(e).__name__, "message": str(e)}))
        else:
            _say(json.dumps({"ok": meta.version}))


class _Clock:
    """Prints "go SECONDS" (how long the first operation took) once, after the first one."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.said = False

    def tick(self) -> None:
        if not self.said:
            self.said = True
            _say(f"go {time.monotonic() - self.start:.3f}")


async def crash_write(spec: dict[str, Any], pin: str, ident: str) -> None:
    import pyarrow as pa

    async with make_board(spec) as board:
        clock = _Clock()
        size = int(spec.get("rows", 5_000))
        for i in range(1_000_000):
            table = pa.table({"i": pa.array(range(i, i + size)), "w": [ident] * size})
            await board.pin_write(table, pin, type="parquet")
            clock.tick()


async def crash_upload(spec: dict[str, Any], pin: str, path: str) -> None:
    async with make_board(spec) as board:
        clock = _Clock()
        for _ in range(1_000_000):
            with open(path, "r+b") as f:  # new content, same size: a new version each time
                f.write(os.urandom(8))
            await board.pin_upload(path, pin)
            clock.tick()


async def crash_download(spec: dict[str, Any], pin: str) -> None:
    import shutil

    async with make_board(spec) as board:
        clock = _Clock()
        for _ in range(1_000_000):
            await board.pin_download(pin)
            clock.tick()
            shutil.rmtree(spec["cache"], ignore_errors=True)


async def crash_mirror(spec: dict[str, Any], target: dict[str, Any]) -> None:
    async with make_board(spec) as source, make_board(target) as dest:
        clock = _Clock()
        for _ in range(1_000_000):
            await apins.mirror(source, dest, stop_on_error=True)
            clock.tick()
            # something new to mirror next time: a new version of every pin of the source
            with open(spec["upload"], "r+b") as f:
                f.write(os.urandom(8))
            await source.pin_upload(spec["upload"], "crashy")
            await source.pin_write({"n": os.urandom(4).hex()}, "other", type="json")


async def read_loop(spec: dict[str, Any], pin: str, count: int) -> None:
    """Read PIN ``count`` times through the cache in spec "cache"; report every surprise."""
    errors: list[str] = []
    async with make_board(spec) as board:
        _say("ready")
        sys.stdin.readline()
        for _ in range(count):
            try:
                table = await board.pin_read(pin)
                if table.num_rows != spec["rows"] or table.column("i").to_pylist()[-1] != (
                    spec["rows"] - 1
                ):
                    errors.append(f"wrong content: {table.num_rows} rows")
            except Exception as e:  # every error is a finding
                import traceback

                # every apins frame of the whole chain: where the surprise came from
                frames = traceback.format_exc().splitlines()
                where = [f.strip() for f in frames if "/apins/" in f and "File" in f]
                errors.append(f"{type(e).__name__}: {e} at {' | '.join(where)}")
    _say(json.dumps({"errors": errors}))


def prune_loop(cache: str, stop: str) -> None:
    """cache_prune(max_bytes=0) again and again until the file ``stop`` exists."""
    rounds = 0
    _say("ready")
    while not os.path.exists(stop):
        apins.cache_prune(max_bytes=0, root=cache)
        rounds += 1
        time.sleep(0.01)  # a busy pruner, not a spinning one
    _say(json.dumps({"rounds": rounds}))


def main(argv: list[str]) -> None:
    mode, spec, args = argv[0], json.loads(argv[1]), argv[2:]
    if mode == "race":
        asyncio.run(race(spec, args[0], args[1]))
    elif mode == "crash-write":
        asyncio.run(crash_write(spec, args[0], args[1]))
    elif mode == "crash-upload":
        asyncio.run(crash_upload(spec, args[0], args[1]))
    elif mode == "crash-download":
        asyncio.run(crash_download(spec, args[0]))
    elif mode == "read-loop":
        asyncio.run(read_loop(spec, args[0], int(args[1])))
    elif mode == "prune-loop":
        prune_loop(spec["cache"], args[0])
    elif mode == "crash-mirror":
        asyncio.run(crash_mirror(spec, json.loads(args[0])))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
