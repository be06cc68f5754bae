"""The transfer engine and S3Store against real S3 servers (SeaweedFS and moto)."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import pytest
import xxhash

from apins.errors import ObjectChanged, StoreAccessError, TransferError
from apins.settings import MiB, TransferSettings
from apins.stores.base import (
    FileSpan,
    NotModified,
    ObjectInfo,
    ObjectNotFound,
    PreconditionFailed,
    ProgressEvent,
    RangeNotSatisfiable,
)
from apins.stores.s3 import S3Store, normalize_etag, normalize_prefix
from apins.transfer import (
    ProgressAggregator,
    TransientError,
    download,
    tqdm_progress,
    upload_file,
    with_retries,
)
from tests.faultproxy import Fault, FaultProxy, RequestRecord
from tests.servers import S3Server

SETTINGS = TransferSettings(
    part_size=5 * MiB,
    range_threshold=6 * MiB,
    multipart_threshold=6 * MiB,
    chunk_size=256 * 1024,
    max_concurrency=4,
    max_connections=8,
    retries=3,
    backoff_base=0.01,
    backoff_max=0.05,
    split_below=None,  # ranges from the start: most tests here are about ranges
)
#: the adaptive default, with a floor every loopback stream clears: one stream, no ranges
LEAD = replace(SETTINGS, split_below=1.0)
BIG = 17 * MiB + 12345  # four parts, the last one short


def make_store(server: S3Server, bucket: str, cls: type[S3Store] = S3Store, **kw: Any) -> S3Store:
    return cls(
        bucket,
        "board/sub",
        endpoint_url=kw.pop("endpoint_url", server.endpoint_url),
        region=server.region,
        access_key=server.access_key,
        secret_key=kw.pop("secret_key", server.secret_key),
        settings=kw.pop("settings", SETTINGS),
        **kw,
    )


@pytest.fixture(params=["seaweed", "moto"])
def server(request: pytest.FixtureRequest) -> S3Server:
    server: S3Server = request.getfixturevalue(request.param)
    return server


@pytest.fixture
async def store(server: S3Server) -> AsyncIterator[S3Store]:
    s = make_store(server, server.make_bucket())
    yield s
    await s.aclose()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "big.bin"
    path.write_bytes(os.urandom(BIG))
    return path


def xxh(path: Path) -> str:
    return xxhash.xxh64(path.read_bytes()).hexdigest()


def data(path: Path) -> bytes:
    return path.read_bytes()


async def read_all(store: S3Store, key: str, **kw: Any) -> bytes:
    stream = await store.open_read(key, **kw)
    try:
        return b"".join([c async for c in stream.chunks(4096)])
    finally:
        await stream.aclose()


# --- pure helpers -----------------------------------------------------------------------------


def test_prefix_and_etag_normalisation() -> None:
    assert [normalize_prefix(p) for p in ["", "/", "sub", "sub/", "/sub//", "a/b"]] == [
        "",
        "",
        "sub/",
        "sub/",
        "sub/",
        "a/b/",
    ]
    assert normalize_etag("abc") == '"abc"'
    assert normalize_etag('"abc"') == '"abc"'
    assert normalize_etag(None) is None
    store = S3Store("bkt", "sub", endpoint_url="http://h:1", secret_key="s3cr3t-value")
    assert store.identity == "s3:http://h:1/bkt/sub/"
    assert "s3cr3t" not in repr(store)


def test_checked_etag_refuses_a_stored_body_that_is_not_the_one_sent() -> None:
    import hashlib

    from apins.stores.s3 import checked_etag

    md5 = hashlib.md5(b"sent").digest()
    other = hashlib.md5(b"stored").hexdigest()
    assert checked_etag(md5.hex(), md5, {}, "put") == f'"{md5.hex()}"'
    with pytest.raises(TransientError, match="damaged on the way"):
        checked_etag(f'"{other}"', md5, {"Content-Length": "0"}, "put")
    # encrypted objects' ETags need not be MD5s; multipart-style or odd ETags are no MD5s
    assert checked_etag(other, md5, {"x-amz-server-side-encryption": "aws:kms"}, "put")
    assert checked_etag(other, md5, {"X-Amz-Server-Side-Encryption": "AES256"}, "put")
    assert checked_etag(f'"{other}-2"', md5, {}, "put") == f'"{other}-2"'
    assert checked_etag("z" * 32, md5, {}, "put") == f'"{"z" * 32}"'
    with pytest.raises(TransferError, match="without an ETag"):
        checked_etag(None, md5, {}, "put")


async def test_with_retries_retries_transient_then_succeeds() -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise TransientError("boom")
        return "ok"

    assert await with_retries(flaky, settings=SETTINGS, what="x") == "ok"
    assert calls == 3


async def test_with_retries_gives_up_with_attempt_count() -> None:
    calls = 0

    async def always() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionResetError("reset")

    with pytest.raises(TransferError, match=r"fetching k failed after 4 attempts") as info:
        await with_retries(always, settings=SETTINGS, what="fetching k")
    assert calls == SETTINGS.retries + 1
    assert not isinstance(info.value, TransientError)


async def test_with_retries_does_not_retry_other_errors() -> None:
    calls = 0

    async def bad() -> None:
        nonlocal calls
        calls += 1
        raise ObjectNotFound("nope")

    with pytest.raises(ObjectNotFound):
        await with_retries(bad, settings=SETTINGS, what="x")
    assert calls == 1


def test_progress_aggregator_sums_transfers() -> None:
    seen: list[tuple[int, int | None]] = []
    agg = ProgressAggregator(lambda done, total: seen.append((done, total)))
    agg(ProgressEvent("a", 5, 10, "upload"))
    agg(ProgressEvent("b", 1, 4, "upload"))
    agg(ProgressEvent("a", 10, 10, "upload", finished=True))
    assert seen == [(5, 10), (6, 14), (11, 14)]
    assert agg.finished == {"a"}


def test_tqdm_progress_drives_a_bar() -> None:
    out = io.StringIO()
    callback = tqdm_progress("pin", file=out)
    callback(ProgressEvent("a", 4, 10, "download"))
    callback(ProgressEvent("b", 6, 6, "download", finished=True))
    callback(ProgressEvent("a", 10, 10, "download", finished=True))
    assert (callback.bar.n, callback.bar.total) == (16, 16)
    callback.close()
    assert "pin" in out.getvalue()


# --- store basics -----------------------------------------------------------------------------


async def test_put_head_read_and_ranges(store: S3Store) -> None:
    info = await store.put_bytes("p/v/data.txt", b"0123456789")
    assert info.size == 10 and info.etag and info.etag.startswith('"')
    head = await store.head("p/v/data.txt")
    assert (head.size, head.etag) == (10, info.etag)
    assert await read_all(store, "p/v/data.txt") == b"0123456789"
    stream = await store.open_read("p/v/data.txt", start=2, end=5)
    assert (stream.ranged, stream.start, stream.length, stream.info.size) == (True, 2, 3, 10)
    assert b"".join([c async for c in stream.chunks()]) == b"234"
    await stream.aclose()
    assert await read_all(store, "p/v/data.txt", start=7) == b"789"


async def test_keys_live_under_the_normalised_prefix(store: S3Store, server: S3Server) -> None:
    await store.put_bytes("pin/v1/data.txt", b"x")
    keys = [
        o["Key"] for o in server.boto3_client().list_objects_v2(Bucket=store.bucket)["Contents"]
    ]
    assert keys == ["board/sub/pin/v1/data.txt"]


async def test_list_and_list_dirs_past_1000_keys(store: S3Store) -> None:
    n = 1003
    limiter = anyio.CapacityLimiter(32)

    async def put(i: int) -> None:
        async with limiter:
            await store.put_bytes(f"many/{i:04d}/f", b"")

    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(put, i)
    await store.put_bytes("other/x/data.txt", b"y")

    listed = await store.list("many/")
    assert sorted(o.key for o in listed) == [f"many/{i:04d}/f" for i in range(n)]
    assert sorted(await store.list_dirs("many/")) == [f"{i:04d}" for i in range(n)]
    assert sorted(await store.list_dirs("")) == ["many", "other"]
    assert await store.list("absent/") == []


async def test_delete_many_ignores_missing_keys(store: S3Store) -> None:
    for k in ["a/1", "a/2", "b/1"]:
        await store.put_bytes(k, b"z")
    await store.delete_many(["a/1", "a/2", "never/was"])
    assert [o.key for o in await store.list("")] == ["b/1"]
    await store.delete_many([])


async def test_conditional_and_missing_reads(store: S3Store) -> None:
    info = await store.put_bytes("k", b"abcdef")
    with pytest.raises(NotModified) as nm:
        await store.open_read("k", if_none_match=info.etag)
    assert nm.value.key == "k"
    with pytest.raises(PreconditionFailed):
        await store.open_read("k", if_match='"00000000000000000000000000000000"')
    assert await read_all(store, "k", if_match=info.etag) == b"abcdef"
    with pytest.raises(RangeNotSatisfiable):
        await store.open_read("k", start=100, end=200)
    with pytest.raises(ObjectNotFound):
        await store.head("missing")
    with pytest.raises(ObjectNotFound):
        await store.open_read("missing")


# --- download -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 3 * MiB + 7, BIG])
async def test_download_matches_source(store: S3Store, tmp_path: Path, size: int) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(size))
    await store.put_file("f.bin", src)
    events: list[ProgressEvent] = []
    dest = tmp_path / "out.bin"
    result = await download(store, "f.bin", dest, settings=SETTINGS, progress=events.append)
    assert data(dest) == data(src)
    assert result.xxh64 == xxh(src)
    assert result.info.size == size
    assert events[-1].finished and events[-1].done == size == events[-1].total
    assert [e.done for e in events] == sorted(e.done for e in events)


class ReplacingStore(S3Store):
    """Replaces the object on the server just before the second ranged request goes out."""

    replaced = False

    async def open_read(self, key: str, **kw: Any) -> Any:
        if kw.get("start", 0) > 0 and not self.replaced:
            self.replaced = True
            await self.put_bytes(key, os.urandom(BIG))
        return await super().open_read(key, **kw)


async def test_object_replaced_mid_download_raises_object_changed(
    server: S3Server, big_file: Path, tmp_path: Path
) -> None:
    settings = replace(SETTINGS, max_concurrency=1)
    store = make_store(server, server.make_bucket(), ReplacingStore, settings=settings)
    try:
        await store.put_file("f.bin", big_file)
        dest = tmp_path / "out.bin"
        with pytest.raises(ObjectChanged):
            await download(store, "f.bin", dest, settings=settings)
        assert store.replaced
        assert not dest.exists()
    finally:
        await store.aclose()


class NoRangeStore(S3Store):
    """A store in front of a server that ignores Range headers (it sends the whole body)."""

    async def open_read(self, key: str, **kw: Any) -> Any:
        kw.pop("start", None)
        kw.pop("end", None)
        return await super().open_read(key, **kw)


async def test_download_falls_back_to_one_stream_when_ranges_are_ignored(
    seaweed: S3Server, big_file: Path, tmp_path: Path
) -> None:
    store = make_store(seaweed, seaweed.make_bucket(), NoRangeStore)
    try:
        await store.put_file("f.bin", big_file)
        result = await download(store, "f.bin", tmp_path / "out.bin", settings=SETTINGS)
        assert result.xxh64 == xxh(big_file)
        assert data(tmp_path / "out.bin") == data(big_file)
    finally:
        await store.aclose()


def _range_start(record: RequestRecord) -> int | None:
    value = record.range
    return int(value.removeprefix("bytes=").split("-")[0]) if value else None


class _CountingStream:
    """Passes a read stream through and sets ``event`` once ``limit`` bytes were consumed."""

    def __init__(self, inner: Any, limit: int, event: asyncio.Event) -> None:
        self._inner, self._limit, self._event = inner, limit, event
        self.info, self.start = inner.info, inner.start
        self.length, self.ranged = inner.length, inner.ranged

    async def chunks(self, chunk_size: int = 1 << 20) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._inner.chunks(chunk_size):
            yield chunk  # the engine has written it when it asks for the next one
            seen += len(chunk)
            if seen >= self._limit:
                self._event.set()

    async def aclose(self) -> None:
        self._event.set()
        await self._inner.aclose()


class ConsumptionSignallingStore(S3Store):
    """Signals when the engine has consumed ``limit`` bytes of the request at ``target``."""

    target = 0
    limit = 0
    consumed: asyncio.Event

    async def open_read(self, key: str, **kw: Any) -> Any:
        stream = await super().open_read(key, **kw)
        if kw.get("start", 0) == self.target and not self.consumed.is_set():
            return _CountingStream(stream, self.limit, self.consumed)
        return stream


@pytest.mark.parametrize("mode", ["ranged", "single", "lead"])
async def test_cut_connection_resumes_from_last_byte(
    seaweed: S3Server, big_file: Path, tmp_path: Path, mode: str
) -> None:
    bucket = seaweed.make_bucket()
    part = SETTINGS.part_size
    if mode == "ranged":  # cut the second part 3 MiB into its body
        settings, start, cut_at, end = SETTINGS, part, 3 * MiB, 2 * part
    elif mode == "single":  # one stream for the whole object, cut 11 MiB in
        settings, start, cut_at, end = TransferSettings(range_threshold=1 << 40), 0, 11 * MiB, BIG
    else:  # the adaptive first stream, a range of the whole object, cut 11 MiB in
        settings, start, cut_at, end = LEAD, 0, 11 * MiB, BIG
    consumed = asyncio.Event()
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        store = make_store(
            seaweed, bucket, ConsumptionSignallingStore, endpoint_url=proxy.url, settings=settings
        )
        store.target, store.limit, store.consumed = start, cut_at, consumed
        try:
            await store.put_file("f.bin", big_file)

            def is_target(r: RequestRecord) -> bool:
                return (
                    r.method == "GET"
                    and r.path.split("?")[0].endswith("/f.bin")
                    and _range_start(r) == (None if mode == "single" else start)
                )

            proxy.cut_once(is_target, cut_at, when=consumed)
            dest = tmp_path / "out.bin"
            result = await download(store, "f.bin", dest, settings=settings)
        finally:
            await store.aclose()
    assert data(dest) == data(big_file)
    assert result.xxh64 == xxh(big_file)
    [cut] = proxy.cuts
    assert cut.body_sent == cut_at
    gets = [r for r in proxy.requests if r.method == "GET"]
    # exactly one follow-up request, for the missing bytes only, up to the same end
    resumed = [r for r in gets if _range_start(r) == start + cut_at]
    assert len(resumed) == 1, [r.range for r in gets]
    suffix = "" if mode == "single" else str(end - 1)
    assert resumed[0].range == f"bytes={start + cut_at}-{suffix}"
    assert resumed[0].body_sent == end - start - cut_at
    assert len(gets) == (len(range(0, BIG, part)) + 1 if mode == "ranged" else 2)


async def test_fast_first_stream_carries_the_whole_object(
    seaweed: S3Server, big_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Above the range threshold, a first stream that keeps up is the only request: one
    ranged GET of the whole object, every byte hashed as it arrives, none read back."""
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        store = make_store(seaweed, seaweed.make_bucket(), endpoint_url=proxy.url, settings=LEAD)
        try:
            await store.put_file("f.bin", big_file)
            with caplog.at_level("DEBUG", logger="apins.download"):
                result = await download(store, "f.bin", tmp_path / "out.bin", settings=LEAD)
        finally:
            await store.aclose()
    assert data(tmp_path / "out.bin") == data(big_file)
    assert result.xxh64 == xxh(big_file)
    gets = [r for r in proxy.requests if r.method == "GET" and "/f.bin" in r.path]
    assert [r.range for r in gets] == [f"bytes=0-{BIG - 1}"]
    assert gets[0].headers.get("if-match") == result.info.etag
    assert f"{BIG} bytes, 0 read back" in caplog.text


