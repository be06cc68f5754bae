"""OrderedWriter: bytes written out of order are hashed in file order; in-order bytes are never
read back (a local file: this is the engine's bookkeeping, the wire is tested elsewhere)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
import xxhash

from apins.transfer._ordered import OrderedWriter
from apins.transfer._util import spans

KiB = 1024
DATA = random.Random(3).randbytes(300 * KiB + 17)
SPANS = spans(len(DATA), 64 * KiB)


def _batches(start: int, end: int, rng: random.Random) -> list[tuple[int, int]]:
    """``[start, end)`` cut into front-to-back batches of random sizes."""
    out, pos = [], start
    while pos < end:
        step = min(end - pos, rng.randint(1, 20 * KiB))
        out.append((pos, pos + step))
        pos += step
    return out


async def _write(writer: OrderedWriter, lo: int, hi: int) -> None:
    # two views per batch, as the engine hands over the pieces it received
    mid = (lo + hi) // 2
    await writer.write([memoryview(DATA)[lo:mid], memoryview(DATA)[mid:hi]], lo)


@pytest.mark.parametrize("threaded", [False, True])
async def test_in_order_writes_are_hashed_without_reading_back(
    tmp_path: Path, threaded: bool
) -> None:
    fd = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT)
    try:
        writer = OrderedWriter(fd, SPANS, xxhash.xxh64(), 8 * KiB)
        writer.threaded = threaded
        for lo, hi in _batches(0, len(DATA), random.Random(1)):
            await _write(writer, lo, hi)
        assert writer.digest() == xxhash.xxh64(DATA).hexdigest()
        assert writer.reread == 0
    finally:
        os.close(fd)
    assert (tmp_path / "f").read_bytes() == DATA


@pytest.mark.parametrize("seed", range(6))
async def test_interleaved_spans_hash_in_file_order(tmp_path: Path, seed: int) -> None:
    """Spans are written concurrently-like: batches of different spans interleave at random,
    each span front to back. Only what arrived ahead of the frontier is read back."""
    rng = random.Random(seed)
    queues = [_batches(s, e, rng) for s, e in SPANS]
    fd = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT)
    try:
        os.ftruncate(fd, len(DATA))
        writer = OrderedWriter(fd, SPANS, xxhash.xxh64(), 8 * KiB)
        writer.threaded = seed % 2 == 1
        while any(queues):
            q = rng.choice([q for q in queues if q])
            await _write(writer, *q.pop(0))
        await writer.catch_up()
        assert writer.digest() == xxhash.xxh64(DATA).hexdigest()
        assert 0 < writer.reread < len(DATA)  # the first span's bytes were hashed live
    finally:
        os.close(fd)
    assert (tmp_path / "f").read_bytes() == DATA


async def test_a_missing_byte_leaves_the_digest_unavailable(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT)
    try:
        os.ftruncate(fd, len(DATA))
        writer = OrderedWriter(fd, SPANS, xxhash.xxh64(), 8 * KiB)
        await _write(writer, 0, 100)
        await _write(writer, 101, SPANS[0][1])  # a gap at byte 100
        for s, e in SPANS[1:]:
            await _write(writer, s, e)
        assert writer.pos == 100
        with pytest.raises(Exception, match="internal error"):
            writer.digest()
    finally:
        os.close(fd)
