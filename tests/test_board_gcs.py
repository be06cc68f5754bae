"""board_gcs end to end on a real fake-gcs-server (the GCS JSON API emulator)."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pytest

import apins
from apins.board import Board
from apins.cache import Cache
from apins.errors import HashMismatch, ObjectChanged, PinNotFound
from apins.settings import MiB, TransferSettings
from apins.stores.gcs import GCSStore
from tests.faultproxy import FaultProxy
from tests.servers import GCSServer

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

SMALL = TransferSettings(
    range_threshold=6 * MiB, multipart_threshold=6 * MiB, part_size=5 * MiB, max_concurrency=4
)


def make_board(
    server: GCSServer,
    bucket: str,
    prefix: str = "team/pins",
    cache: Path | bool | None = None,
    endpoint: str | None = None,
    **kw: object,
) -> Board:
    return apins.board_gcs(
        f"{bucket}/{prefix}",
        cache=cache if cache is not None else False,
        endpoint_url=endpoint or server.url,
        settings=kw.pop("settings", SMALL),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def _table(n: int) -> pa.Table:
    return pa.table({"id": list(range(n)), "name": [f"row{i}" for i in range(n)]})


def _leaf(exc: BaseException) -> BaseException:
    """The error itself, or the only leaf of an exception group around it."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _store(board: Board) -> GCSStore:
    store = board.backend.store  # type: ignore[attr-defined]
    assert isinstance(store, GCSStore)
    return store


async def test_verbs_round_trip(fakegcs: GCSServer, tmp_path: Path) -> None:
    async with make_board(fakegcs, fakegcs.make_bucket(), cache=tmp_path / "c") as board:
        m1 = await board.pin_write(_table(3), "t", type="parquet", metadata={"k": "y"})
        m2 = await board.pin_write(_table(5), "t", type="csv", description="five rows")
        await board.pin_write({"a": [1, 2]}, "j", type="json")
        assert await board.pin_list() == ["j", "t"]
        assert [v.version for v in await board.pin_versions("t")] == [m1.version, m2.version]
        assert (await board.pin_read("t")).num_rows == 5
        assert (await board.pin_read("t", version=m1.version)).num_rows == 3
        assert (await board.pin_meta("t", m1.version)).user == {"k": "y"}
        assert await board.pin_read("j") == {"a": [1, 2]}
        assert [m.name for m in await board.pin_search("^t$")] == ["t"]
        await board.pin_versions_prune("t", n=1)
        assert [v.version for v in await board.pin_versions("t")] == [m2.version]
        await board.pin_delete("j")
        assert not await board.pin_exists("j")
        with pytest.raises(PinNotFound):
            await board.pin_read("j")
        assert await board.write_board_manifest() == {"t": [f"t/{m2.version}/"]}
        assert await board.pin_list() == ["t"]


async def test_big_files_ranged_and_composite_upload(fakegcs: GCSServer, tmp_path: Path) -> None:
    bucket = fakegcs.make_bucket()
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(13 * MiB + 123))
    small = tmp_path / "small.txt"
    small.write_bytes(b"hello\n")
    events: list[apins.ProgressEvent] = []
    async with make_board(fakegcs, bucket, cache=tmp_path / "c") as board:
        meta = await board.pin_upload([big, small], "files", progress=events.append)
        counts = _store(board).request_counts
        assert counts["objects.compose"] == 1  # three parts joined in one call
        paths = await board.pin_download("files", progress=events.append)
        assert Path(paths[0]).read_bytes() == big.read_bytes()
        assert Path(paths[1]).read_bytes() == b"hello\n"
        assert counts["objects.get(media)"] >= 3  # ranged: several GETs for the big file
    assert any(e.finished and e.done == big.stat().st_size for e in events)
    # no temporary part object is left behind
    names = fakegcs.list_names(bucket)
    assert sorted(n.rsplit("/", 1)[-1] for n in names) == ["big.bin", "data.txt", "small.txt"]
    assert meta.file == ["big.bin", "small.txt"]


async def test_compose_tree_above_32_parts(fakegcs: GCSServer, tmp_path: Path) -> None:
    tiny = TransferSettings(multipart_threshold=64 * 1024, part_size=1, max_concurrency=8)
    data = os.urandom(40 * 5 * 1024 + 7)
    path = tmp_path / "many.bin"
    path.write_bytes(data)
    bucket = fakegcs.make_bucket()
    store = GCSStore(bucket, "p", endpoint_url=fakegcs.url, settings=tiny)
    try:
        # part_size is raised to size / 10000 parts at least: force 41 parts of 5 KiB
        object.__setattr__(tiny, "part_size", 5 * 1024)
        await store.put_file("x/many.bin", path)
        assert store.request_counts["objects.compose"] == 3  # two groups, then the root
    finally:
        await store.aclose()
    assert fakegcs.get_object(bucket, "p/x/many.bin") == data
    assert fakegcs.list_names(bucket) == ["p/x/many.bin"]


