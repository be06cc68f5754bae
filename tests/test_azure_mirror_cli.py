"""Azure boards in mirror (S3→Azure, Azure→folder, Azure→Azure by Copy Blob) and on the CLI."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import apins
from apins.settings import MiB
from tests.faultproxy import FaultProxy
from tests.mirror_support import (
    SMALL_PARTS,
    T0,
    big_file,
    cli_env,
    fill,
    folder_files,
    s3_objects,
    write_files,
)
from tests.servers import AzuriteServer, S3Server
from tests.test_cli import run, run_json


def az_board(
    server: AzuriteServer, container: str, prefix: str, cache: Path, **kw: object
) -> apins.Board:
    kw.setdefault("connection_string", server.connection_string)
    kw.setdefault("settings", SMALL_PARTS)
    return apins.board_azure(f"{container}/{prefix}", cache=cache, **kw)  # type: ignore[arg-type]


def az_objects(server: AzuriteServer, container: str, prefix: str) -> dict[str, bytes]:
    client = server.service().get_container_client(container)
    return {
        b.name[len(prefix) :]: client.download_blob(b.name).readall()
        for b in client.list_blobs(name_starts_with=prefix)
    }


async def test_s3_to_azure_to_folder(
    seaweed: S3Server, azurite: AzuriteServer, tmp_path: Path
) -> None:
    sb, ac = seaweed.make_bucket("to-az"), azurite.make_container("from-s3")
    async with (
        apins.board_folder(tmp_path / "src") as src,
        seaweed.board(f"{sb}/s3side", cache=tmp_path / "c1", settings=SMALL_PARTS) as s3,
        az_board(azurite, ac, "azside", tmp_path / "c2") as az,
        apins.board_folder(tmp_path / "back") as back,
    ):
        await fill(src, 3, 2)
        await write_files(src, "big", [big_file(tmp_path / "big.bin", 13 * MiB)], T0)
        assert (await apins.mirror(src, s3)).ok
        report = await apins.mirror(s3, az)
        assert report.ok and report.server_side_files == 0 and len(report.copied) == 7
        assert (await apins.mirror(az, back)).ok
        again = await apins.mirror(s3, az)
        assert again.copied == [] and len(again.skipped) == 7
    on_s3 = s3_objects(seaweed, sb, "s3side/")
    assert az_objects(azurite, ac, "azside/") == on_s3
    assert folder_files(tmp_path / "back") == on_s3 == folder_files(tmp_path / "src")


async def test_azure_to_azure_copies_server_side(azurite: AzuriteServer, tmp_path: Path) -> None:
    a, b = azurite.make_container("srv-a"), azurite.make_container("srv-b")
    async with (
        apins.board_folder(tmp_path / "src") as src,
        az_board(azurite, a, "one", tmp_path / "c1") as za,
    ):
        await fill(src, 3, 2)
        await write_files(src, "big", [big_file(tmp_path / "big.bin", 12 * MiB)], T0)
        await apins.mirror(src, za)
    async with FaultProxy(azurite.blob_url.rsplit("/", 1)[0]) as proxy:
        via = azurite.via(proxy.url)
        async with (
            az_board(via, a, "one", tmp_path / "c2") as za,
            az_board(via, b, "two/deeper", tmp_path / "c3") as zb,
        ):
            report = await apins.mirror(za, zb)
            assert report.ok and report.server_side_files == 7
        paths = [unquote(r.path) for r in proxy.requests]
        gets = [r for r, p in zip(proxy.requests, paths, strict=True) if r.method == "GET"]
        blob_gets = [r for r in gets if "comp=list" not in r.path]
        assert blob_gets and all(unquote(r.path).endswith("/data.txt") for r in blob_gets)
        assert sum(r.body_sent for r in blob_gets) < 20_000  # only data.txt passed through
        puts = [r for r in proxy.requests if r.method == "PUT"]
        sent = [r for r in puts if int(r.headers.get("content-length", "0"))]
        assert sent and all(unquote(r.path).endswith("/data.txt") for r in sent)
        copies = [r for r in puts if "x-ms-copy-source" in r.headers]
        assert len(copies) == 7
        assert all(r.headers.get("x-ms-source-if-match") for r in copies)
    assert az_objects(azurite, b, "two/deeper/") == az_objects(azurite, a, "one/")


def test_cli_az_urls(azurite: AzuriteServer, tmp_path: Path) -> None:
    container = azurite.make_container("cli")
    env = cli_env(PINS_CACHE_DIR=str(tmp_path / "cache"), **azurite.env())
    keyed = cli_env(PINS_CACHE_DIR=str(tmp_path / "cache2"), AZURE_STORAGE_ACCOUNT_KEY=azurite.key)
    keyed.pop("AZURE_STORAGE_CONNECTION_STRING", None)
    az = f"az://{container}/team/board"
    f = tmp_path / "model.bin"
    f.write_bytes(b"\x00\x01" * 5000)
    run("upload", az, str(f), "--name", "model", env=env)
    f.write_bytes(b"\x02" * 7000)
    in_url = f"{az}?account_url={azurite.blob_url}"
    run("upload", in_url, str(f), "-n", "model", env=keyed)
    assert run_json("list", az, env=env) == ["model"]
    assert len(run_json("versions", in_url, "model", env=keyed)) == 2
    dst = tmp_path / "copy"
    report = run_json("mirror", az, str(dst), env=env)
    assert len(report["copied"]) == 2 and report["failed"] == [] and report["bytes"] == 17000
    bad = run("list", f"{az}?colour=blue", env=env, ok=False)
    assert bad.returncode == 2 and "colour" in bad.stderr
    bare = dict(keyed)
    bare.pop("AZURE_STORAGE_ACCOUNT_KEY")
    nothing = run("list", az, env=bare, ok=False)
    assert nothing.returncode == 2 and "AZURE_STORAGE_CONNECTION_STRING" in nothing.stderr
    missing = run("versions", az, "ghost", env=env, ok=False)
    assert missing.returncode == 3
    wrong = run("list", in_url, env={**keyed, "AZURE_STORAGE_ACCOUNT_KEY": "QUFBQQ=="}, ok=False)
    assert wrong.returncode == 1 and "QUFBQQ" not in wrong.stderr + wrong.stdout
