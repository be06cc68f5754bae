"""pins-python 0.9.2 and apins share Connect pins, through the Connect emulator.

pins-python is a sync client (requests), so the emulator runs on its own thread here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from apins import sync
from apins.testing.connect import ConnectEmulator, run_in_thread
from tests.connect_support import USERS

DF = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"], "z": [0.5, 1.5, 2.5]})
TABLE_TYPES = ["csv", "parquet", "arrow"]
OBJ: dict[str, Any] = {"a": [1, 2, 3], "b": {"c": "text"}}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ConnectEmulator]:
    with run_in_thread(root=tmp_path / "connect", users=USERS) as srv:
        yield srv


@pytest.fixture
def pins_board(server: ConnectEmulator) -> Any:
    import pins

    return pins.board_connect(
        server_url=server.url, api_key="key-a", cache=None, allow_pickle_read=True
    )


@pytest.fixture
def apins_board(server: ConnectEmulator, tmp_path: Path) -> Iterator[sync.SyncBoard]:
    with sync.board_connect(
        server.url, "key-a", allow_pickle_read=True, cache=tmp_path / "apins-cache"
    ) as board:
        yield board


def _pandas(x: Any) -> pd.DataFrame:
    return x if isinstance(x, pd.DataFrame) else x.to_pandas()


def test_pins_python_reads_what_apins_wrote(apins_board: sync.SyncBoard, pins_board: Any) -> None:
    for t in TABLE_TYPES:
        apins_board.pin_write(
            DF, f"alice/ap-{t}", type=t, title=f"apins {t}", description="from apins",
            metadata={"source": "apins", "n": 3},
        )  # fmt: skip
    apins_board.pin_write(OBJ, "alice/ap-json", type="json", title="apins json")
    apins_board.pin_write(OBJ, "alice/ap-joblib", type="joblib", title="apins joblib")

    for t in TABLE_TYPES:
        got = pins_board.pin_read(f"alice/ap-{t}")
        pd.testing.assert_frame_equal(got.reset_index(drop=True), DF, check_dtype=False)
        meta = pins_board.pin_meta(f"alice/ap-{t}")
        assert (meta.title, meta.description, meta.type) == (f"apins {t}", "from apins", t)
        assert meta.user == {"source": "apins", "n": 3}
        assert meta.pin_hash == apins_board.pin_meta(f"alice/ap-{t}").pin_hash
    assert pins_board.pin_read("alice/ap-json") == OBJ
    assert pins_board.pin_read("alice/ap-joblib") == OBJ
    assert "alice/ap-csv" in pins_board.pin_list()
    versions = pins_board.pin_versions("alice/ap-csv")
    assert list(versions["version"]) == [apins_board.pin_meta("alice/ap-csv").version]


def test_apins_reads_what_pins_python_wrote(apins_board: sync.SyncBoard, pins_board: Any) -> None:
    for t in TABLE_TYPES:
        pins_board.pin_write(
            DF, f"alice/py-{t}", type=t, title=f"py {t}", description="from pins-python",
            metadata={"source": "py"},
        )  # fmt: skip
    pins_board.pin_write(OBJ, "alice/py-json", type="json", title="py json")
    pins_board.pin_write(OBJ, "alice/py-joblib", type="joblib", title="py joblib")

    for t in TABLE_TYPES:
        got = _pandas(apins_board.pin_read(f"alice/py-{t}"))
        pd.testing.assert_frame_equal(got, DF, check_dtype=False)
        meta = apins_board.pin_meta(f"alice/py-{t}")
        assert (meta.title, meta.description, meta.type) == (f"py {t}", "from pins-python", t)
        assert meta.user == {"source": "py"}
        assert meta.pin_hash == pins_board.pin_meta(f"alice/py-{t}").pin_hash
    assert apins_board.pin_read("alice/py-json") == OBJ
    assert apins_board.pin_read("alice/py-joblib") == OBJ
    names = apins_board.pin_list()
    assert {f"alice/py-{t}" for t in [*TABLE_TYPES, "json", "joblib"]} <= set(names)
    found = apins_board.pin_search("py-")
    assert {m.title for m in found} == {"py csv", "py parquet", "py arrow", "py json", "py joblib"}


def test_versions_written_by_both(apins_board: sync.SyncBoard, pins_board: Any) -> None:
    pins_board.pin_write(DF.head(1), "alice/mixed", type="csv")
    apins_board.pin_write(DF.head(2), "alice/mixed", type="csv")
    pins_board.pin_write(DF, "alice/mixed", type="csv")
    ours = [v.version for v in apins_board.pin_versions("alice/mixed")]
    theirs = list(pins_board.pin_versions("alice/mixed")["version"])
    assert ours == theirs and len(ours) == 3
    pd.testing.assert_frame_equal(
        _pandas(apins_board.pin_read("alice/mixed")), pins_board.pin_read("alice/mixed"),
        check_dtype=False,
    )  # fmt: skip
    assert len(_pandas(apins_board.pin_read("alice/mixed", version=ours[1]))) == 2
