"""board_s3 end to end on real S3 servers (SeaweedFS checks signatures; moto in server mode)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import apins
from apins.board import Board
from apins.cache import Cache
from apins.errors import HashMismatch, OfflineError, PinNotFound
from apins.settings import MiB, TransferSettings
from tests.faultproxy import FaultProxy
from tests.servers import S3Server

SMALL = TransferSettings(
    range_threshold=6 * MiB, multipart_threshold=6 * MiB, part_size=5 * MiB, max_concurrency=4
)


@pytest.fixture(params=["seaweed", "moto"])
def server(request: pytest.FixtureRequest) -> S3Server:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def make_board(
    server: S3Server, bucket: str, prefix: str = "team/pins", cache: Path | bool | None = None,
    endpoint: str | None = None, **kw: object,
) -> Board:  # fmt: skip
    return server.board(
        f"{bucket}/{prefix}",
        endpoint_url=endpoint,
        settings=SMALL,
        cache=cache if cache is not None else False,
        **kw,
    )


@pytest.fixture
async def board(server: S3Server, tmp_path: Path) -> AsyncIterator[Board]:
    async with make_board(server, server.make_bucket(), cache=tmp_path / "cache") as b:
        yield b


def _table(n: int) -> pa.Table:
    return pa.table({"id": list(range(n)), "name": [f"row{i}" for i in range(n)]})


async def test_verbs_round_trip(board: Board) -> None:
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
    manifest = await board.write_board_manifest()
    assert manifest == {"t": [f"t/{m2.version}/"]}
    assert await board.pin_list() == ["t"]  # _pins.yaml is not a pin


async def test_big_files_ranged_and_multipart(board: Board, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(13 * MiB + 123))
    small = tmp_path / "small.txt"
    small.write_bytes(b"hello\n")
    events: list[apins.ProgressEvent] = []
    meta = await board.pin_upload([big, small], "files", progress=events.append)
    assert len(meta.pin_hash or "") == 32  # R's multi-file hash
    paths = await board.pin_download("files")
    assert Path(paths[0]).read_bytes() == big.read_bytes()
    assert Path(paths[1]).read_bytes() == b"hello\n"
    assert any(e.finished and e.done == big.stat().st_size for e in events)


async def test_half_written_version_is_invisible(board: Board, server: S3Server) -> None:
    meta = await board.pin_write(_table(2), "p", type="arrow")
    store = board.backend.store  # type: ignore[attr-defined]
    s3 = server.boto3_client()
    # a crashed writer left data files without data.txt
    s3.put_object(
        Bucket=store.bucket, Key=f"{store.prefix}p/29990101T000000Z-fffff/p.arrow", Body=b"x"
    )
    s3.put_object(
        Bucket=store.bucket, Key=f"{store.prefix}ghost/29990101T000000Z-fffff/g.csv", Body=b"x"
    )
    assert [v.version for v in await board.pin_versions("p")] == [meta.version]
    assert await board.pin_list() == ["p"]
    assert not await board.pin_exists("ghost")
    assert (await board.pin_read("p")).num_rows == 2


async def test_corrupted_object_raises_and_caches_nothing(server: S3Server, tmp_path: Path) -> None:
    bucket = server.make_bucket()
    cache_dir = tmp_path / "cache"
    async with make_board(server, bucket, cache=False) as writer:
        meta = await writer.pin_write(_table(50), "c", type="csv")
        store = writer.backend.store  # type: ignore[attr-defined]
    key = f"{store.prefix}c/{meta.version}/c.csv"
    s3 = server.boto3_client()
    good = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=key, Body=good.replace(b"row1", b"rowX"))
    async with make_board(server, bucket, cache=cache_dir) as reader:
        with pytest.raises(HashMismatch):
            await reader.pin_read("c")
        ident = reader.backend.identity
        assert Cache(cache_dir).lookup(ident, "c", meta.version or "", "c.csv") is None
        s3.put_object(Bucket=bucket, Key=key, Body=good)
        assert (await reader.pin_read("c")).num_rows == 50


async def test_listing_past_1000_keys(server: S3Server) -> None:
    bucket = server.make_bucket()
    async with make_board(server, bucket, prefix="") as b:
        await b.pin_write({"x": 1}, "zzz-last", type="json")
        store = b.backend.store  # type: ignore[attr-defined]
        s3 = server.boto3_client()
        keys = [f"aaa-junk/v{i:04d}/part.bin" for i in range(1010)]
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b""), keys))
        assert await b.pin_list() == ["zzz-last"]
        assert len(await store.list("")) == 1012
        assert await b.pin_read("zzz-last") == {"x": 1}


async def test_warm_read_costs_one_request(seaweed: S3Server, tmp_path: Path) -> None:
    bucket = seaweed.make_bucket()
    async with make_board(seaweed, bucket, cache=tmp_path / "c") as b:
        await b.pin_write(_table(10), "w", type="parquet")
        await b.pin_read("w")  # cold: fills the cache
        store = b.backend.store  # type: ignore[attr-defined]
        store.request_counts.clear()
        assert (await b.pin_read("w")).num_rows == 10
        assert sum(store.request_counts.values()) == 1, store.request_counts
        assert set(store.request_counts) == {"ListObjectsV2"}


async def test_offline_mode_serves_cache_with_warning(seaweed: S3Server, tmp_path: Path) -> None:
    bucket = seaweed.make_bucket()
    cache = tmp_path / "cache"
    async with (
        FaultProxy(seaweed.endpoint_url) as proxy,
        make_board(seaweed, bucket, cache=cache, endpoint=proxy.url) as b,
    ):
        await b.pin_write(_table(4), "o", type="parquet")
        assert (await b.pin_read("o")).num_rows == 4
    # the proxy is gone: the same endpoint cannot be reached any more
    fast_fail = TransferSettings(retries=1, backoff_base=0.01, connect_timeout=1.0)
    async with seaweed.board(
        f"{bucket}/team/pins", endpoint_url=proxy.url, cache=cache, settings=fast_fail
    ) as offline:
        with pytest.warns(RuntimeWarning, match="offline"):
            assert (await offline.pin_read("o")).num_rows == 4
        with pytest.raises(OfflineError):
            await offline.pin_read("never-cached")


async def test_no_cache_board_reads(server: S3Server) -> None:
    async with make_board(server, server.make_bucket(), cache=False) as b:
        await b.pin_write(_table(7), "n", type="arrow")
        assert (await b.pin_read("n")).num_rows == 7
        paths = await b.pin_download("n")
        assert Path(paths[0]).exists()


async def test_r_style_prefix_without_slash_shares_keys(server: S3Server) -> None:
    bucket = server.make_bucket()
    async with make_board(server, bucket, prefix="sub") as a:
        await a.pin_write({"v": 1}, "shared", type="json")
    store_keys = [
        o["Key"] for o in server.boto3_client().list_objects_v2(Bucket=bucket)["Contents"]
    ]
    assert all(k.startswith("sub/shared/") for k in store_keys)


@pytest.fixture
def pins_s3(seaweed: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    import pins

    monkeypatch.setenv("PINS_CACHE_DIR", str(tmp_path / "pins-cache"))
    bucket = seaweed.make_bucket()

    def board(path: str = "interop") -> object:
        return pins.board_s3(
            f"{bucket}/{path}",
            allow_pickle_read=True,
            key=seaweed.access_key,
            secret=seaweed.secret_key,
            client_kwargs={"endpoint_url": seaweed.endpoint_url, "region_name": seaweed.region},
        )

    yield bucket, board


async def test_pins_python_reads_what_apins_writes(
    seaweed: S3Server, pins_s3: tuple[str, object], tmp_path: Path
) -> None:
    bucket, py_board_factory = pins_s3
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"], "c": [0.5, None, 2.5]})
    async with make_board(seaweed, bucket, prefix="interop", cache=tmp_path / "c") as b:
        for t in ("csv", "parquet", "arrow"):
            await b.pin_write(df, f"df-{t}", type=t, description=t, metadata={"t": t})
        await b.pin_write({"k": [1, 2]}, "js", type="json")
        await b.pin_write({"obj": 1}, "jl", type="joblib")
    py = py_board_factory()  # type: ignore[operator]
    assert sorted(py.pin_list()) == ["df-arrow", "df-csv", "df-parquet", "jl", "js"]
    for t in ("csv", "parquet", "arrow"):
        got = py.pin_read(f"df-{t}")
        pd.testing.assert_frame_equal(got, df, check_dtype=False)
        meta = py.pin_meta(f"df-{t}")
        assert meta.description == t and meta.user == {"t": t}
    assert py.pin_read("js") == {"k": [1, 2]}
    assert py.pin_read("jl") == {"obj": 1}


async def test_apins_reads_what_pins_python_writes(
    seaweed: S3Server, pins_s3: tuple[str, object], tmp_path: Path
) -> None:
    bucket, py_board_factory = pins_s3
    py = py_board_factory()  # type: ignore[operator]
    df = pd.DataFrame({"a": [1, 2], "b": ["p", "q"]})
    for t in ("csv", "parquet", "arrow", "joblib"):
        py.pin_write(df, f"py-{t}", type=t, metadata={"by": "pins-python"})
    py.pin_write({"k": "v"}, "py-json", type="json")
    async with make_board(
        seaweed, bucket, prefix="interop", cache=tmp_path / "c", allow_pickle_read=True
    ) as b:
        assert sorted(await b.pin_list()) == sorted(py.pin_list())
        for t in ("csv", "parquet", "arrow"):
            got = await b.pin_read(f"py-{t}", output="pandas")
            pd.testing.assert_frame_equal(got, df, check_dtype=False)
            meta = await b.pin_meta(f"py-{t}")
            assert meta.user == {"by": "pins-python"}
            assert meta.pin_hash == py.pin_meta(f"py-{t}").pin_hash
        pd.testing.assert_frame_equal(await b.pin_read("py-joblib"), df)
        assert await b.pin_read("py-json") == {"k": "v"}


async def test_search_lists_the_board_once(seaweed: S3Server, tmp_path: Path) -> None:
    async with make_board(seaweed, seaweed.make_bucket(), cache=tmp_path / "c") as b:
        for i in range(5):
            await b.pin_write({"i": i}, f"p{i}", type="json", title=f"number {i}")
        store = b.backend.store  # type: ignore[attr-defined]
        store.request_counts.clear()
        metas = await b.pin_search()
        assert [m.name for m in metas] == [f"p{i}" for i in range(5)]
        assert store.request_counts == {"ListObjectsV2": 1, "GetObject": 5}
        store.request_counts.clear()
        assert [m.title for m in await b.pin_search("number [13]")] == ["number 1", "number 3"]
        assert store.request_counts == {"ListObjectsV2": 1}  # data.txt of a version is cached


async def test_unusual_pin_names_list_and_read(server: S3Server, tmp_path: Path) -> None:
    names = ["données 2024+x", "a&b=c%d", "tilde~and'quote"]
    async with make_board(server, server.make_bucket(), cache=tmp_path / "c") as b:
        for n in names:
            await b.pin_write({"name": n}, n, type="json")
        assert await b.pin_list() == sorted(names)
        for n in names:
            assert await b.pin_read(n) == {"name": n}
            assert len(await b.pin_versions(n)) == 1


async def test_cold_read_needs_no_head_request(seaweed: S3Server, tmp_path: Path) -> None:
    bucket = seaweed.make_bucket()
    async with make_board(seaweed, bucket, cache=False) as w:
        await w.pin_write(_table(20), "c", type="parquet")
    async with make_board(seaweed, bucket, cache=tmp_path / "fresh") as b:
        assert (await b.pin_read("c")).num_rows == 20
        store = b.backend.store  # type: ignore[attr-defined]
        # the listing gave the file's size and ETag: no HeadObject before the download
        assert store.request_counts == {"ListObjectsV2": 1, "GetObject": 2}


async def test_endpoint_from_the_aws_environment(
    seaweed: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS_ENDPOINT_URL_S3 (then AWS_ENDPOINT_URL) points board_s3 at a server, as the AWS
    tools and pins-python's s3fs read it."""
    bucket = seaweed.make_bucket()
    for name, value in seaweed.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", seaweed.endpoint_url)
    async with apins.board_s3(f"{bucket}/env", cache=False) as board:
        await board.pin_write({"a": 1}, "x", type="json")
        assert await board.pin_read("x") == {"a": 1}
        assert seaweed.endpoint_url in board.board_deparse()
