"""When a file's stat can vouch for its bytes: the racy-timestamp rule shared by the folder
board memos (parsed data.txt files in ``_memo``, file hashes in ``_hash_memo``).

Every write to a file sets its ctime to the current time, and no program can set it back, so
an unchanged stat means unchanged bytes, except for a write in the same timestamp tick as the
read (git's "racily clean" case). A result is therefore only remembered when the file's last
change is older than the read by more than one tick of the file system's clock: 2 s where the
file system keeps whole seconds (FAT, some network file systems), 100 ms where it keeps finer
times (Linux stamps files from its coarse clock, which ticks every 1 to 10 ms).
"""

from __future__ import annotations

#: trusted age of a change on file systems with whole-second times
COARSE_RACY_NS = 2_000_000_000
#: trusted age of a change on file systems with sub-second times
FINE_RACY_NS = 100_000_000


def racy_ns(ctime_ns: int) -> int:
    """How long after a change (at ``ctime_ns``) the file's stat is not trusted."""
    return COARSE_RACY_NS if ctime_ns % 1_000_000_000 == 0 else FINE_RACY_NS


def settled(ctime_ns: int, read_at_ns: int) -> bool:
    """Whether a file last changed at ``ctime_ns`` and read at ``read_at_ns`` can be
    remembered by its stat."""
    return ctime_ns + racy_ns(ctime_ns) < read_at_ns
