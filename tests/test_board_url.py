"""board_url against real servers: nginx (ETag, ranges, 304), http.server (no ranges),
and tiny aiohttp servers started here to see which headers arrive where."""

from __future__ import annotations

import shutil
import uuid
import warnings
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest
from aiohttp import web

import apins
from apins import HashMismatch, InvalidMetadata, ReadOnlyBoard, UnsupportedType
from apins.settings import TransferSettings
from apins.stores._urls import resolve_inside
from tests.faultproxy import FaultProxy
from tests.servers import NginxServer, PlainHttpServer, S3Server, start_plain_http

KiB = 1024
MiB = 1024 * KiB
PIN_BOARD = Path(__import__("pins").__file__).parent / "tests" / "pin-board"
#: fast failure for tests that expect the server to be gone
FAST = TransferSettings(retries=0, connect_timeout=2.0, read_timeout=5.0)


def _fresh(root: Path) -> tuple[Path, str]:
    """A new folder under a served root and its URL path."""
    name = f"b-{uuid.uuid4().hex[:10]}"
    (root / name).mkdir()
    return root / name, f"/{name}"


def _blob(size: int, seed: int = 0) -> bytes:
    import random

    return random.Random(seed).randbytes(size)


async def _write_board(folder: Path) -> None:
    """Several pins and versions (table types, json, a file) plus _pins.yaml."""
    import pyarrow as pa

    table = pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    async with apins.board_folder(folder) as b:
        await b.pin_write(table, "tbl", type="parquet", created=_when(1))
        await b.pin_write(table.slice(0, 2), "tbl", type="parquet", created=_when(2))
        await b.pin_write(table, "as_csv", type="csv", created=_when(1))
        await b.pin_write(table, "as_arrow", type="arrow", created=_when(1))
        await b.pin_write({"k": [1, 2], "s": "v"}, "js", type="json", created=_when(1))
        await b.pin_write({"k": 3}, "js", type="json", created=_when(2))
        await b.pin_write({"k": 4}, "js", type="json", created=_when(3))
        raw = folder.parent / f"{folder.name}-upload.bin"
        raw.write_bytes(_blob(3000))
        await b.pin_upload(raw, "upload", created=_when(1))
        raw.unlink()
        await b.write_board_manifest()


def _bytes(path: str | Path) -> bytes:
    return Path(path).read_bytes()


def _find(root: Path, name: str) -> list[Path]:
    return list(root.rglob(name))


def _when(second: int) -> datetime:
    return datetime(2024, 5, 1, 12, 0, second, tzinfo=timezone.utc)


# -- (a) a board written by apins, read through its manifest ---------------------------------


async def test_apins_board_through_manifest(nginx: NginxServer, pins_cache_dir: Path) -> None:
    folder, path = _fresh(nginx.root)
    await _write_board(folder)
    async with apins.board_folder(folder) as ref, apins.board_url(nginx.url + path + "/") as b:
        assert await b.pin_list() == await ref.pin_list()
        assert await b.pin_exists("js") and not await b.pin_exists("nope")
        for name in await ref.pin_list():
            assert await b.pin_versions(name) == await ref.pin_versions(name)
            url_meta, ref_meta = await b.pin_meta(name), await ref.pin_meta(name)
            assert (url_meta.version, url_meta.pin_hash, url_meta.file) == (
                ref_meta.version,
                ref_meta.pin_hash,
                ref_meta.file,
            )
        for name in ("tbl", "as_csv", "as_arrow"):
            assert (await b.pin_read(name)).equals(await ref.pin_read(name))
        assert await b.pin_read("js") == {"k": 4}
        first = (await ref.pin_versions("js"))[0].version
        assert await b.pin_read("js", version=first) == {"k": [1, 2], "s": "v"}
        (got,) = await b.pin_download("upload")
        (want,) = await ref.pin_download("upload")
        assert _bytes(got) == _bytes(want)
        assert Path(got).is_relative_to(pins_cache_dir)
        with pytest.raises(UnsupportedType, match="pin_download"):
            await b.pin_read("upload")
        with pytest.raises(apins.PinNotFound):
            await b.pin_read("nope")
        with pytest.raises(apins.VersionNotFound):
            await b.pin_read("js", version="20000101T000000Z-00000")


# -- (b) a board written by pins-python -------------------------------------------------------


