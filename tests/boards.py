"""Board kinds for the fault suite: one small function per kind.

A kind is an async context manager ``kind(request, tmp) -> Rig``. The Rig says which real
server the fault proxy fronts (``upstream``), how to build a board that talks to it through
the proxy (``board(proxy_url, settings, cache)``), and how to reach the server directly to
seed pins (``direct``) and to replace a pin's file in place (``replace``). Register a new
kind with ``@kind("name")``; the fault suite picks it up.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import apins
from apins import Board, TransferSettings

#: a board built through the proxy: (proxy URL, settings, cache dir) -> Board
BoardFactory = Callable[[str, TransferSettings, Path], Board]
#: replace file ``filename`` of version ``version`` of pin ``pin`` with ``data`` upstream
Replacer = Callable[[str, str, str, bytes], Awaitable[None]]


@dataclass
class Rig:
    upstream: str
    board: BoardFactory
    #: a writable board straight to the server (seeding; also checking what was stored)
    direct: Callable[[], Board]
    #: whether ``board`` accepts writes
    writable: bool
    #: run after seeding through ``direct`` (e.g. write the manifest a URL board needs)
    publish: Callable[[Board], Awaitable[None]] | None = None
    #: a board to seed pins on, when faster than ``direct`` (then ``publish`` moves them)
    seeder: Callable[[], Board] | None = None
    replace: Replacer | None = None
    #: S3 only: the bucket and key prefix of the board (to inspect uploads)
    s3: Any = None
    bucket: str = ""
    #: Connect only: the emulator
    connect: Any = None
    #: pins-python 0.9.2 on the same board (what a peer sees); pin names as it spells them
    peer: Callable[[], Any] | None = None
    peer_name: Callable[[str], str] = lambda name: name
    #: every object name in the board's bucket, as the server lists it (where set)
    objects: Callable[[], list[str]] | None = None


KindFactory = Callable[[pytest.FixtureRequest, Path], contextlib.AbstractAsyncContextManager[Rig]]
KINDS: dict[str, KindFactory] = {}


def kind(name: str) -> Callable[[Callable[..., AsyncIterator[Rig]]], KindFactory]:
    """Register an async generator ``(request, tmp) -> Rig`` as board kind ``name``."""

    def register(fn: Callable[..., AsyncIterator[Rig]]) -> KindFactory:
        factory = contextlib.asynccontextmanager(fn)
        KINDS[name] = factory
        return factory

    return register


def _s3_rig(server: Any, tmp: Path) -> Rig:
    bucket = server.make_bucket("f")
    creds = {
        "region": server.region,
        "access_key": server.access_key,
        "secret_key": server.secret_key,
    }

    def board(url: str, settings: TransferSettings, cache: Path) -> Board:
        return apins.board_s3(
            f"{bucket}/pins", endpoint_url=url, cache=cache, settings=settings, **creds
        )

    async def replace(pin: str, version: str, filename: str, data: bytes) -> None:
        key = f"pins/{pin}/{version}/{filename}"
        server.boto3_client().put_object(Bucket=bucket, Key=key, Body=data)

    # seeding writes a folder board and copies it with the (cached) boto3 client: much
    # faster than a new aiobotocore client per test
    seed_dir = tmp / "s3-seed"

    async def publish(_: Board) -> None:
        client = server.boto3_client()
        for path in sorted(seed_dir.rglob("*")):
            if path.is_file() and not any(p.startswith(".") for p in path.parts[-3:]):
                key = "pins/" + path.relative_to(seed_dir).as_posix()
                client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())

    def peer() -> Any:
        import pins

        return pins.board_s3(
            f"{bucket}/pins", key=server.access_key, secret=server.secret_key,
            client_kwargs={"endpoint_url": server.endpoint_url, "region_name": server.region},
            skip_instance_cache=True, use_listings_cache=False,
        )  # fmt: skip

    return Rig(
        peer=peer,
        seeder=lambda: apins.board_folder(seed_dir),
        publish=publish,
        upstream=server.endpoint_url,
        board=board,
        direct=lambda: apins.board_s3(
            f"{bucket}/pins", endpoint_url=server.endpoint_url, cache=False, **creds
        ),
        writable=True,
        replace=replace,
        s3=server,
        bucket=bucket,
    )


@kind("s3-seaweed")
async def s3_seaweed(request: pytest.FixtureRequest, tmp: Path) -> AsyncIterator[Rig]:
    _peer_env(request, tmp)
    yield _s3_rig(request.getfixturevalue("seaweed"), tmp)


@kind("s3-moto")
async def s3_moto(request: pytest.FixtureRequest, tmp: Path) -> AsyncIterator[Rig]:
    _peer_env(request, tmp)
    yield _s3_rig(request.getfixturevalue("moto"), tmp)


@kind("url-nginx")
async def url_nginx(request: pytest.FixtureRequest, tmp: Path) -> AsyncIterator[Rig]:
    nginx = request.getfixturevalue("nginx")
    folder = Path(nginx.root) / tmp.name
    folder.mkdir(parents=True, exist_ok=True)

    async def publish(direct: Board) -> None:
        await direct.write_board_manifest()

    async def replace(pin: str, version: str, filename: str, data: bytes) -> None:
        (folder / pin / version / filename).write_bytes(data)

    yield Rig(
        upstream=nginx.url,
        board=lambda url, settings, cache: apins.board_url(
            f"{url}/{tmp.name}/", cache=cache, settings=settings
        ),
        direct=lambda: apins.board_folder(folder),
        writable=False,
        publish=publish,
        replace=replace,
    )


@kind("connect")
async def connect(request: pytest.FixtureRequest, tmp: Path) -> AsyncIterator[Rig]:
    from apins.connect import board_connect
    from apins.testing.connect import ConnectEmulator

    _peer_env(request, tmp)
    async with ConnectEmulator(root=tmp / "connect", users={"alice": "key-a"}) as server:
        yield Rig(
            upstream=server.url,
            board=lambda url, settings, cache: board_connect(
                url, "key-a", cache=cache, settings=settings
            ),
            direct=lambda: board_connect(server.url, "key-a", cache=False),
            writable=True,
            connect=server,
            peer=lambda: _pins().board_connect(server_url=server.url, api_key="key-a"),
            peer_name=lambda name: f"alice/{name}",
        )


@kind("azure-azurite")
async def azure_azurite(request: pytest.FixtureRequest, tmp: Path) -> AsyncIterator[Rig]:
    server = request.getfixturevalue("azurite")
    container = server.make_container("f")
    # pins-python's adlfs reads the environment
    _peer_env(request, tmp, AZURE_STORAGE_CONNECTION_STRING=server.connection_string)

    def board(url: str, settings: TransferSettings, cache: Path) -> Board:
        via = server.via(url)  # the proxy in front of Azurite, same account and key
        return apins.board_azure(
            f"{container}/pins", cache=cache, settings=settings,
            connection_string=via.connection_string,
        )  # fmt: skip

    async def replace(pin: str, version: str, filename: str, data: bytes) -> None:
        blob = server.service().get_blob_client(container, f"pins/{pin}/{version}/{filename}")
        blob.upload_blob(data, overwrite=True)

    yield Rig(
        upstream=server.blob_url.rsplit("/", 1)[0],
        board=board,
        direct=lambda: apins.board_azure(
            f"{container}/pins", cache=False, connection_string=server.connection_string
        ),
        writable=True,
        replace=replace,
        peer=lambda: _pins().board_azure(f"{container}/pins"),
    )


@kind("gcs-fakegcs")
async def gcs_fakegcs(request: pytest.FixtureRequest, tmp: Path) -> AsyncIterator[Rig]:
    server = request.getfixturevalue("fakegcs")
    bucket = server.make_bucket("f")
    # pins-python's gcsfs finds the emulator in the environment; its experimental zonal-bucket
    # probe speaks gRPC over TLS, which the emulator lacks
    _peer_env(
        request, tmp, STORAGE_EMULATOR_HOST=server.url, GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT="false"
    )

    async def replace(pin: str, version: str, filename: str, data: bytes) -> None:
        server.put_object(bucket, f"pins/{pin}/{version}/{filename}", data)

    yield Rig(
        upstream=server.url,
        board=lambda url, settings, cache: apins.board_gcs(
            f"{bucket}/pins", cache=cache, settings=settings, endpoint_url=url
        ),
        direct=lambda: apins.board_gcs(f"{bucket}/pins", cache=False, endpoint_url=server.url),
        writable=True,
        replace=replace,
        bucket=bucket,
        objects=lambda: server.list_names(bucket),
        peer=lambda: _pins().board_gcs(f"{bucket}/pins"),
    )


def _peer_env(request: pytest.FixtureRequest, tmp: Path, **env: str) -> None:
    """Set what pins-python needs in the environment for this test (its cache: in ``tmp``)."""
    patch = request.getfixturevalue("monkeypatch")
    for name, value in {"PINS_CACHE_DIR": str(tmp / "py-cache"), **env}.items():
        patch.setenv(name, value)


def _pins() -> Any:
    import pins

    return pins


async def seed(rig: Rig, tmp: Path, data: bytes, name: str = "blob") -> tuple[str, str]:
    """Upload ``data`` as file pin ``name`` straight to the server; (version, file name)."""
    src = tmp / f"{name}.bin"
    src.write_bytes(data)
    async with (rig.seeder or rig.direct)() as b:
        await b.pin_upload(str(src), name)
        meta = await b.pin_meta(name)
        if rig.publish is not None:
            await rig.publish(b)
    assert meta.version is not None
    return meta.version, meta.files[0]


#: the board kinds whose files are plain store objects (every kind but Connect, whose bundles
#: never change and which has no offline mode)
OBJECT_KINDS = tuple(sorted(k for k in KINDS if k != "connect"))
