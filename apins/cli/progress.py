"""Progress bars for transfers: one tqdm bar on stderr, only when it is a terminal."""

from __future__ import annotations

import sys
from typing import Any

from ..stores.base import ProgressEvent


class Bar:
    """A progress callback summing every transfer leg (download, upload, copy) into one bar."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar
        self._done: dict[tuple[str, str], int] = {}
        self._total: dict[tuple[str, str], int] = {}

    def __call__(self, event: ProgressEvent) -> None:
        leg = (event.direction, event.key)
        self._done[leg] = event.done
        if event.total is not None:
            self._total[leg] = event.total
        total = sum(self._total.values())
        if total and self._bar.total != total:
            self._bar.total = total
            self._bar.refresh()
        self._bar.update(sum(self._done.values()) - self._bar.n)

    def close(self) -> None:
        self._bar.close()


def make_bar(desc: str, enabled: bool) -> Bar | None:
    """A bar when ``enabled``, tqdm is installed and stderr is a terminal; else None."""
    if not enabled or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return Bar(
        tqdm(desc=desc, total=None, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr)
    )
