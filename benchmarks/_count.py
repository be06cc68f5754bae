"""Count the HTTP requests an operation makes, from an nginx access log (a neutral witness).

After the operation a sentinel request is sent through the same nginx; once its line is in
the log, every request of the operation (all answered before the sentinel was sent) is too.
"""

from __future__ import annotations

import contextlib
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import TypeVar

from tests.servers import NginxServer

from ._core import Row

T = TypeVar("T")


def _sentinel(base_url: str) -> str:
    """Request a unique path through ``base_url``; return that path."""
    path = f"/__bench_sentinel_{uuid.uuid4().hex}"
    with contextlib.suppress(urllib.error.HTTPError):  # 403/404: only the log line matters
        urllib.request.urlopen(base_url.rstrip("/") + path, timeout=10).close()
    return path


class LogWindow:
    """Requests nginx logs from the moment this object is made until :meth:`count`."""

    def __init__(self, nginx: NginxServer, base_url: str) -> None:
        self.nginx = nginx
        self.base_url = base_url
        self.before = len(nginx.log_lines())

    def count(self) -> int:
        """Requests logged since construction (waits for a sentinel request's line)."""
        path = _sentinel(self.base_url)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            lines = self.nginx.log_lines()[self.before :]
            if any(path in x for x in lines):
                time.sleep(0.1)  # lines of the other worker process, if any lagged
                lines = self.nginx.log_lines()[self.before :]
                return sum(1 for x in lines if path not in x)
            time.sleep(0.01)
        raise RuntimeError("the sentinel request never reached the nginx access log")


def count_requests(nginx: NginxServer, base_url: str, op: Callable[[], T]) -> tuple[int, T]:
    """Run ``op`` and return (requests nginx logged meanwhile, op's result)."""
    window = LogWindow(nginx, base_url)
    out = op()
    return window.count(), out


def requests_row(group: str, scenario: str, apins: int, pins: int, note: str,
                 at_most: int | None = None) -> Row:  # fmt: skip
    """A row of request counts (the ratio: pins-python's over apins's); with ``at_most`` the
    target is "apins <= at_most" requests, else the row is information."""
    row = Row(group, f"{scenario}: requests", unit="requests", apins=apins, ref_value=pins,
              ratio=pins / apins if apins else None, note=note)  # fmt: skip
    if at_most is not None:
        row.target_text, row.met = f"apins <= {at_most}", apins <= at_most
    return row
