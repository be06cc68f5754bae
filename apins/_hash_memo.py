"""XXH64 of local board files, remembered per file by a stat stamp so unchanged files are
not re-read on every ``pin_download`` of a folder board.

A hash is remembered for (device, inode) with the stamp (size, mtime_ns, ctime_ns). Any write
to the file changes its ctime (which no program can set back), so a matching stamp means the
bytes are the ones hashed. A file changed just before its hash started is not remembered (see
``_stat_stamp``: a write in the same timestamp tick could leave the stamp as it was).
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

from ._stat_stamp import settled
from .hashing import file_xxh64

_MAX = 4096

_Stamp = tuple[int, int, int]
_lock = threading.Lock()
_known: OrderedDict[tuple[int, int], tuple[_Stamp, str]] = OrderedDict()
#: how many files were actually read and hashed (for tests)
hashed = 0


def _stamp(st: os.stat_result) -> _Stamp:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def remembered_xxh64(path: Path) -> str:
    """``file_xxh64(path)``, without reading the file when it is unchanged since last time."""
    global hashed
    st = os.stat(path)
    key, stamp = (st.st_dev, st.st_ino), _stamp(st)
    with _lock:
        known = _known.get(key)
        if known is not None and known[0] == stamp:
            _known.move_to_end(key)
            return known[1]
    started = time.time_ns()
    digest = file_xxh64(path)
    after = os.stat(path)
    with _lock:
        hashed += 1
        if _stamp(after) == stamp and settled(stamp[2], started):
            _known[key] = (stamp, digest)
            _known.move_to_end(key)
            while len(_known) > _MAX:
                _known.popitem(last=False)
    return digest
