"""Process-wide, bounded LRUs of parsed metadata.

:data:`METAS` holds immutable versions by (board identity, pin, version): a version's
data.txt never changes once written, so readers in one process parse it once. Only what
:class:`apins.Board` knows to be immutable goes in (never "which version is the latest");
deleting a version through any board of the same identity forgets it. Folder boards'
data.txt files are the board itself and can be edited: :data:`LOCAL_METAS` keeps them by
path, valid while the file's stat is unchanged. Entries are copied in and out: callers may
change the ``Meta`` they get.
"""

from __future__ import annotations

import copy
import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from ._stat_stamp import settled

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


_Stamp = tuple[int, int, int, int, int]


def file_stamp(st: os.stat_result) -> _Stamp:
    """What any write to a file changes: (device, inode, size, mtime_ns, ctime_ns)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class StampedMemo:
    """Parsed metadata of local data.txt files, valid while the file's stat stamp is the
    same. ctime changes on every write (no program can set it back), so a matching stamp
    means the bytes that were parsed; a file changed since is parsed again. Thread-safe."""

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[str, tuple[_Stamp, AnyMeta]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, path: str, stamp: _Stamp) -> AnyMeta | None:
        with self._lock:
            item = self._items.get(path)
            if item is None or item[0] != stamp:
                self.misses += 1
                return None
            self._items.move_to_end(path)
            self.hits += 1
        return copy.deepcopy(item[1])

    def put(self, path: str, before: _Stamp, after: _Stamp, read_at_ns: int, meta: AnyMeta) -> None:
        """Remember ``meta`` parsed from ``path``, whose stamp was ``before`` when it was read
        (at ``read_at_ns``) and ``after`` once parsed; a file that changed meanwhile, or was
        written just before the read (``_stat_stamp.settled``), is not remembered."""
        if before != after or not settled(before[4], read_at_ns):
            return
        kept = copy.deepcopy(meta)
        with self._lock:
            self._items[path] = (before, kept)
            self._items.move_to_end(path)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)


#: the process's memo of parsed data.txt files of folder boards
LOCAL_METAS = StampedMemo()
