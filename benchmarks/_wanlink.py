"""The WAN-like link of the benchmarks: the throttling proxy process and its self-check.

:func:`start_wan_proxy` runs ``benchmarks._wanproxy`` in front of an upstream (each
connection paced to ``rate`` by the kernel, one round trip of latency per request, two on a
new connection). :func:`check_link` measures the link with curl in the same run; when it
fails, the WAN rows are reported as invalid rather than as numbers.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ._proc import stop_process

#: the profile: 25 MB/s per connection (200 Mbit/s), 40 ms round trip
WAN_RATE = 25_000_000
WAN_RTT = 0.040
#: the size of the object the rate is checked with (one curl stream)
CHECK_SIZE = 64 * 1024 * 1024
#: how far the measured rate of one stream may be from the set rate
RATE_TOLERANCE = 0.10


@dataclass
class WanProxy:
    """A running ``benchmarks._wanproxy``: ``url`` is ``http://127.0.0.1:PORT``."""

    url: str
    rate: int
    rtt: float
    proc: subprocess.Popen[bytes] = field(repr=False)

    def stop(self) -> None:
        stop_process(self.proc)


def start_wan_proxy(upstream_url: str, rate: int = WAN_RATE, rtt: float = WAN_RTT) -> WanProxy:
    """Start the proxy in front of ``upstream_url`` (an ``http://host:port`` URL)."""
    parts = urlsplit(upstream_url)
    cmd = [
        sys.executable, "-m", "benchmarks._wanproxy", "--upstream",
        f"{parts.hostname}:{parts.port}", "--rate", str(rate), "--rtt", str(rtt),
    ]  # fmt: skip
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(cmd, cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode(errors="replace")  # blocks until it listens or dies
    if line.startswith("listening "):
        return WanProxy(f"http://{line.split()[1]}", rate, rtt, proc)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"the WAN proxy did not start (printed {line!r})")


@dataclass
class LinkCheck:
    """What curl measured on the link, against what was set."""

    rate: float
    rtt: float
    #: bytes per second of one stream, from its first byte to its last
    stream_rate: float
    #: seconds for a small object on a new connection (from the start to the last byte)
    small_seconds: float
    size: int = CHECK_SIZE
    downloaded: int = CHECK_SIZE

    @property
    def rate_ok(self) -> bool:
        """The whole object came, at the set rate within the tolerance."""
        low, high = self.rate * (1 - RATE_TOLERANCE), self.rate * (1 + RATE_TOLERANCE)
        return self.downloaded == self.size and low <= self.stream_rate <= high

    @property
    def latency_ok(self) -> bool:
        return self.small_seconds >= self.rtt

    def problems(self) -> list[str]:
        """Why the link is not the profile it claims to be (empty when it is)."""
        out = []
        if self.downloaded != self.size:
            out.append(f"curl got {self.downloaded} of {self.size} bytes")
        low, high = self.rate * (1 - RATE_TOLERANCE), self.rate * (1 + RATE_TOLERANCE)
        if not low <= self.stream_rate <= high:
            out.append(
                f"one stream of {self.size // 2**20} MiB ran at {self.stream_rate / 1e6:.1f} "
                f"MB/s, not within ±{RATE_TOLERANCE:.0%} of the set {self.rate / 1e6:g} MB/s"
            )
        if not self.latency_ok:
            out.append(
                f"a small object took {self.small_seconds * 1000:.1f} ms, less than the set "
                f"latency of {self.rtt * 1000:g} ms"
            )
        return out

    @property
    def ok(self) -> bool:
        return not self.problems()

    def describe(self) -> str:
        verdict = "verified" if self.ok else "FAILED the check"
        return (
            f"link {verdict} with curl in this run: one stream of {self.size // 2**20} MiB at "
            f"{self.stream_rate / 1e6:.1f} MB/s (set {self.rate / 1e6:g} MB/s per connection, "
            f"±{RATE_TOLERANCE:.0%}); a small object on a new connection in "
            f"{self.small_seconds * 1000:.0f} ms (set round trip {self.rtt * 1000:g} ms)"
        )


_CURL_FORMAT = "%{size_download} %{time_total} %{time_starttransfer}"


def _curl(url: str) -> tuple[int, float, float]:
    """(bytes, total seconds, seconds to the first byte) of one fresh curl GET."""
    out = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", _CURL_FORMAT, url],
        check=True, capture_output=True, text=True, timeout=600,
    ).stdout.split()  # fmt: skip
    return int(float(out[0])), float(out[1]), float(out[2])


def check_link(
    big_url: str, small_url: str, rate: float, rtt: float, size: int = CHECK_SIZE
) -> LinkCheck:
    """Measure the link with curl: one stream of the ``size``-byte object at ``big_url``, and
    one small object at ``small_url`` on a new connection."""
    _, small_total, _ = _curl(small_url)
    got, total, first = _curl(big_url)
    stream = got / (total - first) if total > first else float("inf")
    return LinkCheck(rate, rtt, stream, small_total, size, got)