async def test_pins_python_board(nginx: NginxServer, pins_cache_dir: Path) -> None:
    import pandas as pd
    import pins

    folder, path = _fresh(nginx.root)
    df = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]})
    pb = pins.board_folder(str(folder))
    pb.pin_write(df, "df_csv", type="csv", created=datetime(2024, 1, 1, 0, 0, 1))
    pb.pin_write(df.head(2), "df_csv", type="csv", created=datetime(2024, 1, 1, 0, 0, 2))
    pb.pin_write({"a": 1}, "js", type="json", created=datetime(2024, 1, 1, 0, 0, 1))
    versions = [v.version for v in pb.pin_versions("df_csv", as_df=False)]
    js_version = pb.pin_versions("js", as_df=False)[0].version

    # dict form: a version folder per pin, and a list of version folders for a versioned pin
    base = nginx.url + path
    spec = {
        "df_csv": [f"{base}/df_csv/{v}/" for v in versions],
        "js": f"{base}/js/{js_version}/",
    }
    async with apins.board_url(spec) as b:
        assert await b.pin_list() == ["df_csv", "js"]
        assert [v.version for v in await b.pin_versions("df_csv")] == versions
        got = await b.pin_read("df_csv", output="pandas")
        pd.testing.assert_frame_equal(got, df.head(2), check_dtype=False)
        assert await b.pin_read("js") == {"a": 1}
        assert [v.version for v in await b.pin_versions("js")] == [js_version]

    # manifest form: apins writes _pins.yaml on the pins-python folder
    async with apins.board_folder(folder) as w:
        manifest = await w.write_board_manifest()
    assert manifest["df_csv"] == [f"df_csv/{v}/" for v in versions]
    async with apins.board_url(base + "/") as b:
        assert await b.pin_list() == ["df_csv", "js"]
        first = await b.pin_read("df_csv", version=versions[0], output="pandas")
        pd.testing.assert_frame_equal(first, df, check_dtype=False)
        assert await b.pin_read("js") == {"a": 1}
    # pins-python still lists the board correctly with our manifest in it
    assert sorted(pins.board_folder(str(folder)).pin_list()) == ["df_csv", "js"]


# -- (c) the R-written board with _pins.yaml ---------------------------------------------------


async def test_r_board_with_manifest(nginx: NginxServer, pins_cache_dir: Path) -> None:
    folder, path = _fresh(nginx.root)
    shutil.copytree(PIN_BOARD, folder, dirs_exist_ok=True)
    async with apins.board_url(nginx.url + path + "/") as b, apins.board_folder(PIN_BOARD) as ref:
        assert await b.pin_list() == ["x", "y"]
        assert [v.version for v in await b.pin_versions("y")] == [
            "20221215T180357Z-9ae7a",
            "20221215T180400Z-b81d5",
        ]
        assert await b.pin_read("x") == list(range(1, 11))
        assert await b.pin_read("y") == list(range(1, 21))  # the latest is the manifest's last
        old = await b.pin_read("y", version="20221215T180357Z-9ae7a")
        assert old == await ref.pin_read("y", version="20221215T180357Z-9ae7a")
        meta = await b.pin_meta("y", version="20221215T180357Z-9ae7a")
        assert meta.type == "rds" and meta.pin_hash == "9ae7a970010c84e0"


# -- ranges, and the fallback to one stream ----------------------------------------------------


async def _upload_board(folder: Path, data: bytes) -> None:
    async with apins.board_folder(folder) as w:
        src = folder.parent / f"{folder.name}.bin"
        src.write_bytes(data)
        await w.pin_upload(src, "big", created=_when(1))
        src.unlink()
        await w.write_board_manifest()


async def test_no_range_server_downloads_in_one_stream(
    plain_http: PlainHttpServer, pins_cache_dir: Path
) -> None:
    data = _blob(3 * MiB + 123, seed=7)
    folder, path = _fresh(plain_http.root)
    await _upload_board(folder, data)
    settings = TransferSettings(range_threshold=1 * MiB, part_size=256 * KiB)
    async with apins.board_url(plain_http.url + path + "/", settings=settings) as b:
        (got,) = await b.pin_download("big")
        assert _bytes(got) == data
        # no ETag here: Last-Modified revalidates the manifest (If-Modified-Since → 304)
        (again,) = await b.pin_download("big")
        assert again == got