async def test_slow_first_stream_is_joined_by_ranges(
    seaweed: S3Server, big_file: Path, tmp_path: Path
) -> None:
    """A first stream slower than ``split_below`` (here: it stalls for 0.6 s after 1 MiB)
    is joined by ranges for the spans it has not reached, one request each."""
    settings = replace(SETTINGS, split_below=100e6)
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        store = make_store(
            seaweed, seaweed.make_bucket(), endpoint_url=proxy.url, settings=settings
        )
        try:
            await store.put_file("f.bin", big_file)

            def lead(r: RequestRecord) -> bool:
                return r.method == "GET" and "/f.bin" in r.path and _range_start(r) == 0

            proxy.add(Fault("stall_body", match=lead, after=1 * MiB, seconds=0.6))
            result = await download(store, "f.bin", tmp_path / "out.bin", settings=settings)
        finally:
            await store.aclose()
    assert data(tmp_path / "out.bin") == data(big_file)
    assert result.xxh64 == xxh(big_file)
    gets = [r for r in proxy.requests if r.method == "GET" and "/f.bin" in r.path]
    part = settings.part_size
    assert gets[0].range == f"bytes=0-{BIG - 1}"
    assert sorted(r.range for r in gets[1:]) == sorted(
        f"bytes={s}-{min(s + part, BIG) - 1}" for s in range(part, BIG, part)
    )
    assert all(r.headers.get("if-match") == result.info.etag for r in gets)


