"""board_azure end to end on a real Azurite (signed requests, blocks, ranges, copies)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

import apins
from apins.board import Board
from apins.cache import Cache
from apins.errors import HashMismatch, ObjectChanged, PinNotFound, StoreAccessError
from apins.settings import MiB, TransferSettings
from apins.stores.azure import AzureStore
from apins.transfer import download
from tests.faultproxy import FaultProxy
from tests.servers import AzuriteServer

SMALL = TransferSettings(
    range_threshold=6 * MiB,
    multipart_threshold=6 * MiB,
    part_size=5 * MiB,
    max_concurrency=4,
    split_below=None,  # ranges from the start: these tests are about ranges
)


def make_board(
    server: AzuriteServer, container: str, prefix: str = "team/pins", cache: Any = False,
    settings: TransferSettings = SMALL, **kw: Any,
) -> Board:  # fmt: skip
    kw.setdefault("connection_string", server.connection_string)
    return apins.board_azure(f"{container}/{prefix}", cache=cache, settings=settings, **kw)


def store_of(board: Board) -> AzureStore:
    store = board.backend.store  # type: ignore[attr-defined]
    assert isinstance(store, AzureStore)
    return store


@pytest.fixture
async def board(azurite: AzuriteServer, tmp_path: Path) -> AsyncIterator[Board]:
    async with make_board(azurite, azurite.make_container(), cache=tmp_path / "cache") as b:
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
    assert await board.write_board_manifest() == {"t": [f"t/{m2.version}/"]}
    assert await board.pin_list() == ["t"]
    with pytest.raises(apins.UnsupportedType):  # sharing is a Connect feature
        await board.pin_share("t", users="someone")
    m3 = await board.pin_write(_table(6), "t", type="arrow")
    await board.pin_version_delete("t", m2.version or "")
    assert [v.version for v in await board.pin_versions("t")] == [m3.version]


async def test_pin_watch_sees_new_versions(board: Board) -> None:
    from datetime import datetime, timezone

    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    first = await board.pin_write({"v": 1}, "w", type="json", created=t0)
    watch = board.pin_watch("w", interval=0.05)
    try:
        assert (await asyncio.wait_for(watch.__anext__(), 60)).version == first.version
        later = t0.replace(minute=1)
        second = await board.pin_write({"v": 2}, "w", type="json", created=later)
        assert (await asyncio.wait_for(watch.__anext__(), 60)).version == second.version
    finally:
        await watch.aclose()


async def test_big_files_in_blocks_and_ranges(board: Board, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(13 * MiB + 123))
    small = tmp_path / "small.txt"
    small.write_bytes(b"hello\n")
    events: list[apins.ProgressEvent] = []
    await board.pin_upload([big, small], "files", progress=events.append)
    store = store_of(board)
    assert store.request_counts["PutBlock"] == 3
    assert store.request_counts["PutBlockList"] == 1
    assert any(e.finished and e.done == big.stat().st_size for e in events)
    store.request_counts.clear()
    paths = await board.pin_download("files")
    assert Path(paths[0]).read_bytes() == big.read_bytes()
    assert Path(paths[1]).read_bytes() == b"hello\n"
    assert store.request_counts["GetBlob"] >= 3 + 1  # three ranges of big.bin, one small file


async def test_blocks_from_disk_and_ranges_pinned_by_if_match(
    azurite: AzuriteServer, tmp_path: Path
) -> None:
    """Each Put Block carries one part; every ranged GET carries the same If-Match."""
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(21 * MiB))
    async with FaultProxy(azurite.blob_url.rsplit("/", 1)[0]) as proxy:
        via = azurite.via(proxy.url)
        async with make_board(via, azurite.make_container()) as b:
            await b.pin_upload(big, "par")
            blocks = [r for r in proxy.requests if r.method == "PUT" and "comp=block&" in r.path]
            proxy.requests.clear()
            [path] = await b.pin_download("par")
            assert Path(path).read_bytes() == big.read_bytes()
    ranged = [r for r in proxy.requests if r.method == "GET" and r.range]
    assert len(ranged) == 5  # every range pinned to the ETag seen first
    assert len({r.headers.get("if-match") for r in ranged}) == 1 and ranged[0].headers["if-match"]
    assert sorted(int(r.headers["content-length"]) for r in blocks) == [MiB] + [5 * MiB] * 4
    assert all("x-ms-date" in r.headers for r in blocks)


async def test_half_written_version_is_invisible(board: Board, azurite: AzuriteServer) -> None:
    meta = await board.pin_write(_table(2), "p", type="arrow")
    store = store_of(board)
    client = azurite.service().get_container_client(store.container)
    client.upload_blob(f"{store.prefix}p/29990101T000000Z-fffff/p.arrow", b"x")
    client.upload_blob(f"{store.prefix}ghost/29990101T000000Z-fffff/g.csv", b"x")
    assert [v.version for v in await board.pin_versions("p")] == [meta.version]
    assert await board.pin_list() == ["p"]
    assert not await board.pin_exists("ghost")
    assert (await board.pin_read("p")).num_rows == 2


async def test_corrupted_object_raises_and_caches_nothing(
    azurite: AzuriteServer, tmp_path: Path
) -> None:
    container = azurite.make_container()
    cache_dir = tmp_path / "cache"
    async with make_board(azurite, container) as writer:
        meta = await writer.pin_write(_table(50), "c", type="csv")
        key = f"{store_of(writer).prefix}c/{meta.version}/c.csv"
    blob = azurite.service().get_blob_client(container, key)
    good = blob.download_blob().readall()
    blob.upload_blob(good.replace(b"row1", b"rowX"), overwrite=True)
    async with make_board(azurite, container, cache=cache_dir) as reader:
        with pytest.raises(HashMismatch):
            await reader.pin_read("c")
        ident = reader.backend.identity
        assert Cache(cache_dir).lookup(ident, "c", meta.version or "", "c.csv") is None
        blob.upload_blob(good, overwrite=True)
        assert (await reader.pin_read("c")).num_rows == 50


async def test_object_replaced_mid_download_raises_object_changed(
    azurite: AzuriteServer, tmp_path: Path
) -> None:
    settings = replace(SMALL, max_concurrency=1)
    container = azurite.make_container()
    blob = azurite.service().get_blob_client(container, "team/pins/f.bin")
    blob.upload_blob(os.urandom(13 * MiB))
    async with make_board(azurite, container, settings=settings) as b:
        store = store_of(b)
        replaced: list[bool] = []

        def replace_once(event: apins.ProgressEvent) -> None:
            if not replaced:  # the first part is flowing: put a new object in its place
                replaced.append(True)
                blob.upload_blob(os.urandom(13 * MiB), overwrite=True)

        dest = tmp_path / "out.bin"
        with pytest.raises(ObjectChanged):
            await download(store, "f.bin", dest, settings=settings, progress=replace_once)
        assert replaced and not dest.exists()


async def test_listing_past_1000_blobs_pages_with_marker(azurite: AzuriteServer) -> None:
    container = azurite.make_container()
    async with make_board(azurite, container, prefix="") as b:
        await b.pin_write({"x": 1}, "zzz-last", type="json")
        store = store_of(b)
        junk = [f"aaa-junk/v{i:04d}/part.bin" for i in range(1010)]
        sem = asyncio.Semaphore(16)

        async def put(key: str) -> None:
            async with sem:
                await store.put_bytes(key, b"")

        await asyncio.gather(*(put(k) for k in junk))
        store.list_page_size = 300
        store.request_counts.clear()
        assert len(await store.list("")) == 1012
        assert store.request_counts["ListBlobs"] == 4
        assert await b.pin_list() == ["zzz-last"]
        assert len(await store.list_dirs("aaa-junk/")) == 1010
        assert await b.pin_read("zzz-last") == {"x": 1}


async def test_environment_connection_string_and_prefix_normalisation(
    azurite: AzuriteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = azurite.make_container()
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    async with apins.board_azure(f"{container}/sub", cache=False) as b:
        await b.pin_write({"v": 1}, "shared", type="json")
    names = [x.name for x in azurite.service().get_container_client(container).list_blobs()]
    assert names and all(n.startswith("sub/shared/") for n in names)
    async with apins.board_azure(f"{container}//sub/", cache=False) as again:
        assert await again.pin_read("shared") == {"v": 1}


async def test_sas_token_and_account_key_credentials(
    azurite: AzuriteServer, caplog: pytest.LogCaptureFixture
) -> None:
    from datetime import datetime, timedelta, timezone

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    container = azurite.make_container()
    async with make_board(
        azurite, container, connection_string=None, account_url=azurite.blob_url,
        credential=azurite.key,
    ) as keyed:  # fmt: skip
        await keyed.pin_write({"k": 1}, "viakey", type="json")
    sas = generate_container_sas(
        azurite.account, container, account_key=azurite.key,
        permission=ContainerSasPermissions(read=True, write=True, list=True, delete=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )  # fmt: skip
    async with make_board(
        azurite, container, connection_string=None, account_url=azurite.blob_url, credential=sas
    ) as signed:
        assert await signed.pin_read("viakey") == {"k": 1}
        await signed.pin_write({"s": 2}, "viasas", type="json")
    caplog.set_level(logging.DEBUG)
    async with make_board(
        azurite, container, connection_string=None, account_url=f"{azurite.blob_url}?{sas}"
    ) as in_url:
        assert sorted(await in_url.pin_list()) == ["viakey", "viasas"]
    signature = dict(p.split("=", 1) for p in sas.split("&"))["sig"]
    assert "comp=list" in caplog.text  # requests were logged, with the SAS signature masked
    assert signature not in caplog.text and azurite.key not in caplog.text


async def test_bad_key_is_refused_without_showing_secrets(
    azurite: AzuriteServer, caplog: pytest.LogCaptureFixture
) -> None:
    import base64

    wrong = base64.b64encode(b"not the key of this account, 64 bytes long....").decode()
    conn = azurite.connection_string.replace(azurite.key, wrong)
    caplog.set_level(logging.DEBUG)
    board = apins.board_azure(f"{azurite.make_container()}/x", connection_string=conn, cache=False)
    async with board:
        with pytest.raises(StoreAccessError) as info:
            await board.pin_list()
    shown = f"{info.value!r} {info.value} {board!r} {store_of(board)!r} {caplog.text}"
    assert wrong not in shown and azurite.key not in shown
    assert "account key" in str(info.value)


class FakeTokenCredential:
    """A token credential in azure-core's shape (async get_token, like azure.identity.aio)."""

    def __init__(self) -> None:
        self.calls = 0

    def token(self, scopes: tuple[str, ...]) -> Any:
        from types import SimpleNamespace

        self.calls += 1
        assert scopes == ("https://storage.azure.com/.default",)
        return SimpleNamespace(token="secret-token-value", expires_on=2**31)

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        return self.token(scopes)


