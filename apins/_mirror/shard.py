"""Splitting a mirror by pin: ``shard=(k, n)`` takes the pins whose stable hash is k mod n."""

from __future__ import annotations

import hashlib

Shard = tuple[int, int]


def check_shard(shard: object) -> Shard | None:
    """``None`` or ``(k, n)`` with ``0 <= k < n``; anything else raises ValueError."""
    if shard is None:
        return None
    if (
        not isinstance(shard, tuple)
        or len(shard) != 2
        or not all(isinstance(x, int) and not isinstance(x, bool) for x in shard)
    ):
        raise ValueError(f"shard must be a pair (k, n) of numbers, not {shard!r}")
    k, n = shard
    if n < 1 or not 0 <= k < n:
        raise ValueError(f"shard (k, n) needs n >= 1 and 0 <= k < n, not {shard!r}")
    return (k, n)


def shard_of(pin: str, n: int) -> int:
    """The shard (0..n-1) a pin belongs to: the same in every process, host and Python run."""
    digest = hashlib.sha256(pin.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n


def in_shard(pin: str, shard: Shard | None) -> bool:
    """True when ``pin`` is this shard's work (always, without a shard)."""
    return shard is None or shard_of(pin, shard[1]) == shard[0]


def parse_shard(text: str) -> Shard:
    """``"k/n"`` (as on the command line) → ``(k, n)``; raises ValueError."""
    k, sep, n = text.partition("/")
    try:
        if not sep:
            raise ValueError
        pair = (int(k), int(n))
    except ValueError:
        raise ValueError(f"expected k/n (e.g. 0/4), not {text!r}") from None
    checked = check_shard(pair)
    assert checked is not None
    return checked
