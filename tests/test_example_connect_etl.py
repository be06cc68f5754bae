"""examples/connect_etl.py, run twice as a scheduled job would run it, against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from apins import sync
from apins.testing.connect import run_in_thread
from tests.connect_support import USERS

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "connect_etl.py"


def _run(url: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONNECT_", "ETL_"))}
    env.update(CONNECT_SERVER=url, CONNECT_API_KEY="key-a", ETL_KEEP="1")
    r = subprocess.run(
        [sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=180
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def test_scheduled_refresh_runs_then_prunes(tmp_path: Path) -> None:
    first = pd.DataFrame(
        {"region": ["north", "south", "north"], "units": [1, 2, 3], "price": [10.0, 5.0, 10.0]}
    )
    with run_in_thread(root=tmp_path / "connect", users=USERS) as srv:
        with sync.board_connect(srv.url, "key-a", cache=False) as alice:
            raw1 = alice.pin_write(first, "orders-raw", type="parquet")
        out1 = _run(srv.url)
        assert "pruned 0 old version(s)" in out1
        with sync.board_connect(srv.url, "key-a", cache=False) as alice:
            raw2 = alice.pin_write(
                pd.concat([first, pd.DataFrame({"region": ["east"], "units": [7],
                                                "price": [100.0]})]),
                "orders-raw", type="parquet",
            )  # fmt: skip
        out2 = _run(srv.url)
        assert "pruned 1 old version(s)" in out2  # ETL_KEEP=1: the first refresh goes
        # a run over an unchanged source writes no new version (identical content)
        out3 = _run(srv.url)
        assert out3.split(" from ")[0] == out2.split(" from ")[0]

        with sync.board_connect(srv.url, "key-b", cache=False) as bob:  # another user reads
            versions = bob.pin_versions("alice/orders-by-region")
            assert [v.version for v in versions] == [out2.split()[3]]
            meta = bob.pin_meta("alice/orders-by-region")
            assert meta.user["source_version"] == raw2.version != raw1.version
            assert meta.title == "Orders by region"
            got = bob.pin_read("alice/orders-by-region", output="pandas")
        assert got.to_dict("list") == {
            "region": ["east", "north", "south"],
            "units": [7, 4, 2],
            "revenue": [700.0, 40.0, 10.0],
        }