# --- upload -----------------------------------------------------------------------------------


async def test_multipart_upload_above_threshold(
    store: S3Store, server: S3Server, big_file: Path, tmp_path: Path
) -> None:
    events: list[ProgressEvent] = []
    info = await store.put_file("up/big.bin", big_file, progress=events.append)
    assert info.size == BIG
    assert info.etag is not None and info.etag.endswith('-4"')
    assert events[-1].finished and events[-1].done == BIG
    result = await download(store, "up/big.bin", tmp_path / "back.bin", settings=SETTINGS)
    assert result.xxh64 == xxh(big_file)
    assert result.info.etag == info.etag


async def test_single_put_below_threshold_reports_progress(store: S3Store, tmp_path: Path) -> None:
    src = tmp_path / "small.bin"
    src.write_bytes(os.urandom(2 * MiB + 1))
    events: list[ProgressEvent] = []
    info = await upload_file(store, "s.bin", src, settings=SETTINGS, progress=events.append)
    assert info.etag is not None and "-" not in info.etag
    assert events[-1].finished and events[-1].done == src.stat().st_size
    assert await read_all(store, "s.bin") == data(src)


class BotocoreSignedStore(S3Store):
    """Signs every request through botocore, as a store does whose bucket URLs have a shape
    apins's signer does not know."""

    async def _url_signer(self) -> Any:
        return None


