"""One error type: every public verb, async or sync, raises only PinsError subclasses with
the original error as ``__cause__``; no ExceptionGroup escapes (issue 9, item 2)."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest

import apins
import apins.sync
from apins import (
    InvalidMetadata,
    InvalidPinName,
    PinsError,
    StoreAccessError,
    VersionNotFound,
)
from apins.errors import HashMismatch, TransferError
from apins.meta import parse_meta
from tests.servers import S3Server

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup, ExceptionGroup


def _s3(server: S3Server, path: str, **kw: object) -> apins.Board:
    return server.board(path, **{"cache": False, **kw})


async def _three_files(board: apins.Board, tmp_path: Path) -> apins.Meta:
    paths = []
    for i in range(3):
        p = tmp_path / f"f{i}.bin"
        p.write_bytes(bytes([i]) * (1000 + i))
        paths.append(p)
    return await board.pin_upload(paths, "many")


# -- exception groups ------------------------------------------------------------------------


def test_collapse_picks_the_meaningful_error_and_notes_the_others() -> None:
    from apins._one_error import collapse

    noise = TransferError("connection reset")
    real = HashMismatch("file 2 does not match")
    other = ValueError("boom")
    chosen = collapse(ExceptionGroup("x", [noise, ExceptionGroup("y", [other, real])]))
    assert chosen is real
    notes = "\n".join(getattr(chosen, "__notes__", []))
    assert "connection reset" in notes and "boom" in notes


async def test_concurrent_fetch_failures_raise_one_pins_error(
    seaweed: S3Server, tmp_path: Path
) -> None:
    bucket = seaweed.make_bucket()
    async with _s3(seaweed, f"{bucket}/b") as board:
        meta = await _three_files(board, tmp_path)
        store = board.backend.store  # type: ignore[attr-defined]
        await store.delete_many([f"many/{meta.version}/f0.bin", f"many/{meta.version}/f2.bin"])
    async with _s3(seaweed, f"{bucket}/b") as board:
        with pytest.raises(PinsError) as info:
            await board.pin_download("many")
    err = info.value
    assert not isinstance(err, BaseExceptionGroup)
    assert isinstance(err, VersionNotFound)
    assert "f0.bin" in str(err) or "f2.bin" in str(err)


def test_sync_verbs_raise_one_pins_error_too(seaweed: S3Server, tmp_path: Path) -> None:
    bucket = seaweed.make_bucket()
    args = dict(
        endpoint_url=seaweed.endpoint_url,
        region=seaweed.region,
        access_key=seaweed.access_key,
        secret_key=seaweed.secret_key,
        cache=False,
    )
    with apins.sync.board_s3(f"{bucket}/b", **args) as board:  # type: ignore[arg-type]
        paths = []
        for i in range(3):
            p = tmp_path / f"f{i}.bin"
            p.write_bytes(bytes([i]) * 500)
            paths.append(p)
        meta = board.pin_upload(paths, "many")
        client = seaweed.boto3_client()
        for f in ("f0.bin", "f1.bin"):
            client.delete_object(Bucket=bucket, Key=f"b/many/{meta.version}/{f}")
        with pytest.raises(PinsError) as info:
            board.pin_download("many")
    assert not isinstance(info.value, BaseExceptionGroup)


def test_every_public_verb_is_guarded() -> None:
    from apins.board import Board
    from apins.watch import PinWatch

    verbs = [
        getattr(Board, n)
        for n, f in vars(Board).items()
        if not n.startswith("_") and inspect.iscoroutinefunction(f)
    ]
    assert len(verbs) >= 13
    unguarded = [v.__name__ for v in verbs if not getattr(v, "__apins_public__", False)]
    assert not unguarded, unguarded
    assert getattr(apins.mirror, "__apins_public__", False)
    assert getattr(PinWatch.__anext__, "__apins_public__", False)


# -- metadata parser failures ------------------------------------------------------------------

DEEP = "file: x.csv\napi_version: 1\nuser: &a " + "[" * 30000 + "*a" + "]" * 30000 + "\n"


def test_deeply_nested_yaml_is_invalid_metadata() -> None:
    with pytest.raises(InvalidMetadata) as info:
        parse_meta(DEEP.encode(), name="deep", version="v1")
    assert "'deep'" in str(info.value) and "'v1'" in str(info.value)
    assert isinstance(info.value.__cause__, Exception)


async def test_bad_data_txt_errors_name_pin_and_version(tmp_path: Path) -> None:
    async with apins.board_folder(tmp_path / "b") as board:
        meta = await board.pin_write({"a": 1}, "deep", type="json")
    version = meta.version
    assert version is not None
    (tmp_path / "b" / "deep" / version / "data.txt").write_text(DEEP)
    async with apins.board_folder(tmp_path / "b") as board:
        with pytest.raises(InvalidMetadata) as info:
            await board.pin_read("deep")
    assert "'deep'" in str(info.value) and version in str(info.value)


# -- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [251, 255, 300])
async def test_long_pin_names_are_invalid_pin_names(tmp_path: Path, length: int) -> None:
    async with apins.board_folder(tmp_path / "b") as board:
        with pytest.raises(InvalidPinName, match="255"):
            await board.pin_write({"a": 1}, "x" * length, type="json")
    assert not any((tmp_path / "b").iterdir()) if (tmp_path / "b").exists() else True


async def test_the_longest_pin_name_that_fits_is_written(tmp_path: Path) -> None:
    name = "x" * (255 - len(".json"))
    async with apins.board_folder(tmp_path / "b") as board:
        await board.pin_write({"a": 1}, name, type="json")
        assert await board.pin_read(name) == {"a": 1}


# -- cloud SDK errors --------------------------------------------------------------------------


async def test_board_s3_accepts_an_s3_url(seaweed: S3Server) -> None:
    bucket = seaweed.make_bucket()
    async with _s3(seaweed, f"s3://{bucket}/team/pins") as board:
        await board.pin_write({"a": 1}, "p", type="json")
    async with _s3(seaweed, f"{bucket}/team/pins") as board:
        assert await board.pin_read("p") == {"a": 1}
    keys = [o["Key"] for o in seaweed.boto3_client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert all(k.startswith("team/pins/p/") for k in keys), keys


async def test_missing_credentials_say_where_they_are_looked_for(seaweed: S3Server) -> None:
    bucket = seaweed.make_bucket()
    board = apins.board_s3(bucket, endpoint_url=seaweed.endpoint_url, region=seaweed.region)
    async with board:
        with pytest.raises(StoreAccessError) as info:
            await board.pin_list()
    text = str(info.value)
    assert "AWS_ACCESS_KEY_ID" in text and "anonymous=True" in text
    assert type(info.value.__cause__).__name__ == "NoCredentialsError"


async def test_invalid_bucket_name_is_an_invalid_argument(seaweed: S3Server) -> None:
    async with _s3(seaweed, "no such bucket!/pins") as board:
        with pytest.raises(PinsError) as info:
            await board.pin_list()
    assert isinstance(info.value, ValueError)  # apins.errors.InvalidArgument
    assert type(info.value.__cause__).__name__ == "ParamValidationError"


async def test_wrong_secret_is_store_access_error_with_hint(seaweed: S3Server) -> None:
    bucket = seaweed.make_bucket()
    async with _s3(seaweed, bucket, secret_key="not-the-secret") as board:
        with pytest.raises(StoreAccessError, match="anonymous=True"):
            await board.pin_write({"a": 1}, "p", type="json")
