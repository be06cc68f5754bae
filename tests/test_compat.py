"""apins.compat against the real pins-python 0.9.2: the same script, call by call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pins
import pytest

import apins.compat
from tests._helpers.compat_script import DF, run
from tests.servers import S3Server


def _diff(a: list[tuple[str, Any]], b: list[tuple[str, Any]]) -> list[str]:
    lines = []
    for (call_a, res_a), (call_b, res_b) in zip(a, b, strict=True):
        assert call_a == call_b
        if res_a != res_b:
            lines.append(f"{call_a}:\n  pins:  {res_a!r}\n  apins: {res_b!r}")
    return lines


def test_folder_script_matches_pins_python(tmp_path: Path) -> None:
    def folder(where: str) -> Any:
        (tmp_path / where).mkdir()
        return lambda lib: lib.board_folder(str(tmp_path / where))

    (tmp_path / "f1").mkdir()
    (tmp_path / "f2").mkdir()
    expected = run(pins, folder("pins-board"), tmp_path / "f1")
    got = run(apins.compat, folder("apins-board"), tmp_path / "f2")
    assert _diff(expected, got) == []


def test_s3_script_matches_pins_python(moto: S3Server, tmp_path: Path) -> None:
    # moto, not SeaweedFS: SeaweedFS lists the empty "folders" of deleted versions, which
    # pins-python then reports as versions (apins requires data.txt)
    bucket = moto.make_bucket()

    def s3(prefix: str) -> Any:
        def make(lib: Any) -> Any:
            return lib.board_s3(
                f"{bucket}/{prefix}",
                key=moto.access_key,
                secret=moto.secret_key,
                client_kwargs={"endpoint_url": moto.endpoint_url, "region_name": moto.region},
                # s3fs caches listings; without this pins-python lists deleted versions
                listings_expiry_time=0,
            )

        return make

    (tmp_path / "f1").mkdir()
    (tmp_path / "f2").mkdir()
    expected = run(pins, s3("pins"), tmp_path / "f1", list_empty=False)
    got = run(apins.compat, s3("apins"), tmp_path / "f2", list_empty=False)
    assert _diff(expected, got) == []


def test_each_reads_the_others_board(tmp_path: Path) -> None:
    theirs = pins.board_folder(str(tmp_path / "theirs"))
    theirs.pin_write(DF, "df", type="parquet")
    ours = apins.compat.board_folder(str(tmp_path / "theirs"))
    assert ours.pin_read("df").equals(theirs.pin_read("df"))
    ours.pin_write(DF, "mine", type="arrow")
    assert theirs.pin_read("mine").equals(ours.pin_read("mine"))
    assert ours.pin_meta("df").version.version == theirs.pin_meta("df").version.version


def test_messages_on_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    board = apins.compat.board_folder(str(tmp_path / "b"))
    board.pin_write(DF, "df", type="csv")
    err = capsys.readouterr().err
    assert err.startswith("Writing pin:\nName: 'df'\nVersion: ")
    board.pin_write(DF, "df", type="csv")
    assert 'The hash of pin "df" has not changed' in capsys.readouterr().err


def test_s3_storage_options_unknown_warn(seaweed: S3Server) -> None:
    with pytest.warns(UserWarning, match="requester_pays"):
        apins.compat.board_s3(
            "bucket/x", key="k", secret="s", endpoint_url=seaweed.endpoint_url, requester_pays=True
        )


def test_board_generic_and_deparse(tmp_path: Path) -> None:
    board = apins.compat.board("file", str(tmp_path / "g"), allow_pickle_read=True)
    assert apins.compat.board_deparse(board) == pins.board_deparse(
        pins.board("file", str(tmp_path / "g"), allow_pickle_read=True)
    )
    assert apins.compat.board_rsconnect is apins.compat.board_connect
    with pytest.raises(NotImplementedError, match="protocol"):
        apins.compat.board("memory", "x")
