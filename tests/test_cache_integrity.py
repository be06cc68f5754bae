"""The shared cache: altered entries are caught before they are served, and many processes
reading one pin into one cache while cache_prune runs never get a torn or wrong file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests._helpers import HELPERS, subprocess_env, trials
from tests._helpers.workers import WorkerPool
from tests.servers import S3Server

WORKER = str(HELPERS / "board_worker.py")
DATA = {"k": list(range(2000)), "s": "x" * 500}


def damage(path: Path, how: str) -> None:
    """Change a cached file through the file system, then put its mtime back."""
    st = os.stat(path)
    os.chmod(path, 0o644)
    raw = bytearray(path.read_bytes())
    if how == "flip":
        raw[len(raw) // 2] ^= 0x04  # same size
    else:
        del raw[len(raw) // 2 :]
    path.write_bytes(bytes(raw))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime alone would not tell


@pytest.mark.parametrize("how", ["flip", "truncate"])
async def test_altered_cache_entry_is_detected_and_fetched_again(
    seaweed: S3Server, tmp_path: Path, how: str
) -> None:
    bucket = seaweed.make_bucket()
    cache = tmp_path / "cache"
    async with seaweed.board(f"{bucket}/b", cache=cache) as board:
        await board.pin_write(DATA, "p", type="json")
        assert await board.pin_read("p") == DATA  # now cached
        (cached,) = [Path(p) for p in await board.pin_download("p")]
        good = cached.read_bytes()
        damage(cached, how)
        # the same process, and a fresh one, both notice before serving it
        assert await board.pin_read("p") == DATA
        assert cached.read_bytes() == good  # fetched again into the cache
        damage(cached, how)
    async with seaweed.board(f"{bucket}/b", cache=cache) as board:
        (path,) = await board.pin_download("p")
        assert Path(path).read_bytes() == good


async def test_touching_a_cached_file_keeps_it(seaweed: S3Server, tmp_path: Path) -> None:
    bucket = seaweed.make_bucket()
    cache = tmp_path / "cache"
    async with seaweed.board(f"{bucket}/b", cache=cache) as board:
        await board.pin_write(DATA, "p", type="json")
        (first,) = await board.pin_download("p")
        ino = os.stat(first).st_ino
        os.utime(first)  # metadata only: re-hashed once, same bytes, kept
        (again,) = await board.pin_download("p")
        assert again == first and os.stat(again).st_ino == ino


async def test_cold_readers_and_prune_share_one_cache(seaweed: S3Server, tmp_path: Path) -> None:
    bucket = seaweed.make_bucket()
    cache = tmp_path / "shared-cache"
    rows = 200_000
    async with seaweed.board(f"{bucket}/b", cache=tmp_path / "writer-cache") as board:
        await board.pin_write(pa.table({"i": pa.array(range(rows))}), "t", type="parquet")
    spec: dict[str, Any] = {
        "kind": "s3", "path": f"{bucket}/b", "endpoint": seaweed.endpoint_url,
        "cache": str(cache), "rows": rows,
    }  # fmt: skip
    env = subprocess_env(**seaweed.env())
    stop = tmp_path / "stop"
    with WorkerPool(WORKER, env) as pool:
        readers = [
            pool.spawn("read-loop", json.dumps(spec), "t", str(trials(8, 40))) for _ in range(4)
        ]
        pruner = pool.spawn("prune-loop", json.dumps(spec), str(stop))
        pool.ready(*readers, pruner)
        pool.go(*readers)
        results = [json.loads(lines[-1]) for lines in pool.collect(*readers, timeout=240)]
        stop.touch()
        rounds = json.loads(pool.collect(pruner, timeout=60)[0][-1])["rounds"]
    assert [r["errors"] for r in results] == [[]] * len(readers)
    assert rounds > 1
