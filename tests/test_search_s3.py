"""pin_search on S3 with a cold cache: one listing, every data.txt fetched concurrently and
cached in batches, so the next search (a new board on the same cache) sends one request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio

import apins
from tests.servers import NginxServer, S3Server


async def test_cold_search_caches_every_data_txt_in_batches(
    seaweed: S3Server, nginx_s3proxy: NginxServer, nginx_s3slow: S3Server, tmp_path: Path
) -> None:
    bucket = seaweed.make_bucket()
    n = 40
    async with (
        seaweed.board(f"{bucket}/pins", cache=False) as writer,
        anyio.create_task_group() as tg,
    ):
        for i in range(n):
            tg.start_soon(lambda i=i: writer.pin_write({"i": i}, f"p{i:02d}", type="json"))
    cache = tmp_path / "cache"
    async with seaweed.board(
        f"{bucket}/pins", endpoint_url=nginx_s3slow.endpoint_url, cache=cache
    ) as board:
        start = nginx_s3proxy.mark(f"/{bucket}")
        found = await board.pin_search()
        cold = nginx_s3proxy.entries_since(f"/{bucket}", start)
        behind = board.backend._cache_writes  # type: ignore[attr-defined]
        assert 1 <= behind.batches < n
    assert sorted(m.name for m in found) == [f"p{i:02d}" for i in range(n)]
    assert len(cold) == n + 1  # one listing and one GET of each data.txt
    async with seaweed.board(
        f"{bucket}/pins", endpoint_url=nginx_s3slow.endpoint_url, cache=cache
    ) as again:
        start = nginx_s3proxy.mark(f"/{bucket}")
        warm = await again.pin_search("p1")
        seen = nginx_s3proxy.entries_since(f"/{bucket}", start)
    assert sorted(m.name for m in warm) == [f"p1{i}" for i in range(10)]
    assert [(e.method, e.uri.split("?")[0]) for e in seen] == [("GET", f"/{bucket}")]


async def test_a_new_board_of_the_same_bucket_searches_without_a_botocore_client(
    seaweed: S3Server, tmp_path: Path, monkeypatch: Any
) -> None:
    # building a botocore client only to learn the bucket's URL shape cost every new board
    # 10-20 ms of CPU (30-100 ms on a loaded machine) before its first request
    bucket = seaweed.make_bucket()
    async with seaweed.board(f"{bucket}/pins", cache=False) as writer:
        for i in range(3):
            await writer.pin_write({"i": i}, f"p{i}", type="json")
        await writer.pin_search()  # the first store of the bucket learns its URLs
    for i in range(2):
        async with seaweed.board(f"{bucket}/pins", cache=tmp_path / f"cache{i}") as board:
            found = await board.pin_search()
            assert board.backend.store._client is None  # type: ignore[attr-defined]
        assert sorted(m.name for m in found) == ["p0", "p1", "p2"]
    # credentials from the environment (no keys given): signed with the shared session's
    for k, v in seaweed.env().items():
        monkeypatch.setenv(k, v)
    chain = apins.board_s3(f"{bucket}/pins", endpoint_url=seaweed.endpoint_url,
                           region=seaweed.region, cache=False)  # fmt: skip
    async with chain:
        found = await chain.pin_search()
    assert sorted(m.name for m in found) == ["p0", "p1", "p2"]
