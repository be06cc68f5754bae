"""Pin hashes (spec §3.2): XXH64 of one file, R's XXH3-128 construction for several."""

from __future__ import annotations

import logging
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import xxhash

from .errors import HashMismatch

log = logging.getLogger("apins.hash")

_READ = 4 * 1024 * 1024


class HashingWriter:
    """A write-only binary stream over a real file that hashes (XXH64) and counts as it writes.

    Serialisers write straight into it, so ``pin_hash`` is known when the file is closed:
    one pass, no second read.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._hash = xxhash.xxh64()
        self.size = 0

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._raw.write(view)
        self._hash.update(view)
        self.size += len(view)
        return len(view)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self._raw.flush()

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        """Flushes only: the owner closes the underlying file."""
        self._raw.flush()

    @property
    def closed(self) -> bool:
        return self._raw.closed

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def file_xxh64(path: Path) -> str:
    """XXH64 (seed 0) of a file's bytes as 16 lowercase hex digits; blocking, run in a thread."""
    h = xxhash.xxh64()
    with open(path, "rb") as f:
        while chunk := f.read(_READ):
            h.update(chunk)
    return h.hexdigest()


def r_multi_hash(file_hashes: Sequence[str]) -> str:
    """R pins' hash of several files: XXH3-128 of R's serialisation of the hex digests.

    The bytes are those of ``serialize(c(h1, ..., hn))`` without its header: a STRSXP of n
    CHARSXPs (ASCII flag), each 16 bytes; the digest is 32 hex digits (high then low 64 bits).
    """
    parts = [struct.pack("<ii", 16, len(file_hashes))]
    for h in file_hashes:
        raw = h.encode("ascii")
        parts.append(struct.pack("<ii", 0x00040009, len(raw)))
        parts.append(raw)
    return xxhash.xxh3_128(b"".join(parts)).hexdigest()


def pin_hash(file_hashes: Sequence[str]) -> str:
    """The ``pin_hash`` of a version from its files' XXH64 digests, in ``file`` order."""
    if not file_hashes:
        raise ValueError("a pin has at least one file")
    if len(file_hashes) == 1:
        return file_hashes[0]
    return r_multi_hash(file_hashes)


def python_multi_hash(file_hashes: Sequence[str]) -> str:
    """pins-python's multi-file hash (XXH64 of the concatenated hex digests)."""
    return xxhash.xxh64("".join(file_hashes).encode("utf-8")).hexdigest()


def verify_pin_hash(
    name: str, expected: str | None, file_hashes: Sequence[str], files: Sequence[str] = ()
) -> None:
    """Raise HashMismatch unless the files match ``expected`` (R's or pins-python's convention).

    A missing expected hash (legacy v0 pins) is accepted. Each check is logged at DEBUG on
    ``apins.hash`` (``files`` names the checked files there).
    """
    shown = ", ".join(files) or f"{len(file_hashes)} file(s)"
    if not expected:
        log.debug("hash check of pin %r (%s): no recorded hash, skipped", name, shown)
        return
    expected = expected.lower()
    candidates = {pin_hash(file_hashes)}
    if len(file_hashes) > 1:
        candidates.add(python_multi_hash(file_hashes))
    ok = expected in candidates
    log.debug("hash check of pin %r (%s): %s", name, shown, "ok" if ok else "MISMATCH")
    if not ok:
        raise HashMismatch(
            f"The files of pin {name!r} do not match their recorded hash {expected} "
            f"(computed {pin_hash(file_hashes)}). The copy is corrupt or was changed after "
            "it was written; nothing was returned or cached."
        )


def check_requested_hash(name: str, requested: str, actual: str) -> None:
    """R's ``hash=`` rule: ``requested`` must be a prefix of the version's actual hash."""
    if not actual.lower().startswith(requested.lower()):
        raise HashMismatch(
            f"The hash you asked for ({requested}) does not match pin {name!r}, whose hash is "
            f"{actual}."
        )
