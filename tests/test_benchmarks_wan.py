"""The WAN profile of the benchmarks: the throttling proxy really limits each connection and
adds latency, and the self-check rejects a link that does not (then no WAN numbers)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from benchmarks._core import Row
from benchmarks._wanlink import LinkCheck, WanProxy, check_link, start_wan_proxy
from benchmarks.wan import guarded
from tests.servers import NginxServer, start_nginx

RATE = 20_000_000  # bytes/s per connection: low enough for a loaded 2-core machine
RTT = 0.1
SIZE = 16 * 1024 * 1024


@pytest.fixture(scope="module")
def www(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NginxServer]:
    root = tmp_path_factory.mktemp("wan-www")
    (root / "big.bin").write_bytes(os.urandom(SIZE))
    (root / "small.txt").write_bytes(b"small")
    server = start_nginx(root=root)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def proxy(www: NginxServer) -> Iterator[WanProxy]:
    p = start_wan_proxy(www.url, rate=RATE, rtt=RTT)
    try:
        yield p
    finally:
        p.stop()
    assert p.proc.poll() is not None  # stopped: nothing left behind


def test_check_rejects_an_unthrottled_link(www: NginxServer) -> None:
    check = check_link(f"{www.url}/big.bin", f"{www.url}/small.txt", RATE, RTT, SIZE)
    problems = check.problems()
    assert not check.ok
    assert any("not within ±10%" in p for p in problems), problems
    assert any("less than the set latency" in p for p in problems), problems


def test_proxy_passes_the_check(proxy: WanProxy) -> None:
    check = check_link(f"{proxy.url}/big.bin", f"{proxy.url}/small.txt", RATE, RTT, SIZE)
    assert check.ok, check.problems()
    assert check.small_seconds >= 2 * RTT  # a new connection pays the handshake round trip too


def test_proxy_limits_each_connection_not_their_sum(proxy: WanProxy) -> None:
    fmt = "%{size_download} %{time_total} %{time_starttransfer}"

    def one(_: int) -> float:
        out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", fmt,
                              f"{proxy.url}/big.bin"], check=True, capture_output=True,
                             text=True).stdout.split()  # fmt: skip
        size, total, first = int(out[0]), float(out[1]), float(out[2])
        assert size == SIZE
        return size / (total - first)

    with ThreadPoolExecutor(3) as pool:
        rates = list(pool.map(one, range(3)))
    for rate in rates:  # each stream near the set rate: three streams get three times as much
        assert 0.8 * RATE <= rate <= 1.1 * RATE, rates


@pytest.mark.parametrize(
    ("stream", "small", "downloaded", "reason"),
    [
        (RATE * 0.85, RTT * 2, SIZE, "not within"),
        (RATE * 1.15, RTT * 2, SIZE, "not within"),
        (RATE, RTT * 0.5, SIZE, "less than the set latency"),
        (RATE, RTT * 2, SIZE - 1, "curl got"),
    ],
)
def test_check_bounds(stream: float, small: float, downloaded: int, reason: str) -> None:
    check = LinkCheck(RATE, RTT, stream, small, SIZE, downloaded)
    assert [p for p in check.problems() if reason in p], check.problems()
    assert LinkCheck(RATE, RTT, RATE * 1.09, RTT, SIZE, SIZE).ok
    assert LinkCheck(RATE, RTT, RATE * 0.91, RTT, SIZE, SIZE).ok


def test_failed_check_gives_invalid_rows_and_measures_nothing() -> None:
    def measure() -> list[Row]:
        raise AssertionError("must not measure on a link that failed its check")

    rows = guarded("WAN", LinkCheck(RATE, RTT, RATE * 40, 0.001, SIZE, SIZE), measure)
    invalid = [r for r in rows if r.status.startswith("invalid")]
    assert len(invalid) == 2
    assert all(r.apins is None and r.ratio is None for r in invalid)
    checks = [r for r in rows if r.status == "ok"]
    assert [r.met for r in checks] == [False, False]


def test_passed_check_measures(tmp_path: Path) -> None:
    rows = guarded("WAN", LinkCheck(RATE, RTT, RATE, RTT * 2, SIZE, SIZE),
                   lambda: [Row("WAN", "measured", unit="MB/s", apins=1.0)])  # fmt: skip
    assert [r.met for r in rows[:2]] == [True, True]
    assert rows[-1].scenario == "measured"


def test_proxy_ends_when_its_parent_closes_stdin(www: NginxServer) -> None:
    p = start_wan_proxy(www.url, rate=RATE, rtt=RTT)
    try:
        assert p.proc.stdin is not None
        p.proc.stdin.close()  # what the kernel does when the benchmark process dies
        p.proc.wait(timeout=30)
    finally:
        p.stop()
    assert p.proc.returncode == 0
