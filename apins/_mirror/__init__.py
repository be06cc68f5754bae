"""Bulk mirroring of pin versions between boards: ``await apins.mirror(source, target)``.

Versions move as bytes (data.txt byte for byte, files verified), concurrently, server-side
when both boards are on one S3 endpoint; re-running finishes an interrupted mirror.
"""

from __future__ import annotations

from .report import MirrorFailed, MirrorFailure, MirrorRefused, MirrorReport, VersionRef
from .run import mirror

__all__ = [
    "MirrorFailed",
    "MirrorFailure",
    "MirrorRefused",
    "MirrorReport",
    "VersionRef",
    "mirror",
]
