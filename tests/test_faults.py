"""The fault suite: every wire fault x every board kind (tests/boards.py), through the proxy.

For each case: the verb succeeds with the right bytes or raises one PinsError subclass;
never a wrong byte; no unverified or torn file in the cache; no hang past the configured
timeouts (each case runs under a deadline); attempts are counted at the proxy; 4xx other than
408/429 is never retried; Retry-After is honoured. Writes whose answer is lost after the
server applied them are not repeated blindly (S3: HEAD / ListParts; Connect: the bundle is
found by its content, the deploy by the active bundle).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import anyio
import pytest

from apins import TransferSettings
from apins.errors import HashMismatch, ObjectChanged, PinsError, StoreAccessError
from apins.stores.gcs import PART_SUFFIX
from tests.boards import KINDS, OBJECT_KINDS, Rig, seed
from tests.faultproxy import Fault, FaultProxy, RequestRecord, s3_error

KiB, MiB = 1024, 1024 * 1024
DATA = random.Random(7).randbytes(96 * KiB)
#: small objects, small ranges, short timeouts: the whole suite stays fast
FAST = TransferSettings(
    range_threshold=32 * KiB,
    part_size=16 * KiB,
    chunk_size=8 * KiB,
    max_concurrency=4,
    retries=5,
    backoff_base=0.02,
    backoff_max=0.2,
    retry_after_max=2.0,
    connect_timeout=2.0,
    read_timeout=1.0,
)
#: a verb that takes longer than this has hung
CASE_DEADLINE = 30.0


@pytest.fixture(params=sorted(KINDS))
async def rig(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Rig]:
    async with KINDS[request.param](request, tmp_path) as r:
        yield r


@pytest.fixture(params=OBJECT_KINDS)
async def object_rig(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Rig]:
    """Every kind but Connect (see tests.boards.OBJECT_KINDS)."""
    async with KINDS[request.param](request, tmp_path) as r:
        yield r


def file_path(filename: str) -> str:
    return rf"/{re.escape(filename)}(\?|$)"


def check_cache(cache: Path, filename: str, good: bytes) -> None:
    """Every committed copy of the file holds exactly ``good``; no temp file is left."""
    if not cache.exists():
        return
    for p in cache.rglob("*"):
        if not p.is_file():
            continue
        assert p.parent.name != ".tmp", f"temp file left in the cache: {p}"
        assert not p.name.endswith(".tmp"), f"temp file left in the cache: {p}"
        if p.name == filename:
            assert p.read_bytes() == good, f"wrong bytes cached at {p}"


# -- reads ---------------------------------------------------------------------------------------


@dataclass
class ReadCase:
    faults: Callable[[str], list[Fault]]
    #: "ok": must succeed; "error": must raise a PinsError; "either"
    expect: str = "ok"
    #: the least time the case must take (e.g. a Retry-After waited out)
    min_seconds: float = 0.0
    #: exactly this many attempts of the faulted request
    attempts: int | None = None


def _on_data(kind: str, **opts: object) -> Callable[[str], list[Fault]]:
    return lambda f: [Fault(kind, "GET", file_path(f), **opts)]  # type: ignore[arg-type]


def _burst(f: str) -> list[Fault]:
    return [
        Fault("status", "GET", file_path(f), nth=i, status=s)
        for i, s in enumerate((408, 500, 502, 503, 504), 1)
    ]


def _slowdown(f: str) -> list[Fault]:
    fault = s3_error("SlowDown")
    fault.method, fault.path, fault.count = "GET", file_path(f), 2
    return [fault]


READS: dict[str, ReadCase] = {
    "reset-mid-body": ReadCase(_on_data("reset", after=5000)),
    "close-mid-body": ReadCase(_on_data("close", after=5000)),
    "short-body": ReadCase(_on_data("short")),
    "retryable-burst": ReadCase(_burst),
    "slowdown": ReadCase(_slowdown),
    "429-retry-after": ReadCase(
        _on_data("status", status=429, headers={"Retry-After": "1"}), min_seconds=1.0
    ),
    "503-retry-after": ReadCase(
        _on_data("status", status=503, headers={"Retry-After": "1"}), min_seconds=1.0
    ),
    "stall-head": ReadCase(_on_data("stall_head"), min_seconds=FAST.read_timeout),
    "stall-body": ReadCase(_on_data("stall_body", after=5000), min_seconds=FAST.read_timeout),
    "503-forever": ReadCase(_on_data("status", status=503, count=None), expect="error"),
    "403": ReadCase(_on_data("status", status=403, count=None), expect="error", attempts=1),
}


@pytest.mark.parametrize("case", sorted(READS))
async def test_read_fault(rig: Rig, tmp_path: Path, case: str) -> None:
    spec = READS[case]
    _, filename = await seed(rig, tmp_path, DATA)
    cache = tmp_path / "cache"
    async with FaultProxy(rig.upstream) as proxy:
        faults = [proxy.add(f) for f in spec.faults(filename)]
        start = time.monotonic()
        outcome: list[str] | PinsError
        with anyio.fail_after(CASE_DEADLINE):
            async with rig.board(proxy.url, FAST, cache) as b:
                try:
                    outcome = await b.pin_download("blob")
                except PinsError as e:
                    outcome = e
        elapsed = time.monotonic() - start
    seen = faults[0].seen
    result = type(outcome).__name__ if isinstance(outcome, PinsError) else "ok"
    print(f"MATRIX read {case}: {result}, {seen} attempts, {elapsed:.1f} s")  # -s shows it
    assert faults[0].fired >= 1, "the fault was never injected"
    if isinstance(outcome, PinsError):
        assert spec.expect in ("error", "either"), f"{case}: {type(outcome).__name__}: {outcome}"
    else:
        assert spec.expect in ("ok", "either"), f"{case}: succeeded"
        assert Path(outcome[0]).read_bytes() == DATA
    if spec.attempts is not None:
        assert seen == spec.attempts, f"{case}: {seen} attempts"
    assert elapsed >= spec.min_seconds * 0.9, elapsed
    check_cache(cache, filename, DATA)


#: what a download raises when its object is replaced between two ranges: object stores pin
#: the ETag / generation first seen (docs/transfers.md); a URL board starts over with the new
#: bytes (If-Range), which then fail the pin's hash (docs/url.md)
REPLACED_RAISES: dict[str, type[PinsError]] = {"url-nginx": HashMismatch}


async def test_object_replaced_mid_download(
    object_rig: Rig, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The object is rewritten upstream between two ranges: the download raises the kind's
    error (never a mix of old and new bytes), and nothing is cached."""
    version, filename = await seed(object_rig, tmp_path, DATA)
    other = random.Random(8).randbytes(len(DATA))
    cache = tmp_path / "cache"
    expected = REPLACED_RAISES.get(request.node.callspec.params["object_rig"], ObjectChanged)

    async def rewrite(_: RequestRecord) -> None:
        assert object_rig.replace is not None
        await object_rig.replace("blob", version, filename, other)

    s = TransferSettings(**{**_fields(FAST), "max_concurrency": 1})
    async with FaultProxy(object_rig.upstream) as proxy:
        hook = proxy.add(Fault("hook", "GET", file_path(filename), nth=2, hook=rewrite))
        with anyio.fail_after(CASE_DEADLINE):
            async with object_rig.board(proxy.url, s, cache) as b:
                with pytest.raises(PinsError) as info:
                    await b.pin_download("blob")
    print(f"MATRIX replaced: {type(info.value).__name__}")
    assert hook.fired == 1, "the object was never replaced mid-download"
    assert type(info.value) is expected, f"{type(info.value).__name__}: {info.value}"
    check_cache(cache, filename, DATA)
    assert not cache.exists() or not [p for p in cache.rglob(filename) if p.is_file()]


