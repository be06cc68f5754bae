"""Bounded memory of big S3, Azure and GCS transfers: the peak resident memory of a 112 MiB
upload and download stays under ``max_concurrency * part_size`` plus a margin, measured in a
fresh interpreter (tests/_helpers/rss_child.py) against SeaweedFS, Azurite and
fake-gcs-server. A transfer that held the file, or leaked parts, would exceed it by tens of
MiB. (benchmarks/memory.py measures S3 at 1 GiB beside pins-python, outside CI.)"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from apins.settings import MiB
from tests._helpers import PYTHON, REPO, subprocess_env
from tests.servers import AzuriteServer, GCSServer, S3Server

SIZE = 112 * MiB
PARTS = {"part_size": 8 * MiB, "max_concurrency": 4, "range_threshold": 8 * MiB,
         "multipart_threshold": 8 * MiB}  # fmt: skip
IN_FLIGHT_MIB = PARTS["part_size"] * PARTS["max_concurrency"] / MiB
#: sockets' and the event loop's buffers, allocator slack; well below the file's 112 MiB
MARGIN_MIB = 32


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mem") / "big.bin"
    with path.open("wb") as f:
        for _ in range(SIZE // MiB):
            f.write(os.urandom(MiB))
    return path


def _measure(spec: dict[str, Any], op: str, cache: Path) -> dict[str, Any]:
    """``op`` in a fresh interpreter: memory that an earlier op freed cannot hide a peak."""
    spec = {**spec, "op": op, "cache": str(cache)}
    done = subprocess.run(
        [PYTHON, "-m", "tests._helpers.rss_child"], input=json.dumps(spec), capture_output=True,
        text=True, env=subprocess_env(), cwd=REPO, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if not report["reset"]:
        pytest.fail("this kernel refused to reset VmHWM (/proc/self/clear_refs)")
    return report


def _check(spec: dict[str, Any], tmp_path: Path) -> None:
    for op in ("upload", "download"):
        r = _measure(spec, op, tmp_path / f"cache-{op}")
        assert r["peak_above_mib"] < IN_FLIGHT_MIB + MARGIN_MIB, (op, r)


def test_azure_big_transfers_use_bounded_memory(
    azurite: AzuriteServer, big: Path, tmp_path: Path
) -> None:
    spec = {"kind": "azure", "path": f"{azurite.make_container()}/mem", "settings": PARTS,
            "connection_string": azurite.connection_string, "file": str(big)}  # fmt: skip
    _check(spec, tmp_path)


def test_gcs_big_transfers_use_bounded_memory(
    fakegcs: GCSServer, big: Path, tmp_path: Path
) -> None:
    spec = {"kind": "gcs", "path": f"{fakegcs.make_bucket()}/mem", "settings": PARTS,
            "endpoint_url": fakegcs.url, "file": str(big)}  # fmt: skip
    _check(spec, tmp_path)


def test_s3_big_transfers_use_bounded_memory(seaweed: S3Server, big: Path, tmp_path: Path) -> None:
    spec = {"kind": "s3", "path": f"{seaweed.make_bucket('mem')}/mem", "settings": PARTS,
            "endpoint_url": seaweed.endpoint_url, "region": seaweed.region,
            "access_key": seaweed.access_key, "secret_key": seaweed.secret_key,
            "file": str(big)}  # fmt: skip
    _check(spec, tmp_path)