async def test_half_written_version_is_invisible(fakegcs: GCSServer, tmp_path: Path) -> None:
    bucket = fakegcs.make_bucket()
    async with make_board(fakegcs, bucket) as board:
        meta = await board.pin_write(_table(2), "p", type="arrow")
        fakegcs.put_object(bucket, "team/pins/p/29990101T000000Z-fffff/p.arrow", b"x")
        fakegcs.put_object(bucket, "team/pins/ghost/29990101T000000Z-fffff/g.csv", b"x")
        assert [v.version for v in await board.pin_versions("p")] == [meta.version]
        assert await board.pin_list() == ["p"]
        assert not await board.pin_exists("ghost")
        assert (await board.pin_read("p")).num_rows == 2


async def test_corrupted_object_raises_and_caches_nothing(
    fakegcs: GCSServer, tmp_path: Path
) -> None:
    bucket = fakegcs.make_bucket()
    cache_dir = tmp_path / "cache"
    async with make_board(fakegcs, bucket) as writer:
        meta = await writer.pin_write(_table(50), "c", type="csv")
    name = f"team/pins/c/{meta.version}/c.csv"
    good = fakegcs.get_object(bucket, name)
    fakegcs.put_object(bucket, name, good.replace(b"row1", b"rowX"))
    async with make_board(fakegcs, bucket, cache=cache_dir) as reader:
        with pytest.raises(HashMismatch):
            await reader.pin_read("c")
        ident = reader.backend.identity
        assert Cache(cache_dir).lookup(ident, "c", meta.version or "", "c.csv") is None
        fakegcs.put_object(bucket, name, good)
        assert (await reader.pin_read("c")).num_rows == 50


async def test_listing_past_1000_objects(fakegcs: GCSServer) -> None:
    bucket = fakegcs.make_bucket()
    async with make_board(fakegcs, bucket, prefix="") as board:
        await board.pin_write({"x": 1}, "zzz-last", type="json")
        names = [f"aaa-junk/v{i:04d}/part.bin" for i in range(1010)]
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda n: fakegcs.put_object(bucket, n, b""), names))
        store = _store(board)
        store.request_counts.clear()
        assert await board.pin_list() == ["zzz-last"]
        assert len(await store.list("")) == 1012
        assert store.request_counts["objects.list"] >= 3  # one listing of each kind paged
        assert await board.pin_read("zzz-last") == {"x": 1}


async def test_object_replaced_mid_download_is_a_clean_error(
    fakegcs: GCSServer, tmp_path: Path
) -> None:
    """The first range fixes the generation; later ranges ask for exactly it. The emulator
    honours ``generation=`` (404 for a replaced object), which becomes ObjectChanged."""
    bucket = fakegcs.make_bucket()
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 * MiB))
    one_at_a_time = TransferSettings(
        range_threshold=6 * MiB, multipart_threshold=64 * MiB, part_size=5 * MiB,
        max_concurrency=1, retries=1, backoff_base=0.01,
    )  # fmt: skip
    async with make_board(fakegcs, bucket, settings=one_at_a_time) as w:
        meta = await w.pin_upload(big, "b")
    name = f"team/pins/b/{meta.version}/big.bin"
    async with FaultProxy(fakegcs.url) as proxy:
        media = 0

        def replace_after_first_range(record: object) -> bool:
            nonlocal media
            if "alt=media" in record.path and "big.bin" in record.path:  # type: ignore[attr-defined]
                media += 1
                if media == 2:  # the first range was served from the old object
                    fakegcs.put_object(bucket, name, os.urandom(12 * MiB))
            return False

        proxy.cut_once(replace_after_first_range, after_body_bytes=1 << 40)
        async with make_board(
            fakegcs, bucket, cache=tmp_path / "c", endpoint=proxy.url, settings=one_at_a_time
        ) as r:
            with pytest.raises(BaseException) as caught:
                await r.pin_download("b")
            assert isinstance(_leaf(caught.value), ObjectChanged), caught.value
        reads = [rec for rec in proxy.requests if "alt=media" in rec.path and "big" in rec.path]
        assert media >= 2 and all("generation=" in rec.path for rec in reads)
    assert not list((tmp_path / "c").rglob("big.bin"))