class PlainUploadStore(S3Store):
    """Creates its multipart uploads without part checksums, as for a server that does not
    take CRC32 checksums up."""

    async def create_multipart(self, key: str) -> str:
        r = await self._call("create_multipart_upload", key, Bucket=self.bucket, Key=self._k(key))
        return str(r["UploadId"])


@pytest.mark.parametrize("cls", [S3Store, BotocoreSignedStore, PlainUploadStore])
async def test_every_upload_body_carries_its_digest(
    server: S3Server, big_file: Path, tmp_path: Path, cls: type[S3Store]
) -> None:
    """Parts go with their CRC32 (x-amz-checksum-crc32) when the upload was created with
    part checksums, else with their Content-MD5, as single PUTs do (checks SeaweedFS and S3
    make), whichever signer signs them; apins's own signs the file body as UNSIGNED-PAYLOAD."""
    small = tmp_path / "small.bin"
    small.write_bytes(os.urandom(MiB + 7))
    bucket = server.make_bucket()
    async with FaultProxy(server.endpoint_url) as proxy:
        store = make_store(server, bucket, cls, endpoint_url=proxy.url)
        try:
            events: list[ProgressEvent] = []
            big = await store.put_file("up/big.bin", big_file)
            one = await store.put_file("up/small.bin", small, progress=events.append)
            assert events[-1].done == MiB + 7
        finally:
            await store.aclose()
    parts = [r for r in proxy.requests if r.method == "PUT" and "partNumber=" in r.path]
    (single,) = [r for r in proxy.requests if r.method == "PUT" and "partNumber=" not in r.path]
    assert len(parts) == 4
    assert single.headers.get("content-md5")
    if cls is PlainUploadStore:
        assert all(r.headers.get("content-md5") for r in parts)
    else:
        assert all(r.headers.get("x-amz-checksum-crc32") for r in parts)
        assert not any(r.headers.get("content-md5") for r in parts)
    unsigned = [r.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD" for r in [*parts, single]]
    assert unsigned == [cls is not BotocoreSignedStore] * 5
    back = make_store(server, bucket)
    try:
        assert await read_all(back, "up/big.bin") == data(big_file)
        assert await read_all(back, "up/small.bin") == data(small)
        assert (await back.head("up/big.bin")).etag == big.etag
        assert (await back.head("up/small.bin")).etag == one.etag
    finally:
        await back.aclose()


class FailingPartStore(S3Store):
    """Its upload of part 2 fails for good (a non-transient error)."""

    async def upload_part(
        self, key: str, upload_id: str, number: int, data: bytes | FileSpan
    ) -> str:
        if number == 2:
            raise StoreAccessError("part 2 refused")
        return await super().upload_part(key, upload_id, number, data)


class HangingPartStore(S3Store):
    """Part 2 never finishes: lets a test cancel an upload in flight."""

    started: anyio.Event

    async def upload_part(
        self, key: str, upload_id: str, number: int, data: bytes | FileSpan
    ) -> str:
        if number == 2:
            self.started.set()
            await anyio.sleep_forever()
        return await super().upload_part(key, upload_id, number, data)


def _uploads(server: S3Server, bucket: str) -> list[Any]:
    uploads: list[Any] = (
        server.boto3_client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    )
    return uploads


async def test_failed_multipart_upload_is_aborted(server: S3Server, big_file: Path) -> None:
    bucket = server.make_bucket()
    store = make_store(server, bucket, FailingPartStore)
    try:
        with pytest.raises(StoreAccessError, match="part 2"):
            await store.put_file("up/big.bin", big_file)
    finally:
        await store.aclose()
    assert _uploads(server, bucket) == []
    assert server.boto3_client().list_objects_v2(Bucket=bucket).get("KeyCount") == 0


async def test_cancelled_multipart_upload_is_aborted(server: S3Server, big_file: Path) -> None:
    bucket = server.make_bucket()
    store = make_store(server, bucket, HangingPartStore)
    store.started = anyio.Event()
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(store.put_file, "up/big.bin", big_file)
            await store.started.wait()
            tg.cancel_scope.cancel()
    finally:
        await store.aclose()
    assert _uploads(server, bucket) == []


# --- commit_version -------------------------------------------------------------------------------


class OrderRecordingStore(S3Store):
    """Records the order in which objects finish uploading; may fail one file."""

    fail_name: str | None = None

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.order: list[str] = []

    async def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        info = await super().put_bytes(key, data)
        self.order.append(key)
        return info

    async def put_file_single(self, key: str, path: Path, **kw: Any) -> ObjectInfo:
        if self.fail_name and key.endswith(self.fail_name):
            raise StoreAccessError(f"refusing {self.fail_name}")
        info = await super().put_file_single(key, path, **kw)
        self.order.append(key)
        return info


def _files(tmp_path: Path, names: list[str]) -> list[tuple[str, Path]]:
    out = []
    for name in names:
        p = tmp_path / name
        p.write_bytes(os.urandom(1000))
        out.append((name, p))
    return out


async def test_commit_version_writes_marker_last(server: S3Server, tmp_path: Path) -> None:
    store = make_store(server, server.make_bucket(), OrderRecordingStore)
    files = _files(tmp_path, ["a.csv", "b.csv", "c.csv"])
    try:
        await store.commit_version("pin/v1/", files, ("data.txt", b"file: a.csv\n"))
        assert store.order[-1] == "pin/v1/data.txt"
        assert sorted(store.order[:-1]) == ["pin/v1/a.csv", "pin/v1/b.csv", "pin/v1/c.csv"]
        assert sorted(o.key for o in await store.list("pin/v1/")) == sorted(store.order)
    finally:
        await store.aclose()


async def test_commit_version_failure_leaves_no_version(server: S3Server, tmp_path: Path) -> None:
    store = make_store(server, server.make_bucket(), OrderRecordingStore)
    store.fail_name = "b.csv"
    files = _files(tmp_path, ["a.csv", "b.csv", "c.csv"])
    try:
        with pytest.raises(StoreAccessError, match=r"b\.csv"):
            await store.commit_version("pin/v1/", files, ("data.txt", b"x: 1\n"))
        assert await store.list("pin/") == []
        assert "pin/v1/data.txt" not in store.order
    finally:
        await store.aclose()


# --- copy ---------------------------------------------------------------------------------------


async def test_copy_from_same_endpoint(server: S3Server, tmp_path: Path) -> None:
    src = make_store(server, server.make_bucket())
    dst = make_store(server, server.make_bucket())
    try:
        data = os.urandom(300_000)
        put = await src.put_bytes("pin/v/x.bin", data)
        info = await dst.copy_from(src, "pin/v/x.bin", "pin/v/x.bin")
        assert info is not None and info.size == len(data)
        assert info.etag == put.etag  # quoted on both servers (SeaweedFS sends it bare)
        assert await read_all(dst, "pin/v/x.bin") == data
    finally:
        await src.aclose()
        await dst.aclose()


async def test_copy_from_other_endpoint_returns_none(seaweed: S3Server, moto: S3Server) -> None:
    a = make_store(seaweed, "bucket-a")
    b = make_store(moto, "bucket-b")
    assert await b.copy_from(a, "k", "k") is None  # no I/O needed to decide


# --- credentials ---------------------------------------------------------------------------------


async def test_bad_credentials_raise_store_access_error(seaweed: S3Server) -> None:
    bucket = seaweed.make_bucket()
    secret = "wrong-secret-" + os.urandom(8).hex()
    store = make_store(seaweed, bucket, secret_key=secret)
    try:
        for call in (
            lambda: store.head("k"),
            lambda: store.list(""),
            lambda: store.put_bytes("k", b"x"),
        ):
            with pytest.raises(StoreAccessError) as info:
                await call()
            assert secret not in str(info.value)
            assert seaweed.secret_key not in str(info.value)
            assert "check the access key" in str(info.value)
        assert secret not in repr(store) and secret not in store.identity
    finally:
        await store.aclose()


async def test_anonymous_requests_are_refused_by_a_private_bucket(seaweed: S3Server) -> None:
    store = S3Store(
        seaweed.make_bucket(), endpoint_url=seaweed.endpoint_url, anonymous=True, settings=SETTINGS
    )
    try:
        with pytest.raises(StoreAccessError):
            await store.list("")
    finally:
        await store.aclose()
