"""pin_url and pin_browse on every board kind (folder, S3, GCS, Azure, URL, Connect).

pin_browse is checked through the standard ``BROWSER`` variable: a stub "browser" (a small
script) records the URL it was asked to open. It runs in a fresh interpreter, since Python's
webbrowser module reads BROWSER once. Every check also asserts that no credential of the
board appears in what was opened or printed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import aiohttp
import anyio
import pytest

import apins
from apins.connect import board_connect
from apins.errors import PinNotFound, PinsError, UnsupportedType, VersionNotFound
from apins.stores.gcs import GCSStore
from apins.stores.s3 import S3Store
from apins.testing.connect import ConnectEmulator
from tests.connect_support import USERS
from tests.servers import AzuriteServer, GCSServer, NginxServer, S3Server
from tests.test_board_azure import make_board as make_azure_board
from tests.test_board_gcs import make_board as make_gcs_board
from tests.test_board_s3 import make_board


async def test_folder_board_gives_the_version_folder(tmp_path: Path) -> None:
    async with apins.board_folder(tmp_path / "b") as board:
        first = await board.pin_write({"v": 1}, "p", type="json")
        second = await board.pin_write({"v": 2}, "p", type="json")
        latest = await board.pin_url("p")
        assert latest.startswith("file://") and latest.endswith("/")
        folder = Path(url2pathname(urlparse(latest).path))
        assert folder == tmp_path / "b" / "p" / second.version
        assert (folder / "data.txt").is_file()
        older = await board.pin_url("p", first.version)
        assert Path(url2pathname(urlparse(older).path)).name == first.version
        with pytest.raises(VersionNotFound):
            await board.pin_url("p", "20990101T000000Z-00000")
        with pytest.raises(PinNotFound):
            await board.pin_url("missing")


async def test_s3_board_gives_an_s3_uri(seaweed: S3Server) -> None:
    bucket = seaweed.make_bucket()
    async with make_board(seaweed, bucket, prefix="team/pins") as board:
        meta = await board.pin_write({"v": 1}, "p", type="json")
        url = await board.pin_url("p")
        assert url == f"s3://{bucket}/team/pins/p/{meta.version}/"


async def test_url_board_gives_the_http_folder(nginx: NginxServer, tmp_path: Path) -> None:
    name = f"url-{os.getpid()}-{id(tmp_path)}"
    served = nginx.root / name
    async with apins.board_folder(served) as writer:
        meta = await writer.pin_write({"v": 1}, "p", type="json")
        await writer.write_board_manifest()
    async with apins.board_url(f"{nginx.url}/{name}/") as board:
        url = await board.pin_url("p")
        assert url == f"{nginx.url}/{name}/p/{meta.version}/"
        async with aiohttp.ClientSession() as s, s.get(url + "data.txt") as r:
            assert r.status == 200


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ConnectEmulator]:
    async with ConnectEmulator(root=tmp_path / "connect", users=USERS) as s:
        yield s


async def test_connect_board_gives_the_content_url(server: ConnectEmulator) -> None:
    async with board_connect(server.url, "key-a", cache=False) as board:
        first = await board.pin_write({"v": 1}, "ppp", type="json")
        await board.pin_write({"v": 2}, "ppp", type="json")
        url = await board.pin_url("ppp")
        content = await board.connect.client.get_json("v1/content", what="t")
        assert url == content[0]["content_url"]
        versioned = await board.pin_url("alice/ppp", first.version)
        assert versioned == f"{url}_rev{first.version}/"
        headers = {"Authorization": "Key key-a"}
        async with (
            aiohttp.ClientSession() as s,
            s.get(versioned + "data.txt", headers=headers) as r,
        ):
            assert r.status == 200 and b"api_version" in await r.read()
        with pytest.raises(VersionNotFound):
            await board.pin_url("ppp", "999")
        with pytest.raises(PinsError):
            await board.pin_url("alice/missing")


#: runs in a fresh interpreter (webbrowser reads BROWSER once): builds the board named in
#: APINS_TEST_BROWSE, calls pin_browse for each (name, version, local), prints the outcomes
_BROWSE = """
import json, os
from apins import sync
from apins.errors import PinsError
spec = json.loads(os.environ["APINS_TEST_BROWSE"])
out = []
with getattr(sync, spec["board"])(*spec["args"], **spec["kwargs"]) as board:
    for name, version, local in spec["calls"]:
        try:
            out.append({"url": board.pin_browse(name, version, local=local)})
        except PinsError as e:
            out.append({"error": type(e).__name__, "message": str(e)})
