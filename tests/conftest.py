"""Shared fixtures: real servers (session-scoped, started on first use) and env isolation."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from tests.servers import (
    AzuriteServer,
    GCSServer,
    NginxServer,
    PlainHttpServer,
    S3Server,
    ServerStartError,
    start_azurite,
    start_fakegcs,
    start_moto,
    start_nginx,
    start_plain_http,
    start_seaweed,
)

T = TypeVar("T")

# Variables that would make tests talk to the developer's real accounts or caches.
_LEAKY_PREFIXES = ("AWS_", "PINS_", "FSSPEC_S3_", "GOOGLE_", "CLOUDSDK_", "AZURE_STORAGE_")
_LEAKY_NAMES = ("CONNECT_SERVER", "CONNECT_API_KEY", "STORAGE_EMULATOR_HOST")


def _start_or_fail(what: str, start: Callable[[], T]) -> T:
    """Run a server start; a missing binary or failed start fails the test (never skips)."""
    try:
        return start()
    except (FileNotFoundError, ServerStartError) as exc:
        pytest.fail(f"cannot start {what}: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def seaweed() -> Iterator[S3Server]:
    """A SeaweedFS S3 server that verifies signatures (random credentials)."""
    server = _start_or_fail("SeaweedFS (weed mini)", start_seaweed)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def moto() -> Iterator[S3Server]:
    """A moto S3 server (accepts any credentials)."""
    server = _start_or_fail("moto_server", start_moto)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fakegcs() -> Iterator[GCSServer]:
    """A fake-gcs-server (GCS JSON API emulator, no auth)."""
    server = _start_or_fail("fake-gcs-server", start_fakegcs)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def azurite() -> Iterator[AzuriteServer]:
    """An Azurite blob service (the emulator's well-known account and key)."""
    server = _start_or_fail("Azurite", start_azurite)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NginxServer]:
    """nginx serving a session temp dir (`nginx.root`) at `nginx.url` and `nginx.slow_url`."""
    root = tmp_path_factory.mktemp("nginx-www")
    server = _start_or_fail("nginx", lambda: start_nginx(root))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nginx_s3proxy(
    seaweed: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NginxServer]:
    """A separate nginx whose `s3_proxy_url` is a 25 MB/s proxy in front of `seaweed`."""
    root = tmp_path_factory.mktemp("nginx-s3proxy-www")
    server = _start_or_fail(
        "nginx S3 proxy", lambda: start_nginx(root, s3_upstream=seaweed.endpoint_url)
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nginx_s3slow(seaweed: S3Server, nginx_s3proxy: NginxServer) -> S3Server:
    """The `seaweed` server reached through the rate-limited nginx proxy (same API)."""
    assert nginx_s3proxy.s3_proxy_url is not None
    return seaweed.via(nginx_s3proxy.s3_proxy_url, kind="seaweedfs-via-nginx")


@pytest.fixture(scope="session")
def plain_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlainHttpServer]:
    """A stdlib http.server over a session temp dir (`plain_http.root`); ignores Range."""
    root = tmp_path_factory.mktemp("plain-www")
    server = _start_or_fail("plain http server", lambda: start_plain_http(root))
    yield server
    server.stop()


def _isolate(mp: pytest.MonkeyPatch, home: Path) -> None:
    """Drop credentials/caches inherited from the user's environment; use `home` instead."""
    for name in list(os.environ):
        if name.startswith(_LEAKY_PREFIXES) or name in _LEAKY_NAMES:
            mp.delenv(name)
    mp.setenv("PINS_CACHE_DIR", str(home / "pins-cache"))
    mp.setenv("PINS_DATA_DIR", str(home / "pins-data"))
    # No ~/.aws files and no instance-metadata lookups.
    mp.setenv("AWS_CONFIG_FILE", str(home / "aws-config-absent"))
    mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials-absent"))
    mp.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session", autouse=True)
def _session_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Isolate the whole session (session fixtures such as servers included)."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        _isolate(mp, home)
        yield home


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, _session_home: Path) -> None:
    """Re-isolate before each test, undoing anything an earlier test leaked into os.environ."""
    _isolate(monkeypatch, _session_home)


@pytest.fixture
def pins_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A fresh, empty PINS_CACHE_DIR for this test."""
    path = tmp_path / "pins-cache"
    path.mkdir()
    monkeypatch.setenv("PINS_CACHE_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Run anyio-marked tests on asyncio only."""
    return "asyncio"
