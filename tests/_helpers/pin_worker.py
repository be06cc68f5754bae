"""A process that writes or reads one pin on a folder board, for the multi-process tests.

python pin_worker.py write BOARD PIN WRITER_ID COUNT
    prints "ready", waits for a line on stdin, writes COUNT distinct json versions,
    prints one JSON line per version written, then "done".
python pin_worker.py read BOARD PIN STOP_FILE
    reads the latest version in a loop until STOP_FILE exists; prints "ready" after the
    first read and finally one JSON line {"reads": n, "errors": [...]}.
python pin_worker.py crash-serialise BOARD PIN
    starts writing a large table whose stream blocks after 10 batches; prints
    "serialising" at that point and waits to be killed.
python pin_worker.py crash-commit BOARD PIN SOURCE_FILE
    pin_uploads SOURCE_FILE; the progress callback prints "copying" after the first
    chunk is in the board's hidden staging folder and waits to be killed.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from pathlib import Path
from typing import Any

import apins

_never = threading.Event()


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def write(board_dir: str, pin: str, writer: int, count: int) -> None:
    async with apins.board_folder(board_dir) as board:
        _say("ready")
        sys.stdin.readline()
        for i in range(count):
            meta = await board.pin_write({"writer": writer, "i": i}, pin, type="json")
            _say(json.dumps({"version": meta.version, "writer": writer, "i": i}))
    _say("done")


def stop_requested(stop: Path) -> bool:
    return stop.exists()


async def read(board_dir: str, pin: str, stop_file: str) -> None:
    reads = 0
    errors: list[str] = []
    stop = Path(stop_file)
    async with apins.board_folder(board_dir) as board:
        while True:
            try:
                value = await board.pin_read(pin)
                if not (isinstance(value, dict) and {"writer", "i"} <= set(value)):
                    errors.append(f"unexpected content {value!r}")
                versions = await board.pin_versions(pin)
                await board.pin_meta(pin, versions[-1].version)
            except Exception as e:  # every error is a finding
                errors.append(f"{type(e).__name__}: {e}")
            reads += 1
            if reads == 1:
                _say("ready")
            if stop_requested(stop):
                break
    _say(json.dumps({"reads": reads, "errors": errors}))


class _Blocker:
    """Pickling it announces "serialising" and never returns (the process is killed)."""

    def __reduce__(self) -> Any:
        _say("serialising")
        _never.wait()
        raise AssertionError("unreachable")


def _large_table_then_block() -> Any:
    import pyarrow as pa

    n = 2_000_000
    table = pa.table({"n": pa.array(range(n)), "s": pa.array(["x" * 16] * n)})
    return {"table": table, "tail": _Blocker()}


async def crash_serialise(board_dir: str, pin: str) -> None:
    async with apins.board_folder(board_dir) as board:
        # joblib streams into the data file: the table is written, then the blocker stalls
        await board.pin_write(_large_table_then_block(), pin, type="joblib")


async def crash_commit(board_dir: str, pin: str, source: str) -> None:
    def progress(event: Any) -> None:
        _say("copying")
        _never.wait()

    async with apins.board_folder(board_dir) as board:
        await board.pin_upload(source, pin, progress=progress)


def main(argv: list[str]) -> None:
    mode, args = argv[0], argv[1:]
    if mode == "write":
        asyncio.run(write(args[0], args[1], int(args[2]), int(args[3])))
    elif mode == "read":
        asyncio.run(read(args[0], args[1], args[2]))
    elif mode == "crash-serialise":
        asyncio.run(crash_serialise(args[0], args[1]))
    elif mode == "crash-commit":
        asyncio.run(crash_commit(args[0], args[1], args[2]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
