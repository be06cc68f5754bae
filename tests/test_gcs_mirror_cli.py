"""GCS boards in mirror (S3→GCS, GCS→folder, GCS→GCS by rewrite) and on the command line."""

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
from tests.servers import GCSServer, S3Server
from tests.test_cli import run, run_json


def gcs_board(
    server: GCSServer, bucket: str, prefix: str, cache: Path, **kw: object
) -> apins.Board:
    kw.setdefault("endpoint_url", server.url)
    kw.setdefault("settings", SMALL_PARTS)
    return apins.board_gcs(f"{bucket}/{prefix}", cache=cache, **kw)  # type: ignore[arg-type]


def gcs_objects(server: GCSServer, bucket: str, prefix: str) -> dict[str, bytes]:
    return {
        name[len(prefix) :]: server.get_object(bucket, name)
        for name in server.list_names(bucket, prefix)
    }


async def test_s3_to_gcs_to_folder(seaweed: S3Server, fakegcs: GCSServer, tmp_path: Path) -> None:
    sb, gb = seaweed.make_bucket("to-gcs"), fakegcs.make_bucket("from-s3")
    async with (
        apins.board_folder(tmp_path / "src") as src,
        seaweed.board(f"{sb}/s3side", cache=tmp_path / "c1", settings=SMALL_PARTS) as s3,
        gcs_board(fakegcs, gb, "gcsside", tmp_path / "c2") as gcs,
        apins.board_folder(tmp_path / "back") as back,
    ):
        await fill(src, 3, 2)
        big = big_file(tmp_path / "big.bin", 13 * MiB)
        await write_files(src, "big", [big], T0)
        assert (await apins.mirror(src, s3)).ok
        report = await apins.mirror(s3, gcs)
        assert report.ok and report.server_side_files == 0 and len(report.copied) == 7
        assert (await apins.mirror(gcs, back)).ok
        again = await apins.mirror(s3, gcs)
        assert again.copied == [] and len(again.skipped) == 7
    on_s3 = s3_objects(seaweed, sb, "s3side/")
    assert gcs_objects(fakegcs, gb, "gcsside/") == on_s3
    assert folder_files(tmp_path / "back") == on_s3 == folder_files(tmp_path / "src")


async def test_gcs_to_gcs_copies_server_side(fakegcs: GCSServer, tmp_path: Path) -> None:
    a, b = fakegcs.make_bucket("srv-a"), fakegcs.make_bucket("srv-b")
    async with (
        apins.board_folder(tmp_path / "src") as src,
        gcs_board(fakegcs, a, "one", tmp_path / "c1") as ga,
    ):
        await fill(src, 3, 2)
        await write_files(src, "big", [big_file(tmp_path / "big.bin", 12 * MiB)], T0)
        await apins.mirror(src, ga)
    async with FaultProxy(fakegcs.url) as proxy:
        async with (
            gcs_board(fakegcs, a, "one", tmp_path / "c2", endpoint_url=proxy.url) as ga,
            gcs_board(fakegcs, b, "two/deeper", tmp_path / "c3", endpoint_url=proxy.url) as gb,
        ):
            report = await apins.mirror(ga, gb)
            assert report.ok and report.server_side_files == 7
        paths = [unquote(r.path) for r in proxy.requests]
        media = [r for r, p in zip(proxy.requests, paths, strict=True) if "alt=media" in p]
        assert media and all("/data.txt" in unquote(r.path) for r in media)
        uploads = [p for p in paths if p.startswith("/upload/")]
        assert uploads and all("/data.txt" in p for p in uploads)
        data_bytes = sum(r.body_sent for r in media)
        assert data_bytes < 20_000  # only the data.txt files passed through the client
        assert sum("/rewriteTo/" in p for p in paths) == 7
    assert gcs_objects(fakegcs, b, "two/deeper/") == gcs_objects(fakegcs, a, "one/")


def test_cli_gs_urls(fakegcs: GCSServer, tmp_path: Path) -> None:
    bucket = fakegcs.make_bucket("cli")
    env = cli_env(PINS_CACHE_DIR=str(tmp_path / "cache"), STORAGE_EMULATOR_HOST=fakegcs.host)
    no_env = cli_env(PINS_CACHE_DIR=str(tmp_path / "cache2"))
    no_env.pop("STORAGE_EMULATOR_HOST", None)
    gs = f"gs://{bucket}/team/board"
    f = tmp_path / "model.bin"
    f.write_bytes(b"\x00\x01" * 5000)
    run("upload", gs, str(f), "--name", "model", env=env)
    f.write_bytes(b"\x02" * 7000)
    in_url = f"{gs}?endpoint_url={fakegcs.url}&anonymous=true"
    run("upload", in_url, str(f), "-n", "model", env=no_env)
    assert run_json("list", gs, env=env) == ["model"]
    assert len(run_json("versions", in_url, "model", env=no_env)) == 2
    dst = tmp_path / "copy"
    report = run_json("mirror", gs, str(dst), env=env)
    assert len(report["copied"]) == 2 and report["failed"] == [] and report["bytes"] == 17000
    bad = run("list", f"{gs}?colour=blue", env=env, ok=False)
    assert bad.returncode == 2 and "colour" in bad.stderr
    missing = run("versions", gs, "ghost", env=env, ok=False)
    assert missing.returncode == 3
