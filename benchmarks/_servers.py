"""The servers a benchmark run shares, started on first use and stopped at the end.

SeaweedFS, nginx (a folder, an S3 proxy that logs requests), the WAN-like proxies and the
Connect emulator each run as their own process bound to 127.0.0.1, so neither library shares
a GIL with a server.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.servers import (
    AzuriteServer,
    GCSServer,
    NginxServer,
    S3Server,
    start_azurite,
    start_fakegcs,
    start_nginx,
    start_seaweed,
)

from ._proc import stop_process
from ._wanlink import WanProxy, start_wan_proxy


@dataclass
class ConnectProcess:
    """A Connect emulator running as a subprocess (``python -m apins.testing.connect``)."""

    url: str
    user: str
    api_key: str = field(repr=False)
    proc: subprocess.Popen[bytes] = field(repr=False)

    def stop(self) -> None:
        stop_process(self.proc)


def start_connect(root: Path, timeout: float = 30.0) -> ConnectProcess:
    """Start the emulator on a free port with one publisher, ``bench``, and a random key."""
    key = "bench" + secrets.token_hex(12)
    root.mkdir(parents=True, exist_ok=True)
    log = open(root.parent / f"{root.name}.log", "wb")  # noqa: SIM115 - lives with the process
    cmd = [
        sys.executable, "-m", "apins.testing.connect", "--host", "127.0.0.1", "--port", "0",
        "--root", str(root), "--user", f"bench:{key}",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log)
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode(errors="replace")
        if not line and proc.poll() is not None:
            raise RuntimeError(f"the Connect emulator exited early (code {proc.returncode})")
        m = re.search(r"(http://\S+)", line)
        if m:
            return ConnectProcess(url=m.group(1).rstrip("/"), user="bench", api_key=key, proc=proc)
    proc.kill()
    raise RuntimeError("the Connect emulator did not print its URL in time")


class Servers:
    """Lazily started servers for one benchmark run."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self._seaweed: S3Server | None = None
        self._nginx_s3: NginxServer | None = None
        self._nginx_www: NginxServer | None = None
        self._connect: ConnectProcess | None = None
        self._fakegcs: GCSServer | None = None
        self._azurite: AzuriteServer | None = None
        self._wan: dict[str, WanProxy] = {}

    @property
    def seaweed(self) -> S3Server:
        if self._seaweed is None:
            self._seaweed = start_seaweed()
        return self._seaweed

    @property
    def s3_proxy(self) -> NginxServer:
        """nginx in front of SeaweedFS: ``s3_proxy_url`` caps each connection at 25 MB/s."""
        if self._nginx_s3 is None:
            self._nginx_s3 = start_nginx(s3_upstream=self.seaweed.endpoint_url)
        return self._nginx_s3

    def s3_via_proxy(self) -> S3Server:
        url = self.s3_proxy.s3_proxy_url
        assert url is not None
        return self.seaweed.via(url, "seaweedfs-wan")

    @property
    def www(self) -> NginxServer:
        """nginx serving ``work/www`` at ``url`` (benchmarks/wan.py puts a WAN proxy in front)."""
        if self._nginx_www is None:
            root = self.work / "www"
            root.mkdir(exist_ok=True)
            os.chmod(self.work, 0o755)
            self._nginx_www = start_nginx(root=root)
        return self._nginx_www

    @property
    def connect(self) -> ConnectProcess:
        if self._connect is None:
            self._connect = start_connect(self.work / "connect")
        return self._connect

    @property
    def fakegcs(self) -> GCSServer:
        """fake-gcs-server (in memory): the GCS JSON API emulator."""
        if self._fakegcs is None:
            self._fakegcs = start_fakegcs()
        return self._fakegcs

    @property
    def azurite(self) -> AzuriteServer:
        """Azurite's blob service (the emulator's well-known account)."""
        if self._azurite is None:
            self._azurite = start_azurite()
        return self._azurite

    def wan(self, upstream_url: str) -> WanProxy:
        """The WAN-like proxy in front of ``upstream_url`` (see benchmarks/_wanproxy.py)."""
        if upstream_url not in self._wan:
            self._wan[upstream_url] = start_wan_proxy(upstream_url)
        return self._wan[upstream_url]

    def stop(self) -> None:
        while self._wan:
            self._wan.popitem()[1].stop()
        for name in ("_azurite", "_fakegcs", "_connect", "_nginx_www", "_nginx_s3", "_seaweed"):
            server: Any = getattr(self, name)
            if server is not None:
                try:
                    server.stop()
                finally:
                    setattr(self, name, None)
