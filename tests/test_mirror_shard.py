"""mirror(..., shard=(k, n)) and ``apins mirror --shard k/n``: n shards make one whole mirror."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

import apins
from apins._mirror.shard import parse_shard, shard_of
from tests.mirror_support import APINS, T0, fill, folder_files, s3_objects
from tests.servers import S3Server


def _pins(report: apins.MirrorReport) -> set[str]:
    return {r.pin for r in [*report.copied, *report.skipped, *report.deleted]}


def test_shard_of_is_stable_across_processes_and_hash_seeds() -> None:
    names = [f"pin{i}" for i in range(40)]
    here = [shard_of(n, 3) for n in names]
    code = (
        "from apins._mirror.shard import shard_of\n"
        "print([shard_of(f'pin{i}', 3) for i in range(40)])"
    )
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert json.loads(out) == here
    assert set(here) == {0, 1, 2}  # the hash spreads pins over every shard
    assert shard_of("sales", 4) == shard_of("sales", 4) == 1  # a fixed value: never hash()


@pytest.mark.parametrize("bad", [(2, 2), (-1, 2), (0, 0), (1,), (0, 1.5), "0/2", (True, 2)])
async def test_bad_shard_is_refused(bad: object, tmp_path: Path) -> None:
    async with apins.board_folder(tmp_path / "a") as a, apins.board_folder(tmp_path / "b") as b:
        with pytest.raises(ValueError, match="shard"):
            await apins.mirror(a, b, shard=bad)  # type: ignore[arg-type]
    for text in ("2/2", "x/2", "1", "0/0"):
        with pytest.raises(ValueError, match=r"k/n|shard"):
            parse_shard(text)


async def test_shards_together_equal_one_mirror_and_delete_orphans_once(tmp_path: Path) -> None:
    async with (
        apins.board_folder(tmp_path / "src") as src,
        apins.board_folder(tmp_path / "dst") as dst,
        apins.board_folder(tmp_path / "whole") as whole,
    ):
        written = await fill(src, 8, 2)
        await fill(dst, 3, 1, tag="orphan")  # target pins the source lacks
        await fill(whole, 3, 1, tag="orphan")
        one = await apins.mirror(src, whole, delete=True)
        parts = [await apins.mirror(src, dst, shard=(k, 3), delete=True) for k in range(3)]
    assert all(p.ok for p in parts) and one.ok
    # every pin (copied or orphan) belongs to exactly one shard
    for k, part in enumerate(parts):
        assert all(shard_of(p, 3) == k for p in _pins(part)), k
    assert sum(len(p.copied) for p in parts) == len(one.copied) == 16
    assert sum(len(p.deleted) for p in parts) == len(one.deleted) == 3
    assert {r for p in parts for r in p.copied} == set(one.copied)
    assert folder_files(tmp_path / "dst") == folder_files(tmp_path / "whole")
    assert set(written) == {p.name for p in (tmp_path / "dst").iterdir() if p.is_dir()}


async def test_s3_shards_at_once_equal_one_mirror(seaweed: S3Server, tmp_path: Path) -> None:
    """Three shards S3 -> S3 at the same time, each with its own boards (as separate hosts
    would): together they make the single mirror, each orphan deleted by one shard only."""
    bucket = seaweed.make_bucket("shards")

    async def stale(board: apins.Board) -> None:  # a target version the source lacks
        await board.pin_write({"stale": True}, "pin3", type="json", created=T0.replace(hour=9))

    async with seaweed.board(f"{bucket}/src", cache=tmp_path / "c-src") as src:
        written = await fill(src, 8, 2)
        for prefix in ("dst", "whole"):
            async with seaweed.board(f"{bucket}/{prefix}", cache=tmp_path / f"c-{prefix}") as b:
                await fill(b, 4, 1, tag="old")  # orphans: one in shard 0, one in 1, two in 2
                await stale(b)
        assert s3_objects(seaweed, bucket, "dst/") == s3_objects(seaweed, bucket, "whole/")
        async with seaweed.board(f"{bucket}/whole", cache=tmp_path / "c-whole") as whole:
            one = await apins.mirror(src, whole, delete=True)

    async def shard(k: int, run: str) -> apins.MirrorReport:
        async with (
            seaweed.board(f"{bucket}/src", cache=tmp_path / f"{run}{k}s") as s,
            seaweed.board(f"{bucket}/dst", cache=tmp_path / f"{run}{k}d") as d,
        ):
            return await apins.mirror(s, d, delete=True, shard=(k, 3))

    parts = await asyncio.gather(*(shard(k, "a") for k in range(3)))
    assert one.ok and len(one.copied) == 16 and len(one.deleted) == 5, one
    assert all(p.ok and not p.failed for p in parts), [p.failed for p in parts]
    for k, part in enumerate(parts):
        assert part.copied and part.deleted, k  # every shard had work of both kinds
        assert all(shard_of(p, 3) == k for p in _pins(part)), k
    copied = [r for p in parts for r in p.copied]
    deleted = [r for p in parts for r in p.deleted]
    assert sorted(copied) == sorted(one.copied) and {r.pin for r in copied} == set(written)
    assert sorted(deleted) == sorted(one.deleted)  # each orphan and stale version: once
    assert s3_objects(seaweed, bucket, "dst/") == s3_objects(seaweed, bucket, "whole/")
    again = await asyncio.gather(*(shard(k, "b") for k in range(3)))
    assert all(a.ok and not a.copied and not a.deleted for a in again), again
    assert sum(len(a.skipped) for a in again) == 16


def test_cli_shard(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"

    async def setup() -> None:
        async with apins.board_folder(src) as b:
            await fill(b, 6, 1)

    anyio.run(setup)
    env = {**os.environ, "HOME": str(tmp_path)}
    copied: list[str] = []
    for k in range(2):
        done = subprocess.run(
            [str(APINS), "mirror", str(src), str(dst), "--shard", f"{k}/2", "--json"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        pins = [r["pin"] for r in json.loads(done.stdout)["copied"]]
        assert pins and all(shard_of(p, 2) == k for p in pins)
        copied += pins
    assert sorted(copied) == [f"pin{i}" for i in range(6)]
    assert folder_files(dst) == folder_files(src)
    bad = subprocess.run(
        [str(APINS), "mirror", str(src), str(dst), "--shard", "2/2"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "--shard" in bad.stderr and "0 <= k < n" in bad.stderr
