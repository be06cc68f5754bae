"""Start and stop a real moto S3 server process on 127.0.0.1."""

from __future__ import annotations

import os
import tempfile
import urllib.request
from pathlib import Path

from ._proc import LOOPBACK, find_binary, free_port, spawn, start_with_retries, wait_until
from .s3 import S3Server


def _moto_api_ok(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/moto-api/", timeout=2) as resp:
        return bool(resp.status == 200)


def _start_once(moto_server: str, timeout: float) -> S3Server:
    workdir = Path(tempfile.mkdtemp(prefix="apins-moto-"))
    port = free_port()
    log_path = workdir / "moto.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = spawn([moto_server, "-H", LOOPBACK, "-p", str(port)], log_path, env=env, cwd=workdir)
    server = S3Server(
        endpoint_url=f"http://{LOOPBACK}:{port}",
        access_key="testing",
        secret_key="testing",
        kind="moto",
        log_path=log_path,
        _proc=proc,
        _workdir=workdir,
    )
    try:
        url = server.endpoint_url
        wait_until(lambda: _moto_api_ok(url), proc, log_path, "moto_server", timeout)
    except BaseException:
        server.stop()
        raise
    return server


def start_moto(timeout: float = 60.0, attempts: int = 3) -> S3Server:
    """Start `moto_server` on a free loopback port; returns once /moto-api/ answers 200.

    moto does not verify signatures; any credentials work. Raises
    FileNotFoundError when `moto_server` is missing, ServerStartError otherwise.
    """
    binary = find_binary("moto_server")
    return start_with_retries(lambda: _start_once(binary, timeout), attempts)


def reset_moto(server: S3Server) -> None:
    """Wipe all state of a moto server (buckets, objects)."""
    req = urllib.request.Request(f"{server.endpoint_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()