@pytest.mark.parametrize("mode", ["one-stream", "ranges"])
async def test_corrupt_byte_on_the_wire_is_refused(
    object_rig: Rig, tmp_path: Path, mode: str
) -> None:
    """One byte inverted in transit (the length and headers intact): the download's hash,
    computed from bytes as they arrive (never read back for an in-order stream), refuses it
    with HashMismatch, and nothing is cached."""
    _, filename = await seed(object_rig, tmp_path, DATA)
    cache = tmp_path / "cache"
    if mode == "one-stream":  # the first stream carries the whole object; flip a byte late
        s, flip = FAST, Fault("corrupt", "GET", file_path(filename), count=None, after=70_000)
    else:  # ranges from the start; flip a byte of the third range (bytes 32-48 KiB)
        s = TransferSettings(**{**_fields(FAST), "split_below": None})

        def third_range(r: RequestRecord) -> bool:
            return bool(re.search(file_path(filename), unquote(r.path))) and (
                (r.range or "").startswith(f"bytes={32 * KiB}-")
            )

        flip = Fault("corrupt", count=None, match=third_range, after=100)
    async with FaultProxy(object_rig.upstream) as proxy:
        proxy.add(flip)
        with anyio.fail_after(CASE_DEADLINE):
            async with object_rig.board(proxy.url, s, cache) as b:
                with pytest.raises(HashMismatch):
                    await b.pin_download("blob")
    assert flip.fired >= 1
    check_cache(cache, filename, DATA)
    cached = [p for p in cache.rglob(filename) if p.is_file()] if cache.exists() else []
    assert cached == []