class FakeSyncTokenCredential(FakeTokenCredential):
    """The same with a blocking get_token (like azure.identity's sync credentials)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:  # type: ignore[override]
        return self.token(scopes)


@pytest.mark.parametrize("make", [FakeTokenCredential, FakeSyncTokenCredential])
async def test_token_credential_sends_a_bearer_token_once_fetched(
    azurite: AzuriteServer, make: type[FakeTokenCredential]
) -> None:
    """Azurite accepts bearer tokens only over https, so it refuses this one; the wire shows
    the header, the token is fetched once for many requests, and the error hides it."""
    cred = make()
    async with FaultProxy(azurite.blob_url.rsplit("/", 1)[0]) as proxy:
        url = azurite.via(proxy.url).blob_url
        async with make_board(
            azurite, azurite.make_container(), connection_string=None, account_url=url,
            credential=cred, settings=replace(SMALL, retries=0),
        ) as b:  # fmt: skip
            for _ in range(2):
                with pytest.raises(StoreAccessError) as info:
                    await b.pin_list()
    assert cred.calls == 1
    assert [r.headers["authorization"] for r in proxy.requests] == ["Bearer secret-token-value"] * 2
    assert "secret-token-value" not in f"{info.value} {info.value!r}"
    assert "token credential" in str(info.value)


def test_constructor_needs_an_account() -> None:
    with pytest.raises(ValueError, match="AZURE_STORAGE_CONNECTION_STRING"):
        apins.board_azure("container/prefix")


def test_sync_twin(azurite: AzuriteServer) -> None:
    from apins import sync

    b = sync.board_azure(
        f"{azurite.make_container()}/s", connection_string=azurite.connection_string, cache=False
    )
    with b:
        b.pin_write(pd.DataFrame({"a": [1, 2]}), "df", type="parquet")
        assert b.pin_read("df").num_rows == 2


async def test_cut_connection_resumes_from_the_last_byte(
    azurite: AzuriteServer, tmp_path: Path
) -> None:
    container = azurite.make_container()
    payload = os.urandom(13 * MiB)
    azurite.service().get_blob_client(container, "team/pins/f.bin").upload_blob(payload)

    def second_part(r: Any) -> bool:
        return r.method == "GET" and (r.range or "").startswith(f"bytes={5 * MiB}-")

    dest = tmp_path / "out.bin"
    async with FaultProxy(azurite.blob_url.rsplit("/", 1)[0]) as proxy:
        proxy.cut_once(second_part, 2 * MiB)
        async with make_board(azurite.via(proxy.url), container) as b:
            await download(store_of(b), "f.bin", dest, settings=SMALL)
    assert dest.read_bytes() == payload
    [cut] = proxy.cuts
    resumed = [r for r in proxy.requests if r.range == f"bytes={7 * MiB}-{10 * MiB - 1}"]
    assert len(resumed) == 1 and resumed[0].headers["if-match"] == cut.headers["if-match"]


async def test_missing_container_is_a_clear_error(azurite: AzuriteServer) -> None:
    async with make_board(azurite, "no-such-container") as b:
        with pytest.raises(apins.PinsError, match="container 'no-such-container' does not exist"):
            await b.pin_list()
        with pytest.raises(apins.PinsError, match="does not exist"):
            await b.pin_write({"a": 1}, "p", type="json")


@pytest.mark.parametrize(
    ("what", "path", "data_size"),
    [
        ("Put Blob of a file", r"/blob\.bin$", 1000),
        ("Put Blob of data.txt", r"/data\.txt$", 1000),
        ("Put Block", r"[?&]comp=block&", 5 * MiB),
        ("Put Block List", r"[?&]comp=blocklist", 5 * MiB),
    ],
)
async def test_write_with_a_lost_answer_is_sent_again(
    azurite: AzuriteServer, tmp_path: Path, what: str, path: str, data_size: int
) -> None:
    """The server did the write but the answer never came: sending it again (idempotent on
    Azure) gives one whole version, never a duplicate or a broken one."""
    from tests.faultproxy import Fault

    src = tmp_path / "blob.bin"
    src.write_bytes(os.urandom(data_size))
    settings = replace(SMALL, multipart_threshold=5 * MiB, retries=2, backoff_base=0.01)
    container = azurite.make_container()
    async with FaultProxy(azurite.blob_url.rsplit("/", 1)[0]) as proxy:
        fault = proxy.add(Fault("lost", "PUT", path))
        async with make_board(azurite.via(proxy.url), container, settings=settings) as b:
            await b.pin_upload(str(src), "blob")
    assert (fault.fired, fault.seen) == (1, 2), what
    async with make_board(azurite, container) as direct:
        assert len(await direct.pin_versions("blob")) == 1
        (got,) = await direct.pin_download("blob")
        assert Path(got).read_bytes() == src.read_bytes()


class IdentityEndpoint:
    """App Service's managed-identity endpoint on loopback, in a thread (a CLI subprocess
    blocks the test's loop): azure-identity's real DefaultAzureCredential resolves to it
    through IDENTITY_ENDPOINT + IDENTITY_HEADER, with no Azure AD and no internet."""

    def __init__(self) -> None:
        import secrets
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.header = secrets.token_hex(8)
        self.token = f"mi-{secrets.token_urlsafe(24)}"
        self.asked: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                ok = self.headers.get("X-IDENTITY-HEADER") == outer.header
                outer.asked.append(self.path)
                body = json.dumps({
                    "access_token": outer.token, "token_type": "Bearer",
                    "expires_on": str(int(time.time()) + 3600),
                    "resource": "https://storage.azure.com",
                }).encode() if ok else b'{"error": "bad identity header"}'  # fmt: skip
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/msi/token"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def _no_azure_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` without any Azure account or credential variable."""
    drop = ("AZURE_", "IDENTITY_", "MSI_", "AZURE_STORAGE_")
    return {k: v for k, v in env.items() if not k.startswith(drop)}