async def test_ranges_with_if_range_on_nginx(nginx: NginxServer, pins_cache_dir: Path) -> None:
    data = _blob(3 * MiB + 123, seed=8)
    folder, path = _fresh(nginx.root)
    await _upload_board(folder, data)
    # ranges from the start (split_below=None), not only when the first stream is slow
    settings = TransferSettings(range_threshold=1 * MiB, part_size=512 * KiB, split_below=None)
    async with apins.board_url(nginx.url + path + "/", settings=settings) as b:
        (got,) = await b.pin_download("big")
    assert _bytes(got) == data
    nginx.mark(path)  # every request of the download is logged once the marker is
    gets = [e for e in nginx.log_entries(path + "/big/") if e.method == "GET" and e.range]
    assert len(gets) == 7  # ceil(3 MiB + 123 / 512 KiB)
    assert all(e.status == 206 and e.if_range and e.if_range.startswith('"') for e in gets)


async def test_fast_first_stream_is_the_only_request_on_nginx(
    nginx: NginxServer, pins_cache_dir: Path
) -> None:
    """Above the range threshold, a first stream that keeps up (on loopback: any floor of
    1 byte/s) carries the whole file: one GET for it, a range of the whole file."""
    data = _blob(3 * MiB + 123, seed=9)
    folder, path = _fresh(nginx.root)
    await _upload_board(folder, data)
    settings = TransferSettings(range_threshold=1 * MiB, part_size=512 * KiB, split_below=1.0)
    async with apins.board_url(nginx.url + path + "/", settings=settings) as b:
        (got,) = await b.pin_download("big")
    assert _bytes(got) == data
    nginx.mark(path)
    gets = [e for e in nginx.log_entries(path + "/big/") if e.method == "GET" and e.range]
    assert [(e.status, e.range, e.bytes_sent >= len(data)) for e in gets] == [
        (206, f"bytes=0-{len(data) - 1}", True)
    ]


async def test_file_replaced_mid_download_restarts(
    nginx: NginxServer, pins_cache_dir: Path
) -> None:
    """A cut download resumes guarded by If-Match/If-Range: a replaced file is fetched anew."""
    import asyncio

    folder, path = _fresh(nginx.root)
    target = folder / "live.bin"
    old, new = _blob(1 * MiB, seed=1), _blob(1 * MiB + 77, seed=2)
    target.write_bytes(old)
    cut_at = 256 * KiB
    released = asyncio.Event()

    def on_progress(ev: apins.ProgressEvent) -> None:
        # progress comes in 64 KiB steps that need not line up with the cut: the last
        # step before it is reported while the proxy holds the connection open
        if ev.done > cut_at - 64 * KiB and not released.is_set():
            target.write_bytes(new)  # the file changes while the client is mid-way
            released.set()

    settings = TransferSettings(retries=2, backoff_base=0.01, chunk_size=64 * KiB)
    async with FaultProxy(nginx.url) as proxy:
        proxy.cut_once(lambda r: r.path.endswith("/live.bin"), cut_at, when=released)
        url = f"{proxy.url}{path}/live.bin"
        async with apins.board_url({"live": url}, settings=settings) as b:
            (got,) = await b.pin_download("live", progress=on_progress)
    assert _bytes(got) == new
    assert len(proxy.cuts) == 1
    resumed = [r for r in proxy.requests if r.method == "GET" and r.range]
    assert resumed and all("if-range" in r.headers for r in resumed)


# -- revalidation -----------------------------------------------------------------------------


async def test_second_read_is_one_conditional_request(
    nginx: NginxServer, pins_cache_dir: Path
) -> None:
    folder, path = _fresh(nginx.root)
    await _write_board(folder)
    url = nginx.url + path + "/"
    async with apins.board_url(url) as b:
        assert await b.pin_read("js") == {"k": 4}
        before = nginx.mark(path)
        assert await b.pin_read("js") == {"k": 4}
        after = nginx.entries_since(path, before)
        closed = before + len(after) + 1  # entries_since's own closing marker
    assert len(after) == 1
    (entry,) = after
    assert entry.uri == path + "/_pins.yaml" and entry.status == 304 and entry.bytes_sent == 0
    assert entry.if_none_match

    # a new board object on the same cache, within max_age: no request at all
    async with apins.board_url(url, max_age=3600) as b:
        assert await b.pin_read("js") == {"k": 4}
        assert len(await b.pin_versions("tbl")) == 2
    assert nginx.entries_since(path, closed) == []