def _fields(s: TransferSettings) -> dict[str, object]:
    return {f: getattr(s, f) for f in s.__dataclass_fields__}


# -- writes ----------------------------------------------------------------------------------------

MULTI = TransferSettings(
    **{**_fields(FAST), "multipart_threshold": 5 * MiB, "part_size": 5 * MiB, "read_timeout": 5}
)
BIG = random.Random(9).randbytes(5 * MiB + 1000)


@dataclass
class WriteCase:
    kinds: tuple[str, ...]
    #: method and path regex of the faulted request
    method: str
    path: str
    fault: str = "lost"
    data: bytes = DATA
    settings: TransferSettings = FAST
    opts: dict[str, object] | None = None


S3 = ("s3-seaweed", "s3-moto")
GCS = ("gcs-fakegcs",)
WRITES: dict[str, WriteCase] = {
    "lost-put-data.txt": WriteCase(S3, "PUT", r"/data\.txt(\?|$)"),
    "lost-put-file": WriteCase(S3, "PUT", r"/blob\.bin(\?|$)"),
    "lost-upload-part": WriteCase(S3, "PUT", r"[?&]partNumber=1(&|$)", data=BIG, settings=MULTI),
    "lost-complete-multipart": WriteCase(
        S3, "POST", r"/blob\.bin\?uploadId=", data=BIG, settings=MULTI
    ),
    "503-burst-put": WriteCase(
        (*S3, "azure-azurite"), "PUT", r"/blob\.bin(\?|$)", fault="status", opts={"count": 3}
    ),
    # Azure writes are idempotent (same bytes, same key, fixed block ids): retried as they are;
    # one 5 MiB block, so that every matching request is the faulted one
    "503-burst-put-block": WriteCase(
        ("azure-azurite",),
        "PUT",
        r"[?&]comp=block&",
        data=BIG[: 5 * MiB],
        settings=MULTI,
        fault="status",
        opts={"count": 3},
    ),
    "503-burst-put-block-list": WriteCase(
        ("azure-azurite",),
        "PUT",
        r"[?&]comp=blocklist",
        data=BIG,
        settings=MULTI,
        fault="status",
        opts={"count": 3},
    ),
    # GCS uploads are POSTs naming the object in the query (matched percent-decoded)
    "gcs-lost-put-data.txt": WriteCase(GCS, "POST", r"/data\.txt$"),
    "gcs-lost-put-file": WriteCase(GCS, "POST", r"/blob\.bin$"),
    "gcs-lost-upload-part": WriteCase(
        GCS, "POST", r"/blob\.bin\.\w+-00001\.apins-part$", data=BIG, settings=MULTI
    ),
    # compose joins the parts into the object: its answer lost, the object is looked up
    "gcs-lost-compose": WriteCase(GCS, "POST", r"/blob\.bin/compose$", data=BIG, settings=MULTI),
    "lost-bundle-upload": WriteCase(("connect",), "POST", r"/bundles$"),
    "lost-deploy": WriteCase(("connect",), "POST", r"/deploy$"),
    "503-burst-bundle-upload": WriteCase(
        ("connect",), "POST", r"/bundles$", fault="status", opts={"count": 3}
    ),
}


