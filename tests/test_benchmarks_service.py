"""The service benchmark's CPU-per-request figure: read from /proc of the service process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks._proc import process_cpu, tree_cpu
from benchmarks.service import Load, Service, _rows
from tests._helpers import PYTHON, REPO, subprocess_env

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

_WRITE = """
import os
import sys
import pyarrow as pa
from apins import sync
with sync.board_folder(sys.argv[1]) as b:
    b.pin_write(pa.table({"i": list(range(500))}), "rows", type="parquet")
"""


@linux_only
def test_process_cpu_counts_the_cpu_a_process_burns() -> None:
    before = process_cpu(os.getpid())
    t0 = time.process_time()
    while time.process_time() - t0 < 0.3:
        pass
    after = process_cpu(os.getpid())
    assert before is not None and after is not None
    # clock ticks are 10 ms: 0.3 s of CPU shows up as at least 0.2 s
    assert 0.2 <= after - before < 30


_BURN = (
    "import sys, time\n"
    "t0 = time.process_time()\n"
    "while time.process_time() - t0 < 0.4: pass\n"
    "print('burned', flush=True)\n"
    "sys.stdin.read()\n"
)


@linux_only
def test_tree_cpu_adds_the_cpu_of_a_child_process() -> None:
    # sh forks python (the trailing ':' keeps sh from exec-ing it): the CPU is the child's
    proc = subprocess.Popen(["sh", "-c", f'"{PYTHON}" -c "$0"; :', _BURN],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "burned\n"
        own, tree = process_cpu(proc.pid), tree_cpu(proc.pid)
        assert own is not None and tree is not None
        assert own < 0.1 and 0.3 <= tree - own < 30
    finally:
        proc.communicate(timeout=30)


def test_process_cpu_of_a_process_that_is_gone_is_none() -> None:
    assert process_cpu(2**30) is None


def _load(done: int, cpu: float | None) -> Load:
    return Load(done=done, failed=0, seconds=1.0, latencies=[0.01] * done, cpu=cpu)


def test_cpu_rows_compare_microseconds_per_request_lower_is_better() -> None:
    a = [_load(1000, 0.3), _load(1000, 0.4)]  # 300 and 400 µs per request
    p = [_load(1000, 0.6), _load(500, 0.4)]  # 600 and 800 µs
    rows = {r.scenario: r for r in _rows("GET /x", a, p, a, "note")}
    row = rows["GET /x: service CPU per request"]
    assert row.unit == "µs"
    assert row.apins == pytest.approx(350) and row.ref_value == pytest.approx(700)
    assert row.ratio == pytest.approx(2.0)
    assert row.samples == {"apins": [300, 400], "pins-python": [600, 800]}
    aa = rows["GET /x: service CPU per request (A/A: apins against itself)"]
    assert aa.ratio == pytest.approx(1.0)


def test_no_cpu_rows_when_a_run_has_no_cpu_figure() -> None:
    a, p = [_load(1000, 0.3)], [_load(1000, None)]
    assert not any("CPU" in r.scenario for r in _rows("GET /x", a, p, a, "note"))


@linux_only
def test_a_load_run_measures_the_cpu_of_the_service_process(tmp_path: Path) -> None:
    import subprocess

    board = str(tmp_path / "board")
    subprocess.run([PYTHON, "-c", _WRITE, board], check=True, env=subprocess_env(), timeout=120)
    argv = [PYTHON, str(REPO / "examples" / "pin_service.py"), board, "rows", "--port", "0"]
    service = Service(argv, subprocess_env())
    try:
        load = service.load("/rows", requests=300, seconds=120)
    finally:
        service.stop()
    assert load.done == 300 and load.failed == 0
    assert load.cpu is not None and load.cpu_per_request is not None
    # answering 300 requests takes some CPU (ticks of 10 ms), and far less than the run lasted
    assert 0 < load.cpu < load.seconds + 1
    assert 1 < load.cpu_per_request < 100_000


def test_aa_rows_show_the_spread_of_the_second_series() -> None:
    a = [_load(1000, 0.3), _load(1000, 0.4)]  # 300 and 400 µs per request
    a2 = [_load(1000, 0.5), _load(1000, 0.9)]  # 500 and 900 µs
    rows = {r.scenario: r for r in _rows("GET /x", a, a, a2, "note")}
    aa = rows["GET /x: service CPU per request (A/A: apins against itself)"].to_json()
    assert aa["apins"] == pytest.approx(350) and aa["apins_range"] == pytest.approx((300, 400))
    assert aa["ref_value"] == pytest.approx(700) and aa["ref_range"] == pytest.approx((500, 900))