async def test_changed_manifest_is_picked_up(nginx: NginxServer, pins_cache_dir: Path) -> None:
    folder, path = _fresh(nginx.root)
    await _write_board(folder)
    async with apins.board_url(nginx.url + path + "/") as b:
        assert await b.pin_read("js") == {"k": 4}
        async with apins.board_folder(folder) as w:
            await w.pin_write({"k": 5}, "js", type="json", created=_when(4))
            await w.pin_write([1], "newpin", type="json", created=_when(1))
            await w.write_board_manifest()
        assert await b.pin_read("js") == {"k": 5}
        assert "newpin" in await b.pin_list()
        assert len(await b.pin_versions("js")) == 4


async def test_dict_folder_revalidates_data_txt(nginx: NginxServer, pins_cache_dir: Path) -> None:
    """A dict pin folder is mutable: data.txt is revalidated, files are keyed by pin_hash."""
    folder, path = _fresh(nginx.root)
    await _write_board(folder)
    versions = sorted(p for p in (folder / "js").iterdir())
    live = folder / "live"
    shutil.copytree(versions[0], live)
    async with apins.board_url({"js": nginx.url + path + "/live/"}) as b:
        assert await b.pin_read("js") == {"k": [1, 2], "s": "v"}
        (v1,) = await b.pin_versions("js")
        assert v1.version == versions[0].name
        before = nginx.mark(path + "/live/")
        assert await b.pin_read("js") == {"k": [1, 2], "s": "v"}
        again = nginx.entries_since(path + "/live/", before)
        assert [(e.uri, e.status) for e in again] == [(path + "/live/data.txt", 304)]
        # the folder now holds another version: new data.txt, new file
        shutil.rmtree(live)
        shutil.copytree(versions[-1], live)
        assert await b.pin_read("js") == {"k": 4}
        assert (await b.pin_versions("js"))[0].version == versions[-1].name


async def test_raw_file_pin(nginx: NginxServer, pins_cache_dir: Path) -> None:
    folder, path = _fresh(nginx.root)
    data = _blob(5000, seed=3)
    (folder / "report.bin").write_bytes(data)
    async with apins.board_url({"report": nginx.url + path + "/report.bin"}) as b:
        meta = await b.pin_meta("report")
        assert meta.type == "file" and meta.file == "report.bin"
        (got,) = await b.pin_download("report")
        assert _bytes(got) == data and Path(got).name == "report.bin"
        with pytest.raises(UnsupportedType, match="pin_download"):
            await b.pin_read("report")
        before = nginx.mark(path)
        assert (await b.pin_download("report"))[0] == got
        again = nginx.entries_since(path, before)
        assert [(e.method, e.status) for e in again] == [("HEAD", 304)]
        (folder / "report.bin").write_bytes(data[:100])
        (changed,) = await b.pin_download("report")
        assert _bytes(changed) == data[:100]


async def test_offline_serves_cache_with_warning(tmp_path: Path, pins_cache_dir: Path) -> None:
    root = tmp_path / "www"
    root.mkdir()
    await _write_board(root)
    server = start_plain_http(root)
    try:
        url = server.url + "/"
        async with apins.board_url(url, settings=FAST) as b:
            assert await b.pin_read("js") == {"k": 4}
    finally:
        server.stop()
    async with apins.board_url(url, settings=FAST) as b:
        with pytest.warns(RuntimeWarning, match="offline"):
            assert await b.pin_read("js") == {"k": 4}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(apins.PinsError):
                await b.pin_read("tbl")  # never cached: nothing to serve
    async with apins.board_url(url, settings=FAST, cache=tmp_path / "empty") as b:
        with pytest.raises(apins.OfflineError):
            await b.pin_list()


# -- headers and redirects --------------------------------------------------------------------


async def _recording_server(
    routes: Callable[[list[dict[str, str]]], web.Application],
) -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    runner = web.AppRunner(routes(seen))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