@pytest.mark.parametrize(
    ("rig", "case"),
    [(kind, case) for case in sorted(WRITES) for kind in WRITES[case].kinds],
    indirect=["rig"],
)
async def test_write_fault(rig: Rig, tmp_path: Path, case: str) -> None:
    spec = WRITES[case]
    src = tmp_path / "blob.bin"
    src.write_bytes(spec.data)
    async with FaultProxy(rig.upstream) as proxy:
        fault = proxy.add(Fault(spec.fault, spec.method, spec.path, **(spec.opts or {})))  # type: ignore[arg-type]
        with anyio.fail_after(CASE_DEADLINE):
            async with rig.board(proxy.url, spec.settings, tmp_path / "cache") as b:
                await b.pin_upload(str(src), "blob")
        assert fault.fired >= 1, "the fault was never injected"
        print(f"MATRIX write {case}: ok, sent {fault.seen} times")
        if spec.fault == "lost":  # the write took effect: it is never sent again
            assert fault.seen == 1, f"{case}: sent {fault.seen} times"
        else:
            assert fault.seen == fault.fired + 1
    await check_committed(rig, spec.data, peer=False)
    if rig.connect is not None:  # no orphan bundle: exactly one, and it is active
        bundles = await _bundles(rig)
        assert [b["active"] for b in bundles] == [True], bundles


# -- every fault on the write path of every writable kind ------------------------------------

#: the request that carries the pin's file (96 KiB: one request) on each writable kind
FILE_WRITE = {
    "s3-seaweed": ("PUT", r"/blob\.bin(\?|$)"),
    "s3-moto": ("PUT", r"/blob\.bin(\?|$)"),
    "azure-azurite": ("PUT", r"/blob\.bin(\?|$)"),
    "gcs-fakegcs": ("POST", r"/blob\.bin$"),
    "connect": ("POST", r"/bundles$"),
}
#: a writing verb that takes longer than this has hung (each case also has CASE_DEADLINE)
WRITE_DEADLINE = 20.0
WFAST = TransferSettings(**{**_fields(FAST), "deadline": WRITE_DEADLINE})


@dataclass
class WriteFault:
    faults: Callable[[str, str], list[Fault]]
    #: None: the write must succeed; else the PinsError subclass it must raise
    raises: type[PinsError] | None = None
    #: the faulted request is sent exactly this many times (None: not counted exactly)
    attempts: int | None = None
    #: at least this many (a stalled request may or may not be sent again)
    min_attempts: int = 1
    #: the least time the case must take (a Retry-After waited out)
    min_seconds: float = 0.0
    #: also ask pins-python 0.9.2 what it sees (always done when the write fails)
    peer: bool = False


def _one(kind: str, **opts: object) -> Callable[[str, str], list[Fault]]:
    return lambda method, path: [Fault(kind, method, path, **opts)]  # type: ignore[arg-type]


