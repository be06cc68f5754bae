"""board_azure beside pins-python 0.9.2's board_azure (adlfs), both on one Azurite container."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from apins.settings import MiB
from tests._helpers import same_meta
from tests.servers import AzuriteServer
from tests.test_board_azure import make_board

DF = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"], "c": [0.5, None, 2.5]})
BIG = 41 * MiB + 17


@pytest.fixture
def pins_azure(
    azurite: AzuriteServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, Callable[[], Any]]:
    """A container and a factory of pins-python boards on it (adlfs reads the env)."""
    monkeypatch.setenv("PINS_CACHE_DIR", str(tmp_path / "pins-cache"))
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    container = azurite.make_container()

    def board() -> Any:
        import pins

        return pins.board_azure(f"{container}/interop", allow_pickle_read=True)

    return container, board


def _big_file(tmp_path: Path) -> Path:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(BIG))
    return big


async def test_pins_python_reads_what_apins_writes(
    azurite: AzuriteServer, pins_azure: tuple[str, Callable[[], Any]], tmp_path: Path
) -> None:
    container, py_board = pins_azure
    big = _big_file(tmp_path)
    async with make_board(azurite, container, prefix="interop", cache=tmp_path / "c") as b:
        for t in ("csv", "parquet", "arrow"):
            await b.pin_write(DF, f"df-{t}", type=t, description=t, metadata={"t": t})
        first = await b.pin_write({"k": [1]}, "js", type="json")
        second = await b.pin_write({"k": [1, 2]}, "js", type="json")
        await b.pin_upload(big, "big", metadata={"size": BIG})
        ours = [v.version for v in await b.pin_versions("js")]
        latest = await b.pin_read("js")
        names = ["df-csv", "df-parquet", "df-arrow", "big", "js"]
        metas = {name: await b.pin_meta(name) for name in names}
        metas |= {v: await b.pin_meta("js", v) for v in ours}
    py = py_board()
    assert sorted(py.pin_list()) == ["big", "df-arrow", "df-csv", "df-parquet", "js"]
    for t in ("csv", "parquet", "arrow"):
        pd.testing.assert_frame_equal(py.pin_read(f"df-{t}"), DF, check_dtype=False)
        meta = py.pin_meta(f"df-{t}")
        assert meta.description == t and meta.user == {"t": t}
    for name in names:
        same_meta(py.pin_meta(name), metas[name])
    for v in ours:
        same_meta(py.pin_meta("js", version=v), metas[v])
    # two versions may share a timestamp: whichever is latest, both libraries agree
    assert py.pin_read("js") == latest
    assert list(py.pin_versions("js")["version"]) == ours
    assert sorted(ours) == sorted([first.version, second.version])
    assert py.pin_read("js", version=first.version) == {"k": [1]}
    assert py.pin_read("js", version=second.version) == {"k": [1, 2]}
    [path] = py.pin_download("big")
    assert Path(path).read_bytes() == big.read_bytes()
    assert py.pin_meta("big").user == {"size": BIG}


async def test_apins_reads_what_pins_python_writes(
    azurite: AzuriteServer, pins_azure: tuple[str, Callable[[], Any]], tmp_path: Path
) -> None:
    container, py_board = pins_azure
    py = py_board()
    big = _big_file(tmp_path)
    for t in ("csv", "parquet", "arrow"):
        py.pin_write(DF, f"py-{t}", type=t, metadata={"by": "pins-python"})
    py.pin_write({"k": "v1"}, "py-json", type="json")
    py.pin_write({"k": "v2"}, "py-json", type="json", force_identical_write=True)
    py.pin_upload(str(big), "py-big")
    async with make_board(
        azurite, container, prefix="interop", cache=tmp_path / "c", allow_pickle_read=True
    ) as b:
        assert sorted(await b.pin_list()) == sorted(py.pin_list())
        for t in ("csv", "parquet", "arrow"):
            got = await b.pin_read(f"py-{t}", output="pandas")
            pd.testing.assert_frame_equal(got, DF, check_dtype=False)
            meta = await b.pin_meta(f"py-{t}")
            assert meta.user == {"by": "pins-python"}
            same_meta(py.pin_meta(f"py-{t}"), meta)
        # both versions may share a timestamp: whichever is latest, both libraries agree
        assert await b.pin_read("py-json") == py.pin_read("py-json")
        ours = [v.version for v in await b.pin_versions("py-json")]
        assert ours == list(py.pin_versions("py-json")["version"]) and len(ours) == 2
        for v in ours:
            assert await b.pin_read("py-json", version=v) == py.pin_read("py-json", version=v)
            same_meta(py.pin_meta("py-json", version=v), await b.pin_meta("py-json", v))
        [path] = await b.pin_download("py-big")
        assert Path(path).read_bytes() == big.read_bytes()
        same_meta(py.pin_meta("py-big"), await b.pin_meta("py-big"))
