"""A mirror killed with SIGKILL mid-way, then run again: complete, no duplicates, no half versions.

The transfer runs through the rate-limited nginx proxy in front of SeaweedFS, so it lasts long
enough to be killed after its first version lands (detected by polling the target).
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import anyio
import pins
import pytest

import apins
from apins.meta import parse_meta
from tests.mirror_support import (
    APINS,
    T0,
    big_file,
    cli_env,
    folder_files,
    s3_keys,
    s3_objects,
    write_files,
)
from tests.servers import S3Server

PINS, VERSIONS, SIZE = 4, 6, 3 * 1024 * 1024


async def _source_folder(root: Path, scratch: Path) -> int:
    """A folder board of PINS × VERSIONS one-file versions of SIZE bytes; returns the count."""
    async with apins.board_folder(root) as board:
        for p in range(PINS):
            for v in range(VERSIONS):
                f = big_file(scratch / f"blob{p}.bin", SIZE, seed=p * 100 + v)
                await write_files(board, f"blob{p}", [f], T0 + timedelta(seconds=v))
    return PINS * VERSIONS


def _kill_after_first(cmd: list[str], env: dict[str, str], landed: Callable[[], int]) -> int:
    """Start ``cmd``; SIGKILL it once ``landed()`` counts a version; return that count."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            count = landed()
            if count:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
                return count
            if proc.poll() is not None:
                out = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"the mirror ended before it could be killed: {out}")
            time.sleep(0.02)  # polling interval, not a synchronisation stand-in
        pytest.fail("no version landed within 120 s")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    return 0


def _data_txts(keys: list[str]) -> list[str]:
    return [k for k in keys if k.count("/") == 2 and k.endswith("/data.txt")]


def _assert_complete(files: dict[str, bytes], source: dict[str, bytes]) -> None:
    """Every version with a data.txt holds exactly the source's bytes for every file."""
    for key in _data_txts(list(files)):
        pin, version, _ = key.split("/")
        assert files[key] == source[key]
        for name in parse_meta(files[key]).files:
            file_key = f"{pin}/{version}/{name}"
            assert files.get(file_key) == source[file_key], file_key


async def test_killed_folder_to_s3_mirror_resumes(
    seaweed: S3Server, nginx_s3slow: S3Server, tmp_path: Path
) -> None:
    total = await _source_folder(tmp_path / "src", tmp_path)
    source = folder_files(tmp_path / "src")
    bucket = seaweed.make_bucket("resume")
    target = f"s3://{bucket}/mirror?endpoint_url={nginx_s3slow.endpoint_url}"
    cmd = [str(APINS), "mirror", str(tmp_path / "src"), target, "--concurrency", "2"]
    env = cli_env(seaweed, PINS_CACHE_DIR=str(tmp_path / "cache"))

    landed = _kill_after_first(
        cmd, env, lambda: len(_data_txts(s3_keys(seaweed, bucket, "mirror/")))
    )
    assert 0 < landed < total
    partial = s3_objects(seaweed, bucket, "mirror/")
    _assert_complete(partial, source)  # whatever is visible is whole

    direct = [str(APINS), "mirror", str(tmp_path / "src"), f"s3://{bucket}/mirror", "--json"]
    done = await anyio.run_process(direct, env=env, check=False)
    assert done.returncode == 0, done.stderr.decode()
    final = s3_objects(seaweed, bucket, "mirror/")
    assert final == source  # every version, once, byte for byte, nothing extra

    async with seaweed.board(f"{bucket}/mirror", cache=tmp_path / "c") as s3:
        for p in range(PINS):
            assert len(await s3.pin_versions(f"blob{p}")) == VERSIONS
    legacy = pins.board_s3(
        f"{bucket}/mirror", endpoint_url=seaweed.endpoint_url, key=seaweed.access_key,
        secret=seaweed.secret_key, cache=None,
    )  # fmt: skip
    assert len(legacy.pin_versions("blob3")) == VERSIONS


async def test_killed_s3_to_folder_mirror_resumes(
    seaweed: S3Server, nginx_s3slow: S3Server, tmp_path: Path
) -> None:
    bucket = seaweed.make_bucket("resume2")
    await _source_folder(tmp_path / "src", tmp_path)
    async with (
        apins.board_folder(tmp_path / "src") as src,
        seaweed.board(f"{bucket}/b", cache=tmp_path / "c0") as s3,
    ):
        assert (await apins.mirror(src, s3)).ok
    source = s3_objects(seaweed, bucket, "b/")
    dst = tmp_path / "dst"
    slow = f"s3://{bucket}/b?endpoint_url={nginx_s3slow.endpoint_url}"
    env = cli_env(seaweed, PINS_CACHE_DIR=str(tmp_path / "cache"))

    def visible() -> int:
        return len([p for p in dst.glob("*/*/data.txt") if not p.parent.name.startswith(".")])

    landed = _kill_after_first(
        [str(APINS), "mirror", slow, str(dst), "--concurrency", "2"], env, visible
    )
    assert 0 < landed < PINS * VERSIONS
    partial = folder_files(dst)
    _assert_complete(partial, source)
    # no visible version folder without its data.txt
    for folder in dst.glob("*/*"):
        if not folder.name.startswith("."):
            assert (folder / "data.txt").is_file(), folder

    done = await anyio.run_process(
        [str(APINS), "mirror", f"s3://{bucket}/b", str(dst)], env=env, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    assert folder_files(dst) == source
    async with apins.board_folder(dst) as board:
        for p in range(PINS):
            assert len(await board.pin_versions(f"blob{p}")) == VERSIONS