def _retryable_burst(method: str, path: str) -> list[Fault]:
    return [
        Fault("status", method, path, nth=i, status=s)
        for i, s in enumerate((408, 500, 502, 503, 504), 1)
    ]


def _retry_after(method: str, path: str) -> list[Fault]:
    wait = {"Retry-After": "1"}  # far above FAST's backoff: only waiting it out gets through
    return [
        Fault("status", method, path, nth=1, status=429, headers=wait),
        Fault("status", method, path, nth=2, status=503, headers=wait),
    ]


WRITE_FAULTS: dict[str, WriteFault] = {
    # 408, then each retryable 5xx once: five answers waited out, the sixth attempt lands
    "retryable-burst": WriteFault(_retryable_burst, attempts=6),
    # 429 then 503, each with Retry-After: 1
    "429-503-retry-after": WriteFault(_retry_after, attempts=3, min_seconds=2.0),
    # the server gets the head and 20 kB of the body, then end of stream; the client a reset
    "reset-mid-upload": WriteFault(_one("torn", after=20_000), attempts=2, peer=True),
    # the proxy stops reading after 20 kB for longer than the read timeout, then goes on: the
    # writer gives up on that attempt and looks before it sends again (the late rest may land)
    "stall-mid-upload": WriteFault(
        _one("stall_send", after=20_000, seconds=3 * FAST.read_timeout), min_attempts=1
    ),
    # refused: never sent again, nothing committed
    "403": WriteFault(_one("status", status=403, count=None), StoreAccessError, attempts=1),
}


@pytest.mark.parametrize(
    ("rig", "case"),
    [(kind, case) for case in sorted(WRITE_FAULTS) for kind in sorted(FILE_WRITE)],
    indirect=["rig"],
)
async def test_write_path_fault(
    rig: Rig, request: pytest.FixtureRequest, tmp_path: Path, case: str
) -> None:
    """The pin's file upload meets the fault: the write lands exactly one version whose bytes
    read back equal (in apins and in pins-python 0.9.2), or raises the one expected PinsError
    with no version visible to either; never past the verb's deadline."""
    spec = WRITE_FAULTS[case]
    method, path = FILE_WRITE[request.node.callspec.params["rig"]]
    src = tmp_path / "blob.bin"
    src.write_bytes(DATA)
    outcome: PinsError | None = None
    async with FaultProxy(rig.upstream) as proxy:
        faults = [proxy.add(f) for f in spec.faults(method, path)]
        start = time.monotonic()
        with anyio.fail_after(CASE_DEADLINE):
            async with rig.board(proxy.url, WFAST, tmp_path / "cache") as b:
                try:
                    await b.pin_upload(str(src), "blob")
                except PinsError as e:
                    outcome = e
        elapsed = time.monotonic() - start
    seen = faults[0].seen
    result = "ok" if outcome is None else type(outcome).__name__
    print(f"MATRIX write {case}: {result}, sent {seen} times, {elapsed:.1f} s")  # -s shows it
    assert faults[0].fired >= 1, "the fault was never injected"
    if spec.raises is None:
        assert outcome is None, f"{case}: {type(outcome).__name__}: {outcome}"
    else:
        assert isinstance(outcome, spec.raises), f"{case}: {outcome!r}"
    if spec.attempts is not None:
        assert seen == spec.attempts, f"{case}: sent {seen} times"
    assert seen >= spec.min_attempts, seen
    assert spec.min_seconds * 0.9 <= elapsed < WRITE_DEADLINE, elapsed
    await check_committed(rig, None if outcome is not None else DATA, peer=spec.peer)


