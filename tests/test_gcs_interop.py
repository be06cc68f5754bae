"""apins and pins-python 0.9.2 (through gcsfs) on one fake-gcs-server bucket, both ways."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import apins
from tests._helpers import same_meta
from tests.servers import GCSServer

TYPES = ("csv", "parquet", "arrow")
BIG = 41 * 1024 * 1024 + 17


@pytest.fixture
def py_board(
    fakegcs: GCSServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Any]]:
    """A bucket and pins-python's board_gcs on it (gcsfs finds the emulator through
    STORAGE_EMULATOR_HOST and then sends no credentials)."""
    import pins

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fakegcs.url)
    # gcsfs's experimental zonal-bucket probe speaks gRPC over TLS, which the emulator lacks
    monkeypatch.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    monkeypatch.setenv("PINS_CACHE_DIR", str(tmp_path / "py-cache"))
    bucket = fakegcs.make_bucket()
    yield bucket, pins.board_gcs(f"{bucket}/interop", allow_pickle_read=True)


async def _versions(board: apins.Board, name: str) -> list[str | None]:
    return [v.version for v in await board.pin_versions(name)]


async def test_pins_python_reads_what_apins_writes(
    py_board: tuple[str, Any], tmp_path: Path
) -> None:
    bucket, py = py_board
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"], "c": [0.5, None, 2.5]})
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(BIG))
    async with apins.board_gcs(f"{bucket}/interop", cache=tmp_path / "c") as b:
        for t in TYPES:
            await b.pin_write(df, f"df-{t}", type=t, description=t, metadata={"t": t})
        await b.pin_write(df.head(1), "df-csv", type="csv", description="second")
        await b.pin_write({"k": [1, 2]}, "js", type="json", title="a json pin")
        await b.pin_upload(big, "file")
        assert b.backend.store.request_counts["objects.compose"] == 1  # type: ignore[attr-defined]
        assert sorted(py.pin_list()) == ["df-arrow", "df-csv", "df-parquet", "file", "js"]
        for t in TYPES:
            got = py.pin_read(f"df-{t}") if t != "csv" else py.pin_read("df-csv")
            want = df if t != "csv" else df.head(1)
            pd.testing.assert_frame_equal(got, want, check_dtype=False)
            same_meta(py.pin_meta(f"df-{t}"), await b.pin_meta(f"df-{t}"))
        assert list(py.pin_versions("df-csv").version) == await _versions(b, "df-csv")
        assert py.pin_read("js") == {"k": [1, 2]}
        same_meta(py.pin_meta("js"), await b.pin_meta("js"))
        (downloaded,) = py.pin_download("file")
        assert Path(downloaded).read_bytes() == big.read_bytes()
        same_meta(py.pin_meta("file"), await b.pin_meta("file"))


async def test_apins_reads_what_pins_python_writes(
    py_board: tuple[str, Any], tmp_path: Path
) -> None:
    bucket, py = py_board
    df = pd.DataFrame({"a": [1, 2], "b": ["p", "q"]})
    when = datetime(2024, 5, 6, 7, 8, 9)
    by = {"by": "pins-python"}
    for t in TYPES:
        py.pin_write(df, f"py-{t}", type=t, metadata=by, created=when)
    # a second version within the same second, and one a second later
    py.pin_write(df.head(1), "py-csv", type="csv", metadata={**by, "n": 2}, created=when)
    py.pin_write(df, "py-later", type="csv", metadata=by, created=when)
    later = when + timedelta(seconds=1)
    py.pin_write(df.head(1), "py-later", type="csv", metadata={**by, "n": 2}, created=later)
    py.pin_write({"k": "v"}, "py-json", type="json")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(BIG))
    py.pin_upload(str(big), "py-file")
    async with apins.board_gcs(f"{bucket}/interop", cache=tmp_path / "c") as b:
        assert sorted(await b.pin_list()) == sorted(py.pin_list())
        for t in ("parquet", "arrow"):
            got = await b.pin_read(f"py-{t}", output="pandas")
            pd.testing.assert_frame_equal(got, df, check_dtype=False)
            same_meta(py.pin_meta(f"py-{t}"), await b.pin_meta(f"py-{t}"))
        # same second: ordered by hash, and d551b... (the older, 2 rows) sorts after 1d327...
        await _same_two_versions(b, py, "py-csv", latest=df)
        await _same_two_versions(b, py, "py-later", latest=df.head(1))
        assert await b.pin_read("py-json") == {"k": "v"}
        (path,) = await b.pin_download("py-file")
        assert Path(path).read_bytes() == big.read_bytes()
        same_meta(py.pin_meta("py-file"), await b.pin_meta("py-file"))


async def _same_two_versions(b: apins.Board, py: Any, name: str, latest: pd.DataFrame) -> None:
    """apins lists and reads both versions of ``name`` as pins-python does, and both pick
    the version holding ``latest`` as the latest.

    A version is named by its second and the first 5 hex digits of its hash, and pins-python
    0.9.2 and apins both take the greatest name as the latest. pins-python does not date a
    write after a version of the same second (apins does), so two of its writes within one
    second are ordered by hash, not by time.
    """
    versions = list(py.pin_versions(name).version)
    assert await _versions(b, name) == versions
    assert len(versions) == 2
    for v in versions:
        got = await b.pin_read(name, v, output="pandas")
        pd.testing.assert_frame_equal(got, py.pin_read(name, version=v), check_dtype=False)
        same_meta(py.pin_meta(name, version=v), await b.pin_meta(name, v))
    ours = await b.pin_read(name, output="pandas")
    pd.testing.assert_frame_equal(ours, py.pin_read(name), check_dtype=False)
    pd.testing.assert_frame_equal(ours, latest, check_dtype=False)
    same_meta(py.pin_meta(name), await b.pin_meta(name))