print(json.dumps(out))
"""


async def _browse(
    tmp_path: Path, board: str, args: list[Any], kwargs: dict[str, Any], calls: list[Any]
) -> tuple[list[dict[str, str]], list[str], str]:
    """pin_browse in a fresh interpreter whose BROWSER is a stub that records what it is
    asked to open: (outcome of each call, URLs the stub opened, the process's whole output)."""
    record = tmp_path / "opened.txt"
    stub = tmp_path / "browser.py"
    stub.write_text(
        f"import sys\nopen({str(record)!r}, 'a').write(sys.argv[1] + '\\n')\n",
        encoding="utf-8",
    )
    spec = {"board": board, "args": args, "kwargs": kwargs, "calls": calls}
    env = {
        **os.environ,
        "BROWSER": f"{sys.executable} {stub} %s",
        "APINS_TEST_BROWSE": json.dumps(spec),
    }
    with anyio.fail_after(180):
        r = await anyio.run_process([sys.executable, "-c", _BROWSE], env=env, check=False)
    out, err = r.stdout.decode(), r.stderr.decode()
    assert r.returncode == 0, err
    opened = record.read_text(encoding="utf-8").split() if record.exists() else []
    return json.loads(out.strip().splitlines()[-1]), opened, out + err + "\n".join(opened)


def _folder(url: str) -> Path:
    assert url.startswith("file://") and url.endswith("/"), url
    return Path(url2pathname(urlparse(url).path))


async def test_pin_browse_opens_the_url_in_the_browser(tmp_path: Path) -> None:
    """Folder board: the version folder (file://), an older version's, and local=True (the
    board's own folder: a folder board has no cache)."""
    async with apins.board_folder(tmp_path / "b") as board:
        first = await board.pin_write({"v": 1}, "p", type="json")
        await board.pin_write({"v": 2}, "p", type="json")
        latest = await board.pin_url("p")
        older = await board.pin_url("p", first.version)
    calls = [["p", None, False], ["p", first.version, False], ["p", None, True]]
    got, opened, _ = await _browse(tmp_path, "board_folder", [str(tmp_path / "b")], {}, calls)
    assert got == [{"url": latest}, {"url": older}, {"url": latest}]
    assert opened == [latest, older, latest]
    assert (_folder(latest) / "p.json").is_file()


async def test_pin_browse_on_a_url_board(nginx: NginxServer, tmp_path: Path) -> None:
    """URL board: the version's http(s) folder; local=True the cached copy's folder."""
    name = f"browse-{os.getpid()}-{id(tmp_path)}"
    async with apins.board_folder(nginx.root / name) as writer:
        meta = await writer.pin_write({"v": 1}, "p", type="json")
        await writer.write_board_manifest()
    cache = tmp_path / "cache"
    got, opened, _ = await _browse(
        tmp_path,
        "board_url",
        [f"{nginx.url}/{name}/"],
        {"cache": str(cache)},
        [["p", None, False], ["p", None, True]],
    )
    remote = f"{nginx.url}/{name}/p/{meta.version}/"
    assert got[0] == {"url": remote}
    local = _folder(got[1]["url"])
    assert local.is_relative_to(cache) and (local / "p.json").is_file()
    assert opened == [remote, got[1]["url"]]


async def test_pin_browse_on_s3_with_a_custom_endpoint(seaweed: S3Server, tmp_path: Path) -> None:
    """SeaweedFS (any custom endpoint) has no web console: a clear error naming pin_url's
    s3:// URI and local=True, nothing opened, no secret shown; local=True opens the cache."""
    bucket = seaweed.make_bucket()
    async with make_board(seaweed, bucket, prefix="team/pins") as board:
        meta = await board.pin_write({"v": 1}, "p", type="json")
        with pytest.raises(UnsupportedType, match="needs a cache"):
            await board.pin_browse("p", local=True)  # this board has cache=False
    cache = tmp_path / "cache"
    kwargs = {
        "endpoint_url": seaweed.endpoint_url,
        "region": seaweed.region,
        "access_key": seaweed.access_key,
        "secret_key": seaweed.secret_key,
        "cache": str(cache),
    }
    got, opened, output = await _browse(
        tmp_path,
        "board_s3",
        [f"{bucket}/team/pins"],
        kwargs,
        [["p", None, False], ["p", None, True]],
    )
    assert got[0]["error"] == "UnsupportedType"
    assert f"s3://{bucket}/team/pins/p/{meta.version}/" in got[0]["message"]
    assert "local=True" in got[0]["message"]
    local = _folder(got[1]["url"])
    assert local.is_relative_to(cache) and (local / "p.json").is_file()
    assert opened == [got[1]["url"]]
    assert seaweed.secret_key not in output


def test_s3_on_aws_browses_the_console_page_of_the_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without an endpoint the page is the AWS console's (a URL computed without I/O)."""
    store = S3Store(
        "my-bucket", "team/pins", region="eu-west-2", access_key="AKIAEXAMPLE", secret_key="s3cr3t"
    )
    url = store.browse_url("p/20240102T030405Z-abcde")
    assert url == (
        "https://s3.console.aws.amazon.com/s3/buckets/my-bucket"
        "?region=eu-west-2&prefix=team/pins/p/20240102T030405Z-abcde/"
    )
    assert "s3cr3t" not in url and "AKIAEXAMPLE" not in url
    assert S3Store("b").browse_url("p/v") == (
        "https://s3.console.aws.amazon.com/s3/buckets/b?prefix=p/v/"
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://minio.internal:9000")
    with pytest.raises(UnsupportedType, match=r"minio\.internal"):
        S3Store("b").browse_url("p/v")


async def test_pin_browse_on_the_gcs_emulator(fakegcs: GCSServer, tmp_path: Path) -> None:
    """fake-gcs-server (an emulator endpoint) has no console: a clear error; local=True works."""
    bucket = fakegcs.make_bucket()
    async with make_gcs_board(fakegcs, bucket, prefix="team/pins") as board:
        meta = await board.pin_write({"v": 1}, "p", type="json")
    cache = tmp_path / "cache"
    got, opened, _ = await _browse(
        tmp_path,
        "board_gcs",
        [f"{bucket}/team/pins"],
        {"endpoint_url": fakegcs.url, "cache": str(cache)},
        [["p", None, False], ["p", None, True]],
    )
    assert got[0]["error"] == "UnsupportedType"
    assert f"gs://{bucket}/team/pins/p/{meta.version}/" in got[0]["message"]
    local = _folder(got[1]["url"])
    assert local.is_relative_to(cache) and (local / "p.json").is_file()
    assert opened == [got[1]["url"]]


def test_gcs_browses_the_cloud_console_page_of_the_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    store = GCSStore("my-bucket", "team/pins", anonymous=True, project="my-project")
    assert store.browse_url("p/20240102T030405Z-abcde") == (
        "https://console.cloud.google.com/storage/browser/my-bucket/team/pins/"
        "p/20240102T030405Z-abcde/?project=my-project"
    )
    emulated = GCSStore("b", anonymous=True, endpoint_url="http://127.0.0.1:4443")
    with pytest.raises(UnsupportedType, match=r"127\.0\.0\.1:4443"):
        emulated.browse_url("p/v")


async def test_pin_browse_on_azure_opens_the_blob_without_credentials(
    azurite: AzuriteServer, tmp_path: Path
) -> None:
    """Azurite, with the account key and with a SAS: the blob URL of the version's data.txt,
    no key, no SAS; the SAS-signed form of that very URL serves the version's data.txt."""
    container = azurite.make_container()
    sas = _container_sas(azurite, container)
    async with make_azure_board(azurite, container) as board:
        meta = await board.pin_write({"v": 1}, "p", type="json")
    expected = f"{azurite.blob_url}/{container}/team/pins/p/{meta.version}/data.txt"
    for i, kwargs in enumerate(
        [
            {"connection_string": azurite.connection_string},
            {"account_url": f"{azurite.blob_url}?{sas}"},
        ]
    ):
        scratch = tmp_path / str(i)
        scratch.mkdir()
        got, opened, output = await _browse(
            scratch, "board_azure", [f"{container}/team/pins"], kwargs, [["p", None, False]]
        )
        assert got == [{"url": expected}] and opened == [expected]
        assert azurite.key not in output and _sig(sas) not in output
    async with aiohttp.ClientSession() as s, s.get(f"{expected}?{sas}") as r:
        assert r.status == 200 and b"api_version" in await r.read()


async def test_pin_browse_on_connect_opens_the_dashboard(
    server: ConnectEmulator, tmp_path: Path
) -> None:
    """Connect: the pin's dashboard page; a version: its _rev content URL; local=True: the
    cached copy's folder. The API key appears nowhere."""
    async with board_connect(server.url, "key-a", cache=False) as board:
        first = await board.pin_write({"v": 1}, "ppp", type="json")
        await board.pin_write({"v": 2}, "ppp", type="json")
        versioned = await board.pin_url("ppp", first.version)
        content = await board.connect.client.get_json("v1/content", what="t")
    dashboard = content[0]["dashboard_url"]
    assert dashboard.startswith(server.url) and content[0]["guid"] in dashboard
    cache = tmp_path / "cache"
    got, opened, output = await _browse(
        tmp_path,
        "board_connect",
        [server.url, "key-a"],
        {"cache": str(cache)},
        [["ppp", None, False], ["ppp", first.version, False], ["ppp", None, True]],
    )
    assert got[:2] == [{"url": dashboard}, {"url": versioned}]
    local = _folder(got[2]["url"])
    assert local.is_relative_to(cache) and (local / "ppp.json").is_file()
    assert opened == [dashboard, versioned, got[2]["url"]]
    assert "key-a" not in output


def _container_sas(azurite: AzuriteServer, container: str) -> str:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    return str(
        generate_container_sas(
            account_name=azurite.account,
            container_name=container,
            account_key=azurite.key,
            permission=ContainerSasPermissions(read=True, write=True, list=True, delete=True),
            expiry=datetime.now(timezone.utc) + timedelta(hours=1),
        )
    )


def _sig(sas: str) -> str:
    return dict(p.split("=", 1) for p in sas.split("&"))["sig"]


async def test_gcs_board_gives_a_gs_uri(fakegcs: GCSServer) -> None:
    bucket = fakegcs.make_bucket()
    async with make_gcs_board(fakegcs, bucket, prefix="team/pins") as board:
        meta = await board.pin_write({"v": 1}, "p", type="json")
        assert await board.pin_url("p") == f"gs://{bucket}/team/pins/p/{meta.version}/"
        with pytest.raises(VersionNotFound):
            await board.pin_url("p", "20990101T000000Z-00000")


async def test_azure_board_gives_the_blob_url_without_credentials(azurite: AzuriteServer) -> None:
    container = azurite.make_container()
    sas = _container_sas(azurite, container)
    async with make_azure_board(
        azurite, container, connection_string=None, account_url=f"{azurite.blob_url}?{sas}"
    ) as board:
        meta = await board.pin_write({"v": 1}, "p", type="json")
        url = await board.pin_url("p")
    assert url == f"{azurite.blob_url}/{container}/team/pins/p/{meta.version}/"
    assert "?" not in url and _sig(sas) not in url