async def check_committed(rig: Rig, data: bytes | None, *, peer: bool = True) -> None:
    """With ``data``: exactly one version of "blob", holding ``data`` (as pins-python sees it
    too, with ``peer``). None: no version at all, for pins-python either. Never an
    unfinished upload left behind."""
    async with rig.direct() as d:
        if data is None:
            assert await d.pin_list() == []
        else:
            assert len(await d.pin_versions("blob")) == 1
            (got,) = await d.pin_download("blob")
            assert Path(got).read_bytes() == data
    if rig.peer is not None and (peer or data is None):
        await anyio.to_thread.run_sync(_peer_sees, rig, data)
    if rig.s3 is not None:
        uploads = rig.s3.boto3_client().list_multipart_uploads(Bucket=rig.bucket)
        assert not uploads.get("Uploads"), uploads
    if rig.objects is not None:  # no temporary part object of a composite upload remains
        assert not [n for n in rig.objects() if n.endswith(PART_SUFFIX)]


def _peer_sees(rig: Rig, data: bytes | None) -> None:
    assert rig.peer is not None
    peer, name = rig.peer(), rig.peer_name("blob")
    if data is None:
        assert not peer.pin_exists(name) or len(peer.pin_versions(name)) == 0
        return
    assert len(peer.pin_versions(name)) == 1
    (got,) = peer.pin_download(name)
    assert Path(got).read_bytes() == data


