"""Request counting by method and route pattern, safe to read from another thread."""

from __future__ import annotations

import threading
from collections import Counter


class RequestCounter:
    """Counts requests as ``"GET /__api__/v1/content/{guid}"`` (unmatched: ``"GET <no route>"``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, key: str) -> None:
        """Count one request under ``key``."""
        with self._lock:
            self._counts[key] += 1

    def snapshot(self) -> dict[str, int]:
        """A copy of the counts so far."""
        with self._lock:
            return dict(self._counts)

    def get(self, method: str, pattern: str) -> int:
        """How many ``method`` requests matched route ``pattern``."""
        with self._lock:
            return self._counts.get(f"{method.upper()} {pattern}", 0)

    def total(self) -> int:
        """All requests counted so far."""
        with self._lock:
            return sum(self._counts.values())

    def reset(self) -> None:
        """Forget all counts."""
        with self._lock:
            self._counts.clear()
