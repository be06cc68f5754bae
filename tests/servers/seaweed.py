"""Start and stop a real SeaweedFS (`weed mini`) S3 server on 127.0.0.1."""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from pathlib import Path

from ._proc import (
    LOOPBACK,
    find_binary,
    free_ports,
    http_answers,
    spawn,
    start_with_retries,
    wait_until,
)
from .s3 import S3Server

# Every listening component of `weed mini`, each with its own explicit port.
_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
    "webdav.port",
)


def _command(weed: str, data_dir: Path, ports: dict[str, int]) -> list[str]:
    cmd = [
        weed,
        "mini",
        f"-dir={data_dir}",
        f"-ip={LOOPBACK}",
        f"-ip.bind={LOOPBACK}",
        "-master.telemetry=false",
        "-webdav=false",
        "-admin.ui=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        # Behave like AWS: no implicit bucket creation, no deleting non-empty buckets.
        "-s3.autoCreateBucket=false",
        "-s3.allowDeleteBucketNotEmpty=false",
        f"-filer.localSocket={data_dir}/filer.sock",
        f"-s3.localSocket={data_dir}/s3.sock",
        f"-admin.dataDir={data_dir}/admin",
        # Every bucket is a collection with volumes of its own. By default the volume count is
        # free disk / volume size, which a whole test session (hundreds of buckets) exhausts
        # ("No writable volumes and no free volumes left"); volumes are sparse files, so a
        # high fixed limit costs nothing.
        "-volume.max=5000",
    ]
    cmd += [f"-{flag}={port}" for flag, port in ports.items()]
    return cmd


def _bucket_probe(server: S3Server) -> bool:
    client = server.boto3_client()
    name = server.make_bucket("ready")
    client.delete_bucket(Bucket=name)
    return True


def _start_once(weed: str, timeout: float) -> S3Server:
    workdir = Path(tempfile.mkdtemp(prefix="apins-weed-"))
    data_dir = workdir / "data"
    data_dir.mkdir()
    ports = dict(zip(_PORT_FLAGS, free_ports(len(_PORT_FLAGS)), strict=True))
    access_key = "apins" + secrets.token_hex(6)
    secret_key = secrets.token_urlsafe(30)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY=secret_key)
    log_path = workdir / "weed.log"
    proc = spawn(_command(weed, data_dir, ports), log_path, env=env, cwd=workdir)
    server = S3Server(
        endpoint_url=f"http://{LOOPBACK}:{ports['s3.port']}",
        access_key=access_key,
        secret_key=secret_key,
        kind="seaweedfs",
        log_path=log_path,
        _proc=proc,
        _workdir=workdir,
    )
    try:
        deadline = time.monotonic() + timeout
        wait_until(lambda: http_answers(server.endpoint_url), proc, log_path, "weed mini", timeout)
        remaining = max(deadline - time.monotonic(), 5.0)
        wait_until(lambda: _bucket_probe(server), proc, log_path, "weed mini S3", remaining)
    except BaseException:
        server.stop()
        raise
    return server


def start_seaweed(timeout: float = 60.0, attempts: int = 3) -> S3Server:
    """Start `weed mini` on free loopback ports with fresh random credentials.

    Returns once the S3 port answers and a bucket can be created. Retries with
    new ports when the server dies early (e.g. a port was taken meanwhile).
    Raises FileNotFoundError when `weed` is missing, ServerStartError otherwise.
    """
    weed = find_binary("weed")
    return start_with_retries(lambda: _start_once(weed, timeout), attempts)