@pytest.fixture
def managed_identity(monkeypatch: pytest.MonkeyPatch) -> Iterator[IdentityEndpoint]:
    for name in set(os.environ) - set(_no_azure_env(dict(os.environ))):
        monkeypatch.delenv(name)
    endpoint = IdentityEndpoint()
    monkeypatch.setenv("IDENTITY_ENDPOINT", endpoint.url)
    monkeypatch.setenv("IDENTITY_HEADER", endpoint.header)
    yield endpoint
    endpoint.close()


async def test_account_url_variable_uses_the_default_credential_chain(
    azurite: AzuriteServer,
    managed_identity: IdentityEndpoint,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """AZURE_STORAGE_ACCOUNT_URL alone: azure-identity's DefaultAzureCredential (here its
    managed-identity step) gives the token, sent as a bearer token on every request. Azurite
    refuses bearer tokens over http, so the answer is a clean access error without it."""
    caplog.set_level(logging.DEBUG)
    container = azurite.make_container()
    async with FaultProxy(azurite.blob_url.rsplit("/", 1)[0]) as proxy:
        monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_URL", azurite.via(proxy.url).blob_url)
        board = apins.board_azure(f"{container}/p", cache=False, settings=replace(SMALL, retries=0))
        async with board:
            for _ in range(2):
                with pytest.raises(StoreAccessError) as info:
                    await board.pin_list()
            shown = f"{board!r} {store_of(board)!r} {store_of(board).account!r}"
    token = managed_identity.token
    assert (
        len(managed_identity.asked) == 1
        and "resource=https://storage.azure.com" in (managed_identity.asked[0])
    )
    assert [r.headers.get("authorization") for r in proxy.requests] == [f"Bearer {token}"] * 2
    assert "token credential" in str(info.value)
    assert token not in f"{shown} {info.value} {info.value!r} {caplog.text}"


async def test_cli_az_url_with_the_account_url_variable(
    azurite: AzuriteServer, managed_identity: IdentityEndpoint
) -> None:
    """``apins list az://container/prefix`` with only AZURE_STORAGE_ACCOUNT_URL set: the
    default chain's bearer token is sent; the CLI's error and debug log never show it."""
    from tests.mirror_support import cli_env
    from tests.test_cli import run

    container = azurite.make_container()
    async with FaultProxy(azurite.blob_url.rsplit("/", 1)[0]) as proxy:
        env = _no_azure_env(cli_env()) | {
            "IDENTITY_ENDPOINT": managed_identity.url,
            "IDENTITY_HEADER": managed_identity.header,
            "AZURE_STORAGE_ACCOUNT_URL": azurite.via(proxy.url).blob_url,
        }
        done = await asyncio.to_thread(
            run, "--debug", "list", f"az://{container}/team/pins", env=env, ok=False
        )
    token = managed_identity.token
    assert done.returncode == 1, done.stderr
    assert "token credential" in done.stderr
    sent = {r.headers.get("authorization") for r in proxy.requests}
    assert sent == {f"Bearer {token}"}
    assert token not in done.stdout + done.stderr


_BLOCK_AZURE_IDENTITY = (
    "import sys\n"
    "sys.modules['azure.identity'] = None  # as if apins[azure] were not installed\n"
    "sys.modules['azure.identity.aio'] = None\n"
)


def test_default_chain_without_azure_identity_says_what_to_install(
    azurite: AzuriteServer,
) -> None:
    """No connection string, no credential, and azure-identity not importable: a clear
    PinsError naming the extra, from the API and from the CLI (not anonymous requests that
    fail later as 'not found' or 'forbidden')."""
    import subprocess

    from tests._helpers import PYTHON, subprocess_env

    api = _BLOCK_AZURE_IDENTITY + (
        "import apins\n"
        "for kw in ({}, {'account_url': sys.argv[1]}):\n"
        "    try:\n"
        "        apins.board_azure('c/p', **kw)\n"
        "    except apins.PinsError as exc:\n"
        "        print(type(exc).__name__, exc)\n"
    )
    cli = _BLOCK_AZURE_IDENTITY + "from apins.cli import main\nsys.exit(main(['list', 'az://c/p']))"
    env = _no_azure_env(subprocess_env()) | {"AZURE_STORAGE_ACCOUNT_URL": azurite.blob_url}
    got = subprocess.run(
        [PYTHON, "-c", api, azurite.blob_url], env=env, capture_output=True, text=True, timeout=60
    )
    assert got.returncode == 0, got.stderr
    lines = got.stdout.splitlines()
    assert len(lines) == 2, got.stdout
    for line in lines:
        assert line.startswith("StoreAccessError ") and "pip install 'apins[azure]'" in line
    done = subprocess.run([PYTHON, "-c", cli], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "pip install 'apins[azure]'" in done.stderr, done.stderr


async def test_public_container_is_read_without_credentials(azurite: AzuriteServer) -> None:
    """The anonymous route the error above names: a connection string with only the blob
    endpoint reads a public container and sends no Authorization header."""
    container = azurite.make_container()
    azurite.service().get_container_client(container).set_container_access_policy(
        signed_identifiers={}, public_access="container"
    )
    async with make_board(azurite, container) as writer:
        await writer.pin_write({"public": True}, "open", type="json")
    async with FaultProxy(azurite.blob_url.rsplit("/", 1)[0]) as proxy:
        conn = f"BlobEndpoint={azurite.via(proxy.url).blob_url}"
        async with make_board(azurite, container, connection_string=conn) as reader:
            assert await reader.pin_list() == ["open"]
            assert await reader.pin_read("open") == {"public": True}
    assert proxy.requests and all("authorization" not in r.headers for r in proxy.requests)