@pytest.fixture
async def other_origin() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A server on another port that serves /file.bin and records request headers."""

    def app(seen: list[dict[str, str]]) -> web.Application:
        async def file(request: web.Request) -> web.StreamResponse:
            seen.append(dict(request.headers))
            return web.Response(body=b"payload from elsewhere", headers={"ETag": '"e1"'})

        a = web.Application()
        a.router.add_route("*", "/file.bin", file)
        return a

    async for item in _recording_server(app):
        yield item


async def test_headers_only_to_own_origin(
    other_origin: tuple[str, list[dict[str, str]]], pins_cache_dir: Path
) -> None:
    elsewhere, seen_elsewhere = other_origin

    def app(seen: list[dict[str, str]]) -> web.Application:
        async def here(request: web.Request) -> web.StreamResponse:
            seen.append(dict(request.headers))
            return web.Response(body=b"payload here", headers={"ETag": '"h1"'})

        async def away(request: web.Request) -> web.StreamResponse:
            seen.append(dict(request.headers))
            raise web.HTTPFound(elsewhere + "/file.bin")

        async def hop(request: web.Request) -> web.StreamResponse:
            seen.append(dict(request.headers))
            raise web.HTTPFound("/here.bin")

        a = web.Application()
        a.router.add_route("*", "/here.bin", here)
        a.router.add_route("*", "/away.bin", away)
        a.router.add_route("*", "/hop.bin", hop)
        return a

    secret = "Bearer s3cret-token-value"
    async for own, seen_here in _recording_server(app):
        spec = {"here": own + "/hop.bin", "away": own + "/away.bin"}
        headers = {"Authorization": secret, "X-Team": "data"}
        async with apins.board_url(spec, headers=headers) as b:
            assert secret not in repr(b) and secret not in b.board_deparse()
            (p,) = await b.pin_download("here")
            assert _bytes(p) == b"payload here"
            (q,) = await b.pin_download("away")
            assert _bytes(q) == b"payload from elsewhere"
        assert seen_here and all(h.get("Authorization") == secret for h in seen_here)
        assert all(h.get("X-Team") == "data" for h in seen_here)
        assert seen_elsewhere
        assert all("Authorization" not in h and "X-Team" not in h for h in seen_elsewhere)


# -- refusing entries that leave the board ----------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    ["../outside/v1/", "x/../../v1/", "http://127.0.0.2:1/x/v/", "file:///etc/", "/elsewhere/v/"],
)
async def test_manifest_entries_outside_the_board_are_refused(
    nginx: NginxServer, pins_cache_dir: Path, entry: str
) -> None:
    folder, path = _fresh(nginx.root)
    (folder / "_pins.yaml").write_text(f"x:\n- {entry}\n")
    async with apins.board_url(nginx.url + path + "/") as b:
        with pytest.raises(InvalidMetadata):
            await b.pin_list()


async def test_external_entries_need_consent(
    nginx: NginxServer, plain_http: PlainHttpServer, pins_cache_dir: Path
) -> None:
    other, other_path = _fresh(plain_http.root)
    await _write_board(other)
    js = sorted(p.name for p in (other / "js").iterdir())[-1]
    folder, path = _fresh(nginx.root)
    (folder / "_pins.yaml").write_text(f"js:\n- {plain_http.url}{other_path}/js/{js}/\n")
    async with apins.board_url(nginx.url + path + "/") as b:
        with pytest.raises(InvalidMetadata, match="allow_external"):
            await b.pin_read("js")
    async with apins.board_url(nginx.url + path + "/", allow_external=True) as b:
        assert await b.pin_read("js") == {"k": 4}


async def test_data_txt_file_escaping_its_folder_is_refused(
    nginx: NginxServer, pins_cache_dir: Path
) -> None:
    folder, path = _fresh(nginx.root)
    v = folder / "x" / "20240101T000000Z-aaaaa"
    v.mkdir(parents=True)
    (v / "data.txt").write_text(
        "file: ../../secret.json\nfile_size: 2\npin_hash: aaaaaaaaaaaaaaaa\ntype: json\n"
        "title: x\ndescription: ~\ncreated: 20240101T000000Z\napi_version: 1\n"
    )
    (folder / "_pins.yaml").write_text("x:\n- x/20240101T000000Z-aaaaa/\n")
    async with apins.board_url(nginx.url + path + "/") as b:
        with pytest.raises(InvalidMetadata):
            await b.pin_read("x")


def test_resolve_inside_rules() -> None:
    base = "https://h.example/board/"
    assert resolve_inside(base, "x/v1/", what="t") == base + "x/v1/"
    assert resolve_inside(base, "my pin/v 1/", what="t") == base + "my%20pin/v%201/"
    assert resolve_inside(base, base + "x/v/", what="t") == base + "x/v/"
    bad_entries = [
        "../x/",
        "%2e%2e/x/",
        "https://h.example:444/board/x/",
        "http://h.example/board/x/",
        "//evil.example/board/x/",
        "ftp://h.example/board/x/",
        "/other/x/",
        "x?y=1#/../",
    ]
    for bad in bad_entries:
        with pytest.raises(InvalidMetadata):
            resolve_inside(base, bad, what="t")
    assert resolve_inside(base, "https://o.example/x/", allow_external=True, what="t")
    with pytest.raises(InvalidMetadata):
        resolve_inside(base, "file:///etc/", allow_external=True, what="t")


# -- read-only and corrupt files --------------------------------------------------------------


async def test_writes_raise_read_only(nginx: NginxServer, pins_cache_dir: Path) -> None:
    folder, path = _fresh(nginx.root)
    await _write_board(folder)
    src = folder.parent / f"{folder.name}.txt"
    src.write_text("hi")
    async with apins.board_url(nginx.url + path + "/") as b:
        before = nginx.mark(path)
        attempts = [
            b.pin_write({"a": 1}, "js", type="json"),
            b.pin_upload(src, "f"),
            b.pin_delete("js"),
            b.pin_version_delete("js", "v"),
            b.pin_versions_prune("js", n=1),
            b.write_board_manifest(),
        ]
        for coro in attempts:
            with pytest.raises(ReadOnlyBoard, match="read-only"):
                await coro
        assert nginx.entries_since(path, before) == []  # refused before any request
    from apins import sync

    sync_board = sync.board_url(nginx.url + path + "/")
    try:
        with pytest.raises(ReadOnlyBoard):
            sync_board.pin_write([1], "x", type="json")
        assert sync_board.pin_read("js") == {"k": 4}
    finally:
        sync_board.close()


async def test_corrupt_file_raises_and_caches_nothing(
    nginx: NginxServer, pins_cache_dir: Path
) -> None:
    folder, path = _fresh(nginx.root)
    data = _blob(4096, seed=5)
    await _upload_board(folder, data)
    (vdir,) = (folder / "big").iterdir()
    target = vdir / next(p.name for p in vdir.iterdir() if p.name != "data.txt")
    target.chmod(0o644)
    target.write_bytes(b"X" + data[1:])
    async with apins.board_url(nginx.url + path + "/") as b:
        with pytest.raises(HashMismatch):
            await b.pin_download("big")
        assert not _find(pins_cache_dir, target.name)
        target.write_bytes(data)
        (got,) = await b.pin_download("big")
        assert _bytes(got) == data


def test_board_url_arguments() -> None:
    with pytest.raises(ValueError, match="http"):
        apins.board_url("ftp://example.org/board/")
    with pytest.raises(ValueError):
        apins.board_url({})
    with pytest.raises(apins.InvalidPinName):
        apins.board_url({"a/b": "http://example.org/x/"})
    b = apins.board_url("http://u:pw@example.org/b/?token=abc", headers={"Authorization": "t"})
    assert "pw" not in b.board_deparse() and "abc" not in b.board_deparse()
    assert "'***'" in b.board_deparse()


async def test_s3_board_manifest_read_over_http(moto: S3Server, pins_cache_dir: Path) -> None:
    """write_board_manifest on an S3 board yields a board_url-readable bucket (public objects)."""
    bucket = moto.make_bucket("url")
    s3 = moto.board(f"{bucket}/team", cache=pins_cache_dir / "s3")
    async with s3:
        await s3.pin_write({"v": 1}, "js", type="json", created=_when(1))
        await s3.pin_write({"v": 2}, "js", type="json", created=_when(2))
        await s3.pin_upload(Path(__file__), "src", created=_when(1))
        manifest = await s3.write_board_manifest()
        assert await s3.pin_list() == ["js", "src"]  # the manifest is not a pin
    client = moto.boto3_client()
    for obj in client.list_objects_v2(Bucket=bucket)["Contents"]:
        client.put_object_acl(Bucket=bucket, Key=obj["Key"], ACL="public-read")
    async with apins.board_url(f"{moto.endpoint_url}/{bucket}/team/") as b:
        assert await b.pin_list() == sorted(manifest)
        assert [f"js/{v.version}/" for v in await b.pin_versions("js")] == manifest["js"]
        assert await b.pin_read("js") == {"v": 2}
        (src,) = await b.pin_download("src")
        assert _bytes(src) == _bytes(__file__)
