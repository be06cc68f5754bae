"""progress=True / board defaults / APINS_PROGRESS=0, and output= board defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import apins
from apins import sync
from apins.settings import TransferSettings
from tests.servers import S3Server

TABLE = pa.table({"x": list(range(1000))})


def _s3(server: S3Server, **kw: object) -> apins.Board:
    return server.board(
        f"{server.make_bucket()}/p",
        # small parts: the 3 MiB blob moves as several parts and ranges
        settings=TransferSettings(part_size=5 * 2**20, multipart_threshold=5 * 2**20),
        **kw,  # type: ignore[arg-type]
    )


async def test_progress_true_draws_a_bar_on_every_transfer_verb(
    seaweed: S3Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(os.urandom(3 * 2**20))
    async with _s3(seaweed) as board:
        await board.pin_upload(blob, "blob", progress=True)
        assert "blob" in capsys.readouterr().err
        await board.pin_write(TABLE, "t", type="parquet", progress=True)
        assert "100%" in capsys.readouterr().err
        paths = await board.pin_download("blob", progress=True)
        drawn = capsys.readouterr().err
        assert "blob" in drawn and "100%" in drawn
        assert Path(paths[0]).read_bytes() == blob.read_bytes()
        assert (await board.pin_read("t", progress=True)).equals(TABLE)


async def test_board_default_and_environment_switch(
    seaweed: S3Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(os.urandom(2**20))
    async with _s3(seaweed, progress=True, cache=tmp_path / "c1") as board:
        await board.pin_upload(blob, "blob")
        assert "100%" in capsys.readouterr().err
        await board.pin_download("blob", progress=False)
        assert capsys.readouterr().err == ""
        monkeypatch.setenv("APINS_PROGRESS", "0")
        await board.pin_upload(blob, "blob2", progress=True)
        assert capsys.readouterr().err == ""
        seen: list[apins.ProgressEvent] = []
        await board.pin_upload(blob, "blob3", progress=seen.append)
        assert seen and seen[-1].done == blob.stat().st_size  # callbacks still run


async def test_bad_progress_argument_is_a_clear_error(tmp_path: Path) -> None:
    async with apins.board_folder(tmp_path) as board:
        with pytest.raises(TypeError, match="progress="):
            await board.pin_write({"a": 1}, "x", type="json", progress="yes")  # type: ignore[arg-type]


async def test_output_default_per_board(tmp_path: Path) -> None:
    async with apins.board_folder(tmp_path, output="pandas") as board:
        await board.pin_write(TABLE, "t", type="parquet")
        assert isinstance(await board.pin_read("t"), pd.DataFrame)
        assert isinstance(await board.pin_read("t", output="arrow"), pa.Table)
        assert await board.pin_read("t", output="polars") is not None
    with sync.board_folder(tmp_path, output="pandas") as sboard:
        assert isinstance(sboard.pin_read("t"), pd.DataFrame)
        sboard.output = "arrow"
        assert isinstance(sboard.pin_read("t"), pa.Table)
