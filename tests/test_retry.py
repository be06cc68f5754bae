"""Retry classification, Retry-After, deadlines and the offline fallback, on the wire."""

from __future__ import annotations

import time
import warnings
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import anyio
import pytest

from apins import TransferSettings
from apins.errors import PinsError, TransferError
from apins.transfer.retry import (
    DeadlineExceeded,
    TransientError,
    is_retryable_status,
    parse_retry_after,
    retry_delay,
    transient_for_status,
)
from tests.boards import KINDS, OBJECT_KINDS, Rig, seed
from tests.faultproxy import FaultProxy

DATA = bytes(range(256)) * 64  # 16 KiB


@pytest.fixture(params=sorted(KINDS))
async def rig(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Rig]:
    async with KINDS[request.param](request, tmp_path) as r:
        yield r


@pytest.fixture(params=OBJECT_KINDS)
async def object_rig(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Rig]:
    """Every kind but Connect (see tests.boards.OBJECT_KINDS)."""
    async with KINDS[request.param](request, tmp_path) as r:
        yield r


# -- classification (pure) ----------------------------------------------------------------------


def test_statuses() -> None:
    assert all(is_retryable_status(s) for s in (408, 429, 500, 502, 503, 504, 507, 599))
    assert not any(is_retryable_status(s) for s in (400, 401, 403, 404, 409, 412, 416, 501, 505))


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("-3") == 0.0
    later = format_datetime(now + timedelta(seconds=7), usegmt=True)
    assert parse_retry_after(later, now=now) == pytest.approx(7.0)
    earlier = format_datetime(now - timedelta(seconds=7), usegmt=True)
    assert parse_retry_after(earlier, now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None


def test_retry_after_is_capped_and_backoff_used_otherwise() -> None:
    s = TransferSettings(retry_after_max=3.0, backoff_base=0.1, backoff_max=0.2)
    err = transient_for_status(429, "x", {"Retry-After": "3600"})
    assert isinstance(err, TransientError)
    assert retry_delay(0, err, s) == 3.0
    err = transient_for_status(503, "x", {"retry-after": "1"}, code="SlowDown")
    assert err is not None and retry_delay(0, err, s) == 1.0
    assert 0.0 <= retry_delay(5, TransientError("x"), s) <= 0.2
    assert transient_for_status(403, "x", {"Retry-After": "1"}) is None
    assert transient_for_status(400, "x", code="SlowDown") is not None


# -- on the wire, for every board kind ----------------------------------------------------------


async def test_retry_after_is_waited_out(rig: Rig, tmp_path: Path) -> None:
    """A server answering 429 + Retry-After: 2 for 3 s is waited out, not exhausted."""
    _version, filename = await seed(rig, tmp_path, DATA)
    # quick backoff: without Retry-After, 3 retries are spent in well under a second
    s = TransferSettings(retries=3, backoff_base=0.05, backoff_max=0.1, read_timeout=10)
    async with FaultProxy(rig.upstream) as proxy:
        fault = proxy.inject(
            "status", "GET", rf"/{filename}(\?|$)", status=429,
            headers={"Retry-After": "2"}, count=None, for_seconds=3.0,
        )  # fmt: skip
        start = time.monotonic()
        with anyio.fail_after(30):
            async with rig.board(proxy.url, s, tmp_path / "cache") as b:
                (path,) = await b.pin_download("blob")
        elapsed = time.monotonic() - start
    assert Path(path).read_bytes() == DATA
    assert 2 <= fault.seen <= 4, fault.seen  # first try, then one per Retry-After
    assert elapsed >= 3.0


async def test_client_errors_are_not_retried(rig: Rig, tmp_path: Path) -> None:
    _version, filename = await seed(rig, tmp_path, DATA)
    s = TransferSettings(retries=3, backoff_base=0.01)
    async with FaultProxy(rig.upstream) as proxy:
        fault = proxy.inject("status", "GET", rf"/{filename}(\?|$)", status=400, count=None)
        async with rig.board(proxy.url, s, tmp_path / "cache") as b:
            with pytest.raises(PinsError) as info:
                await b.pin_download("blob")
    assert not isinstance(info.value, TransientError)
    assert fault.seen == 1


async def test_deadline_bounds_a_verb(rig: Rig, tmp_path: Path) -> None:
    """A server that never answers: the verb ends at its deadline, not the read timeout."""
    await seed(rig, tmp_path, DATA)
    s = TransferSettings(retries=5, read_timeout=60, deadline=1.5)
    async with FaultProxy(rig.upstream) as proxy:
        proxy.inject("stall_head", count=None)
        start = time.monotonic()
        with anyio.fail_after(30):
            async with rig.board(proxy.url, s, tmp_path / "cache") as b:
                with pytest.raises(DeadlineExceeded):
                    await b.pin_download("blob")
        elapsed = time.monotonic() - start
    assert elapsed < 1.5 + 3.0, elapsed
    assert isinstance(DeadlineExceeded("x"), TransferError)


@pytest.mark.parametrize("outage", ["closed-port", "no-answer"])
async def test_offline_fallback_starts_within_connect_timeout(
    object_rig: Rig, tmp_path: Path, outage: str
) -> None:
    await seed(object_rig, tmp_path, DATA)
    cache = tmp_path / "cache"
    async with FaultProxy(object_rig.upstream) as proxy:
        async with object_rig.board(proxy.url, TransferSettings(), cache) as b:
            (_path,) = await b.pin_download("blob")  # now cached
        if outage == "no-answer":  # accepts connections, never answers
            proxy.inject("stall_head", count=None)
        else:
            await proxy.__aexit__(None, None, None)
        # retries and backoff that take many seconds: the fallback must not wait for them
        s = TransferSettings(connect_timeout=1.0, read_timeout=30, retries=5, backoff_base=1.0)
        start = time.monotonic()
        with anyio.fail_after(60), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            async with object_rig.board(proxy.url, s, cache) as b:
                (again,) = await b.pin_download("blob")
        elapsed = time.monotonic() - start
    assert Path(again).read_bytes() == DATA
    assert any("offline" in str(w.message) for w in caught)
    assert elapsed < 1.0 + 2.0, elapsed


async def test_connect_has_no_offline_fallback(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A Connect pin is found through the server's API (owner, content GUID, active bundle),
    none of which the cache keeps: with the server down even a cached pin fails, promptly and
    with a clear error, and no offline warning claims otherwise (docs/caching.md says so)."""
    async with KINDS["connect"](request, tmp_path) as rig:
        await seed(rig, tmp_path, DATA)
        cache = tmp_path / "cache"
        async with (
            FaultProxy(rig.upstream) as proxy,  # closed when the block ends: the outage
            rig.board(proxy.url, TransferSettings(), cache) as b,
        ):
            (_path,) = await b.pin_download("blob")  # now cached
        s = TransferSettings(connect_timeout=1.0, retries=1, backoff_base=0.01)
        with anyio.fail_after(60), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            async with rig.board(proxy.url, s, cache) as b:
                with pytest.raises(PinsError) as info:
                    await b.pin_download("blob")
    assert not any("offline" in str(w.message) for w in caught)
    assert isinstance(info.value, TransferError) and "Cannot connect to host" in str(info.value)
