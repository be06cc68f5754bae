"""pin_url and pin_browse on every board kind (folder, S3, GCS, Azure, URL, Connect).

pin_browse is checked through the standard ``BROWSER`` variable: a stub "browser" (a small
script) records the URL it was asked to open. It runs in a fresh interpreter, since Python's
webbrowser module reads BROWSER once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import aiohttp
import pytest

import apins
from apins.connect import board_connect
from apins.errors import PinNotFound, PinsError, VersionNotFound
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


def test_pin_browse_opens_the_url_in_the_browser(tmp_path: Path) -> None:
    record = tmp_path / "opened.txt"
    stub = tmp_path / "browser.py"
    stub.write_text(
        f"import sys\nopen({str(record)!r}, 'a').write(sys.argv[1] + '\\n')\n", encoding="utf-8"
    )
    script = textwrap.dedent(
        f"""
        import json
        from apins import sync
        with sync.board_folder({str(tmp_path / "b")!r}) as board:
            board.pin_write({{"v": 1}}, "p", type="json")
            print(json.dumps([board.pin_browse("p"), board.pin_url("p")]))
        """
    )
    env = {**os.environ, "BROWSER": f"{sys.executable} {stub} %s"}
    r = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    browsed, url = json.loads(r.stdout.strip().splitlines()[-1])
    assert browsed == url and url.startswith("file://")
    assert record.read_text(encoding="utf-8").split() == [url]


async def test_gcs_board_gives_a_gs_uri(fakegcs: GCSServer) -> None:
    bucket = fakegcs.make_bucket()
    async with make_gcs_board(fakegcs, bucket, prefix="team/pins") as board:
        meta = await board.pin_write({"v": 1}, "p", type="json")
        assert await board.pin_url("p") == f"gs://{bucket}/team/pins/p/{meta.version}/"
        with pytest.raises(VersionNotFound):
            await board.pin_url("p", "20990101T000000Z-00000")


async def test_azure_board_gives_the_blob_url_without_credentials(azurite: AzuriteServer) -> None:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    container = azurite.make_container()
    sas = generate_container_sas(
        account_name=azurite.account,
        container_name=container,
        account_key=azurite.key,
        permission=ContainerSasPermissions(read=True, write=True, list=True, delete=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    async with make_azure_board(
        azurite, container, connection_string=None, account_url=f"{azurite.blob_url}?{sas}"
    ) as board:
        meta = await board.pin_write({"v": 1}, "p", type="json")
        url = await board.pin_url("p")
    assert url == f"{azurite.blob_url}/{container}/team/pins/p/{meta.version}/"
    signature = dict(p.split("=", 1) for p in sas.split("&"))["sig"]
    assert "?" not in url and signature not in url
