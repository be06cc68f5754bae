"""Timestamps: stored as RFC 3339 UTC with microseconds; v1 shows whole seconds, v0 fractions."""

from __future__ import annotations

from datetime import datetime, timezone


def now() -> str:
    """The current UTC time as stored: ``2024-09-12T10:11:12.123456Z``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def v1(stamp: str) -> str:
    """v1 API form: whole seconds with ``Z`` (``2024-09-12T10:11:12Z``), as Connect sends."""
    return stamp[:19] + "Z"


def v0(stamp: str) -> str:
    """v0 API form: fractional seconds without trailing zeros (Go's RFC3339Nano)."""
    head, _, frac = stamp[:-1].partition(".")
    frac = frac.rstrip("0")
    return f"{head}.{frac}Z" if frac else f"{head}Z"