async def test_unusual_pin_names_list_and_read(fakegcs: GCSServer, tmp_path: Path) -> None:
    names = ["données 2024+x", "a&b=c%d", "tilde~and'quote"]
    async with make_board(fakegcs, fakegcs.make_bucket(), cache=tmp_path / "c") as board:
        for n in names:
            await board.pin_write({"name": n}, n, type="json")
        assert await board.pin_list() == sorted(names)
        for n in names:
            assert await board.pin_read(n) == {"name": n}


async def test_warm_read_costs_one_listing(fakegcs: GCSServer, tmp_path: Path) -> None:
    async with make_board(fakegcs, fakegcs.make_bucket(), cache=tmp_path / "c") as board:
        await board.pin_write(_table(10), "w", type="parquet")
        await board.pin_read("w")
        store = _store(board)
        store.request_counts.clear()
        assert (await board.pin_read("w")).num_rows == 10
        assert store.request_counts == {"objects.list": 1}


async def test_emulator_host_from_environment(
    fakegcs: GCSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fakegcs.host)
    bucket = fakegcs.make_bucket()
    async with apins.board_gcs(f"{bucket}/env") as board:
        await board.pin_write({"e": 1}, "e", type="json")
    assert any(n.startswith("env/e/") for n in fakegcs.list_names(bucket))


def test_sync_twin(fakegcs: GCSServer) -> None:
    from apins import sync

    bucket = fakegcs.make_bucket()
    with sync.board_gcs(f"{bucket}/s", cache=False, endpoint_url=fakegcs.url) as board:
        board.pin_write({"s": 1}, "s", type="json")
        assert board.pin_read("s") == {"s": 1}


def test_repr_and_description_hide_tokens(fakegcs: GCSServer) -> None:
    board = apins.board_gcs("b/p", token="ya29.SECRET-TOKEN", endpoint_url=fakegcs.url)
    shown = repr(board) + repr(board.backend) + repr(_store(board)) + repr(_store(board)._creds)
    assert "SECRET" not in shown
    assert "gs://" not in shown or "b/" in shown


async def test_cut_download_resumes_from_the_last_byte(fakegcs: GCSServer, tmp_path: Path) -> None:
    bucket = fakegcs.make_bucket()
    data = os.urandom(9 * MiB)
    (tmp_path / "f.bin").write_bytes(data)
    async with make_board(fakegcs, bucket) as w:
        await w.pin_upload(tmp_path / "f.bin", "f")
    async with FaultProxy(fakegcs.url) as proxy:
        proxy.cut_once(lambda r: "alt=media" in r.path and "f.bin" in r.path, 1 * MiB + 5)
        async with make_board(fakegcs, bucket, cache=tmp_path / "c", endpoint=proxy.url) as r:
            (path,) = await r.pin_download("f")
            assert Path(path).read_bytes() == data
        (cut,) = proxy.cuts
        first = int((cut.range or "bytes=0-").split("=")[1].split("-")[0])
        resumed = [
            rec for rec in proxy.requests
            if rec.range and rec.range.startswith(f"bytes={first + MiB + 5}-")
        ]  # fmt: skip
        assert resumed and "generation=" in resumed[0].path


async def test_failed_composite_upload_leaves_no_parts(fakegcs: GCSServer, tmp_path: Path) -> None:
    """A part that keeps failing aborts the upload: its parts and the version's other files
    are deleted, and the pin does not exist."""
    bucket = fakegcs.make_bucket()
    (tmp_path / "big.bin").write_bytes(os.urandom(13 * MiB))
    (tmp_path / "small.txt").write_bytes(b"small\n")
    quick = TransferSettings(
        multipart_threshold=6 * MiB, part_size=5 * MiB, max_concurrency=2, retries=1,
        backoff_base=0.01, backoff_max=0.02,
    )  # fmt: skip
    async with FaultProxy(fakegcs.url) as proxy:
        # every upload of part 2 fails (a 503 each time: retried, then given up)
        part2 = proxy.inject("status", "POST", r"-00002\.apins-part", status=503, count=None)
        async with make_board(fakegcs, bucket, endpoint=proxy.url, settings=quick) as board:
            with pytest.raises(apins.PinsError):
                await board.pin_upload([tmp_path / "big.bin", tmp_path / "small.txt"], "up")
            assert not await board.pin_exists("up")
    assert part2.fired == 2  # the first attempt and one retry
    assert fakegcs.list_names(bucket) == []
