"""Helpers for the mirror and CLI tests: boards on real servers, filling and inspecting them."""

from __future__ import annotations

import os
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from apins.board import Board
from apins.settings import MiB, TransferSettings
from tests.servers import S3Server

T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
REPO = Path(__file__).resolve().parents[1]
APINS = Path(sys.executable).parent / "apins"

#: small parts so that a few MiB already exercise ranged downloads and multipart uploads
SMALL_PARTS = TransferSettings(
    part_size=5 * MiB,
    range_threshold=6 * MiB,
    multipart_threshold=6 * MiB,
    chunk_size=256 * 1024,
    backoff_base=0.01,
    backoff_max=0.05,
)


async def fill(board: Board, pins: int, versions: int, *, tag: str = "") -> dict[str, list[str]]:
    """Write ``pins`` json pins with ``versions`` versions each (one second apart).

    Returns pin → version names, oldest first.
    """
    out: dict[str, list[str]] = {}
    for p in range(pins):
        name = f"pin{p}{tag}"
        for v in range(versions):
            meta = await board.pin_write(
                {"pin": p, "version": v, "tag": tag}, name, type="json",
                created=T0 + timedelta(seconds=v), metadata={"v": v},
            )  # fmt: skip
            out.setdefault(name, []).append(meta.version or "")
    return out


async def write_files(board: Board, name: str, files: list[Path], when: datetime) -> str:
    """Pin ``files`` as one version created at ``when``; return its version name."""
    meta = await board.pin_upload(files, name, created=when)
    return meta.version or ""


def big_file(path: Path, size: int, seed: int = 0) -> Path:
    """A file of ``size`` pseudo-random bytes (different for each seed)."""
    block = random.Random(seed).randbytes(1024 * 1024)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            chunk = block[: min(left, len(block))]
            f.write(chunk)
            left -= len(chunk)
    return path


def s3_objects(server: S3Server, bucket: str, prefix: str) -> dict[str, bytes]:
    """Every object under ``prefix`` (keys relative to it) with its bytes."""
    client = server.boto3_client()
    out: dict[str, bytes] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            out[item["Key"][len(prefix) :]] = body
    return out


def s3_keys(server: S3Server, bucket: str, prefix: str) -> list[str]:
    """Keys under ``prefix`` (relative to it), without reading the objects."""
    client = server.boto3_client()
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [item["Key"][len(prefix) :] for item in page.get("Contents", [])]
    return keys


def folder_files(root: Path) -> dict[str, bytes]:
    """Every visible file of a folder board (hidden temp folders skipped) with its bytes."""
    out: dict[str, bytes] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and not any(part.startswith(".") for part in rel.parts):
            out[rel.as_posix()] = p.read_bytes()
    return out


def versions_of(files: dict[str, bytes]) -> dict[str, set[str]]:
    """pin → version folders that hold any file (complete or not), from a key listing."""
    found: dict[str, set[str]] = {}
    for key in files:
        parts = key.split("/")
        if len(parts) >= 3:
            found.setdefault(parts[0], set()).add(parts[1])
    return found


def cli_env(server: S3Server | None = None, **extra: str) -> dict[str, str]:
    """Environment for an ``apins`` subprocess (S3 credentials of ``server``)."""
    env = dict(os.environ)
    if server is not None:
        env.update(server.env())
    env.update(extra)
    return env