#: S3 uploads whose request body gets one byte flipped on the way:
#: (request path, settings, data, offset of the flipped byte in that body)
GARBLED: dict[str, tuple[str, TransferSettings, bytes, int]] = {
    "put-file": (r"/blob\.bin(\?|$)", FAST, DATA, len(DATA) // 2),
    "upload-part": (r"[?&]partNumber=1(&|$)", MULTI, BIG, MiB),
    "upload-last-part": (r"[?&]partNumber=2(&|$)", MULTI, BIG, 999),
    "put-data.txt": (r"/data\.txt(\?|$)", FAST, DATA, 40),
}


@pytest.mark.parametrize("rig", S3, indirect=True)
@pytest.mark.parametrize("case", sorted(GARBLED))
async def test_garbled_upload_is_sent_again(rig: Rig, tmp_path: Path, case: str) -> None:
    """An upload body damaged on the wire is never kept: the server refuses it (its
    Content-MD5 does not match) or the client sees the stored part's ETag is not the MD5 it
    sent (moto checks nothing); the write is sent again and the pin holds the right bytes."""
    path, settings, data, offset = GARBLED[case]
    src = tmp_path / "blob.bin"
    src.write_bytes(data)
    async with FaultProxy(rig.upstream) as proxy:
        fault = proxy.add(Fault("garble", "PUT", path, after=offset))
        with anyio.fail_after(CASE_DEADLINE):
            async with rig.board(proxy.url, settings, tmp_path / "cache") as b:
                await b.pin_upload(str(src), "blob")
        assert fault.fired == 1
        assert fault.seen == 2, f"{case}: sent {fault.seen} times"
    async with rig.direct() as d:
        (got,) = await d.pin_download("blob")
        assert Path(got).read_bytes() == data
    uploads = rig.s3.boto3_client().list_multipart_uploads(Bucket=rig.bucket)
    assert not uploads.get("Uploads"), uploads


@pytest.mark.parametrize("rig", S3, indirect=True)
@pytest.mark.parametrize("case", ["put-file", "upload-part"])
async def test_garbled_upload_every_time_commits_nothing(
    rig: Rig, tmp_path: Path, case: str
) -> None:
    """A body damaged on every attempt: pin_upload raises one PinsError after its retries,
    no version is visible and no multipart upload is left open."""
    path, settings, data, offset = GARBLED[case]
    src = tmp_path / "blob.bin"
    src.write_bytes(data)
    async with FaultProxy(rig.upstream) as proxy:
        fault = proxy.add(Fault("garble", "PUT", path, count=None, after=offset))
        with anyio.fail_after(CASE_DEADLINE):
            async with rig.board(proxy.url, settings, tmp_path / "cache") as b:
                with pytest.raises(PinsError):
                    await b.pin_upload(str(src), "blob")
        assert fault.fired == settings.retries + 1
    async with rig.direct() as d:
        assert not await d.pin_exists("blob")
    uploads = rig.s3.boto3_client().list_multipart_uploads(Bucket=rig.bucket)
    assert not uploads.get("Uploads"), uploads


async def _bundles(rig: Rig) -> list[dict[str, object]]:
    from tests.connect_support import api

    items = await api(rig.connect.url, "key-a", "GET", "v1/content?name=blob")
    (item,) = items
    result: list[dict[str, object]] = await api(
        rig.connect.url, "key-a", "GET", f"v1/content/{item['guid']}/bundles"
    )
    return result


async def test_orphan_bundle_never_breaks_reads(tmp_path: Path) -> None:
    """An inactive bundle left by a crash between upload and deploy (no readable pin in it)
    is skipped by pin_versions; pin_read and pin_versions keep working."""
    import gzip
    import io
    import tarfile

    from apins.connect import board_connect
    from apins.testing.connect import ConnectEmulator
    from tests.connect_support import api

    async with (
        ConnectEmulator(root=tmp_path / "connect", users={"alice": "key-a"}) as server,
        board_connect(server.url, "key-a", cache=tmp_path / "cache") as b,
    ):
        await b.pin_write({"n": 1}, "jsn", type="json")
        (good,) = await b.pin_versions("jsn")
        guid = (await api(server.url, "key-a", "GET", "v1/content?name=jsn"))[0]["guid"]
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w") as tar:
            info = tarfile.TarInfo("index.html")
            info.size = 2
            tar.addfile(info, io.BytesIO(b"hi"))
        import aiohttp

        async with (
            aiohttp.ClientSession() as s,
            s.post(
                f"{server.url}/__api__/v1/content/{guid}/bundles",
                data=gzip.compress(raw.getvalue()),
                headers={"Authorization": "Key key-a"},
            ) as r,
        ):
            assert r.status < 400
        versions = await b.pin_versions("jsn")
        assert [v.version for v in versions] == [good.version]
        assert await b.pin_read("jsn") == {"n": 1}
        for v in versions:
            await b.pin_meta("jsn", v.version)


# -- a writer that died mid-request ------------------------------------------------------------

#: the data.txt write of each object store, as the proxy sees it (GCS names it in the query)
DATA_TXT_WRITE = {
    "s3-seaweed": ("PUT", r"/data\.txt(\?|$)"),
    "s3-moto": ("PUT", r"/data\.txt(\?|$)"),
    "azure-azurite": ("PUT", r"/data\.txt(\?|$)"),
    "gcs-fakegcs": ("POST", r"/data\.txt$"),
}


@pytest.mark.parametrize("rig", sorted(DATA_TXT_WRITE), indirect=True)
@pytest.mark.parametrize("kept", [0, 40])
async def test_torn_data_txt_never_becomes_visible(
    rig: Rig, request: pytest.FixtureRequest, tmp_path: Path, kept: int
) -> None:
    """Every data.txt PUT reaches the server without its body (or with 40 bytes of it), as
    when the writer is killed mid-request: the server must refuse it (the body's MD5 is sent
    with it), so the write fails and no version (an empty or cut data.txt) becomes visible."""
    method, path = DATA_TXT_WRITE[request.node.callspec.params["rig"]]
    src = tmp_path / "blob.bin"
    src.write_bytes(DATA)
    async with FaultProxy(rig.upstream) as proxy:
        fault = proxy.add(Fault("torn", method, path, count=None, after=kept))
        with anyio.fail_after(CASE_DEADLINE):
            async with rig.board(proxy.url, FAST, tmp_path / "cache") as b:
                with pytest.raises(PinsError):
                    await b.pin_upload(str(src), "blob")
        assert fault.fired >= 1, "the fault was never injected"
    async with rig.direct() as d:
        assert await d.pin_list() == []
