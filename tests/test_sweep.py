"""Sweeping what crashed writers leave: on demand (Board.sweep, the sync twin, `apins sweep`)
and automatically by the next write of the pin, after a grace period."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

import apins
import apins.backends.path as path_backend
from apins import sync
from apins.settings import MiB, TransferSettings
from apins.stores.folder import STAGING_SUFFIX, TMP_PREFIX
from tests._helpers import PYTHON, subprocess_env
from tests.servers import S3Server

HOUR_AGO = time.time() - 3600


def age(path: Path, when: float = HOUR_AGO) -> None:
    """Make ``path`` and everything under it look untouched since ``when``."""
    for p in [*path.rglob("*"), path]:
        os.utime(p, (when, when))


def leftover(folder: Path, name: str, old: bool) -> Path:
    """A staging folder as a killed writer leaves it, with a half-written file."""
    d = folder / f"{TMP_PREFIX}{name}"
    d.mkdir(parents=True)
    (d / "half.parquet").write_bytes(b"PAR1 but cut")
    if old:
        age(d)
    return d


async def test_folder_sweep_removes_old_leftovers_and_keeps_fresh_ones(tmp_path: Path) -> None:
    root = tmp_path / "board"
    async with apins.board_folder(root) as board:
        await board.pin_write({"a": 1}, "p", type="json")
    staging = tmp_path / f".board{STAGING_SUFFIX}"
    old = leftover(staging, "old", old=True)
    fresh = leftover(staging, "fresh", old=False)
    legacy = leftover(root / "p", "legacy", old=True)  # where older apins staged
    async with apins.board_folder(root) as board:
        removed = await board.sweep()
        assert sorted(removed) == sorted([old.name, f"p/{legacy.name}"])
        assert not old.exists() and not legacy.exists() and fresh.exists()
        assert await board.sweep(grace=0) == [fresh.name]
    assert not staging.exists()  # removed on close once empty


async def test_folder_next_write_sweeps_the_pin(tmp_path: Path) -> None:
    root = tmp_path / "board"
    async with apins.board_folder(root) as board:
        await board.pin_write({"a": 1}, "p", type="json")
        legacy = leftover(root / "p", "legacy", old=True)
        fresh = leftover(root / "p", "fresh", old=False)
        await board.pin_write({"a": 2}, "p", type="json")
        assert not legacy.exists()
        assert fresh.exists()  # a live writer's, perhaps: within the grace period


def test_sync_twin_and_cli(tmp_path: Path) -> None:
    root = tmp_path / "board"
    with sync.board_folder(root) as board:
        board.pin_write({"a": 1}, "p", type="json")
        old = leftover(tmp_path / f".board{STAGING_SUFFIX}", "old", old=True)
        assert board.sweep() == [old.name]
    leftover(tmp_path / f".board{STAGING_SUFFIX}", "second", old=False)
    run = subprocess.run(
        [PYTHON, "-m", "apins.cli", "sweep", str(root), "--grace", "0"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"removed {TMP_PREFIX}second"
    again = subprocess.run(
        [PYTHON, "-m", "apins.cli", "sweep", str(root), "--grace", "-1"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        check=False,
    )
    assert again.returncode == 2 and "--grace" in again.stderr


#: small parts, so that a few MiB make a multipart upload
PARTS = TransferSettings(multipart_threshold=5 * MiB, part_size=5 * MiB)


def pins_python_board(server: S3Server, path: str) -> object:
    import pins

    return pins.board_s3(
        path,
        key=server.access_key,
        secret=server.secret_key,
        client_kwargs={"endpoint_url": server.endpoint_url, "region_name": server.region},
        skip_instance_cache=True,
        use_listings_cache=False,
    )


@pytest.fixture
def s3_leftovers(seaweed: S3Server) -> tuple[str, str, str]:
    """A board with pin "p" (one version), then what a writer killed mid-way leaves: a
    data object of a newer version without data.txt, and an unfinished multipart upload."""
    bucket = seaweed.make_bucket()
    client = seaweed.boto3_client()
    orphan = "p/29990101T000000Z-abcde/"
    client.put_object(Bucket=bucket, Key=f"b/{orphan}p.parquet", Body=b"cut")
    upload = client.create_multipart_upload(Bucket=bucket, Key="b/p/29990101T000001Z-fffff/x.bin")
    client.upload_part(
        Bucket=bucket,
        Key="b/p/29990101T000001Z-fffff/x.bin",
        UploadId=upload["UploadId"],
        PartNumber=1,
        Body=b"x" * 1024,
    )
    return bucket, orphan, upload["UploadId"]


async def test_s3_sweep_removes_orphan_versions_and_aborts_uploads(
    seaweed: S3Server, s3_leftovers: tuple[str, str, str]
) -> None:
    bucket, orphan, upload_id = s3_leftovers
    async with seaweed.board(f"{bucket}/b", cache=False, settings=PARTS) as board:
        await board.pin_write({"a": 1}, "q", type="json")
    py = pins_python_board(seaweed, f"{bucket}/b")
    with pytest.raises(Exception):  # noqa: B017 - pins-python's failure is what we fix
        py.pin_search()  # type: ignore[attr-defined]
    async with seaweed.board(f"{bucket}/b", cache=False, settings=PARTS) as board:
        assert await board.sweep() == []  # everything is younger than the grace period
        removed = await board.sweep(grace=0)
        assert removed == [
            orphan,
            f"p/29990101T000001Z-fffff/x.bin (unfinished upload {upload_id})",
        ]
        assert await board.pin_list() == ["q"]
    client = seaweed.boto3_client()
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert sorted(py.pin_list()) == ["q"]  # type: ignore[attr-defined]
    assert len(py.pin_search()) == 1  # type: ignore[attr-defined]


async def test_s3_next_write_of_the_pin_sweeps_after_the_grace_period(
    seaweed: S3Server, s3_leftovers: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket, _, _ = s3_leftovers
    async with seaweed.board(f"{bucket}/b", cache=False, settings=PARTS) as board:
        meta = await board.pin_write({"a": 1}, "p", type="json")  # within the grace period
    client = seaweed.boto3_client()
    assert len(client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])) == 1
    monkeypatch.setattr(path_backend, "SWEEP_GRACE", 0.0)  # as if ten minutes had passed
    async with seaweed.board(f"{bucket}/b", cache=False, settings=PARTS) as board:
        again = await board.pin_write({"a": 2}, "p", type="json")
        assert [v.version for v in await board.pin_versions("p")] == [meta.version, again.version]
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    py = pins_python_board(seaweed, f"{bucket}/b")
    assert list(py.pin_versions("p")["version"]) == [meta.version, again.version]  # type: ignore[attr-defined]
    assert py.pin_read("p") == {"a": 2}  # type: ignore[attr-defined]
