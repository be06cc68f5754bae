"""Start and stop a real Azurite (Azure Blob emulator) on 127.0.0.1.

Azurite is an npm package run with node directly (never through npx, which leaves node
behind when stopped). It is looked up in ``$APINS_AZURITE_DIR``, then in the git-ignored
``.azurite/`` folder at the repository root, where ``nox -s tests`` installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._proc import LOOPBACK, free_port, http_answers, spawn, start_with_retries, stop, wait_until

#: the emulator's well-known (public, documented) account and key
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_MAIN = Path("node_modules", "azurite", "dist", "src", "blob", "main.js")
REPO = Path(__file__).resolve().parents[2]


def azurite_main() -> Path:
    """The Azurite blob entry point; FileNotFoundError with a hint when it is not installed."""
    places = [Path(os.environ["APINS_AZURITE_DIR"])] if os.environ.get("APINS_AZURITE_DIR") else []
    places.append(REPO / ".azurite")
    for place in places:
        if (place / _MAIN).is_file():
            return place / _MAIN
    raise FileNotFoundError(
        "Azurite is not installed: run `nox -s tests` once, or "
        "`npm install --prefix .azurite azurite` in the repository"
    )


@dataclass
class AzuriteServer:
    """A running Azurite blob service; the account key is kept out of repr."""

    blob_url: str
    account: str = ACCOUNT
    key: str = field(default=KEY, repr=False)
    log_path: Path | None = field(default=None, repr=False)
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _workdir: Path | None = field(default=None, repr=False)

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={self.account};AccountKey={self.key};"
            f"BlobEndpoint={self.blob_url};"
        )

    def via(self, base_url: str) -> AzuriteServer:
        """The same account reached through ``base_url`` (a proxy in front of this server)."""
        return AzuriteServer(blob_url=f"{base_url.rstrip('/')}/{self.account}", key=self.key)

    def service(self) -> Any:
        """A synchronous azure-storage-blob BlobServiceClient (test setup and checks)."""
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient.from_connection_string(self.connection_string)

    def make_container(self, prefix: str = "t") -> str:
        """A new, uniquely named, empty container."""
        name = f"{prefix}-{uuid.uuid4().hex[:12]}".lower()
        self.service().create_container(name)
        return name

    def env(self) -> dict[str, str]:
        """AZURE_STORAGE_CONNECTION_STRING for subprocesses."""
        return {"AZURE_STORAGE_CONNECTION_STRING": self.connection_string}

    def stop(self) -> None:
        if self._proc is not None:
            stop(self._proc)
            self._proc = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> AzuriteServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _start_once(node: str, main: Path, timeout: float) -> AzuriteServer:
    workdir = Path(tempfile.mkdtemp(prefix="apins-azurite-"))
    port = free_port()
    log_path = workdir / "azurite.log"
    cmd = [
        node,
        str(main),
        "--blobHost",
        LOOPBACK,
        "--blobPort",
        str(port),
        "--location",
        str(workdir / "data"),
        "--skipApiVersionCheck",
        "--loose",
        "--silent",
        "--disableTelemetry",
    ]
    if os.environ.get("APINS_AZURITE_DEBUG"):  # a debug log (string-to-sign of each request)
        cmd += ["--debug", os.environ["APINS_AZURITE_DEBUG"]]
    proc = spawn(cmd, log_path, cwd=workdir)
    server = AzuriteServer(
        blob_url=f"http://{LOOPBACK}:{port}/{ACCOUNT}",
        log_path=log_path,
        _proc=proc,
        _workdir=workdir,
    )
    try:
        wait_until(lambda: http_answers(server.blob_url), proc, log_path, "azurite", timeout)
    except BaseException:
        server.stop()
        raise
    return server


def start_azurite(timeout: float = 60.0, attempts: int = 3) -> AzuriteServer:
    """Start Azurite's blob service on a free loopback port (in-memory account, temp data).

    Raises FileNotFoundError when node or Azurite is missing, ServerStartError otherwise.
    """
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        raise FileNotFoundError("node is not installed (apt-get install nodejs npm)")
    main = azurite_main()
    return start_with_retries(lambda: _start_once(node, main, timeout), attempts)
