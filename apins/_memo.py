"""A process-wide, bounded LRU of parsed metadata of immutable versions.

Keyed by (board identity, pin, version): a version's data.txt never changes once written,
so readers in one process parse it once. Only what :class:`apins.Board` knows to be
immutable goes in (never "which version is the latest"); deleting a version through any
board of the same identity forgets it. Entries are copied in and out: callers may change
the ``Meta`` they get.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .meta import AnyMeta

Key = tuple[str, str, str]


class MetaMemo:
    """``get``/``put``/``forget`` of Meta by (identity, pin, version); thread-safe."""

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[Key, AnyMeta] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Key) -> AnyMeta | None:
        with self._lock:
            meta = self._items.get(key)
            if meta is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
        return copy.deepcopy(meta)

    def put(self, key: Key, meta: AnyMeta) -> None:
        kept = copy.deepcopy(meta)
        with self._lock:
            self._items[key] = kept
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def forget(self, identity: str, name: str, version: str | None = None) -> None:
        """Drop one version, or every version of a pin (``version=None``)."""
        with self._lock:
            doomed = [
                k
                for k in self._items
                if k[0] == identity and k[1] == name and (version is None or k[2] == version)
            ]
            for k in doomed:
                del self._items[k]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


#: the process's memo of parsed data.txt files
METAS = MetaMemo()
