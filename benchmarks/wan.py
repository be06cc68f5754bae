"""Issue 13: downloads over a WAN-like link (each connection 25 MB/s, 40 ms round trip).

The link is ``benchmarks._wanproxy`` in front of SeaweedFS (S3) and in front of nginx (URL
board). Before any WAN row, curl checks the link in the same run (one 64 MiB stream within
±10 % of the set rate; a small object no faster than the set round trip). When the check
fails, the group's rows say so and carry no numbers.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Any

from ._core import (
    Context,
    MiB,
    Row,
    aa_row,
    alternate,
    scenario,
    time_rows,
    unavailable,
)
from ._wanlink import CHECK_SIZE, LinkCheck, WanProxy, check_link
from .url import aria2c

S3_GROUP = "WAN-like S3 (SeaweedFS behind the WAN proxy)"
URL_GROUP = "WAN-like URL board (nginx behind the WAN proxy)"


def wan_settings() -> Any:
    """TransferSettings tuned for many slow connections (more, smaller parts in flight)."""
    from apins import TransferSettings

    return TransferSettings(
        range_threshold=8 * MiB, part_size=8 * MiB, max_concurrency=32, max_connections=32
    )


def check_rows(group: str, check: LinkCheck) -> list[Row]:
    """The link check as two rows (curl's figures beside the set ones), met or not."""
    stream = Row(
        group, f"link check: one curl stream of a {check.size // MiB} MiB object", unit="MB/s",
        subject="curl", apins=check.stream_rate / 1e6, reference="set rate per connection",
        ref_value=check.rate / 1e6, ratio=check.stream_rate / check.rate,
        target_text="within ±10 %", note=check.describe(),
    )  # fmt: skip
    stream.met = check.rate_ok
    small = Row(
        group, "link check: a small object on a new connection", unit="ms", subject="curl",
        apins=check.small_seconds * 1000, reference="set round trip",
        ref_value=check.rtt * 1000, ratio=check.small_seconds / check.rtt,
        target_text="curl >= set round trip", met=check.latency_ok,
    )  # fmt: skip
    return [stream, small]


def guarded(group: str, check: LinkCheck, measure: Callable[[], list[Row]]) -> list[Row]:
    """The check rows, then the measured rows, or, when the link failed its check, one
    invalid row per reason (never a number measured on a link that is not the profile)."""
    rows = check_rows(group, check)
    problems = check.problems()
    if problems:
        return rows + [
            Row(group, "WAN rows", unit="-", status=f"invalid: WAN link check failed: {p}")
            for p in problems
        ]
    return rows + measure()


def _rows(
    ctx: Context, group: str, size: int, steps: dict[str, Callable[[], float]], target: float
) -> list[Row]:
    """Alternate the steps; rows of apins (default and tuned) beside pins-python and aria2c."""
    t: dict[str, list[float]] = {k: [] for k in steps}
    alternate(ctx.runs, *[lambda k=k: t[k].append(steps[k]()) for k in steps])  # type: ignore[misc]
    name = f"cold pin_download {size // MiB} MiB file pin"
    tuned = wan_settings()
    knobs = (f"tuned: range_threshold={tuned.range_threshold // MiB} MiB, part_size="
             f"{tuned.part_size // MiB} MiB, max_concurrency={tuned.max_concurrency}, "
             f"max_connections={tuned.max_connections}")  # fmt: skip
    rows = [
        time_rows(group, name + ", default TransferSettings", t["a"], t["p"], size=size,
                  target=target, note="apins checks the file's XXH64; pins-python and "
                  "aria2c check nothing"),
        time_rows(group, name + ", tuned TransferSettings", t["t"], t["p"], size=size,
                  note=knobs),
        aa_row(group, name, t["p"], t["p2"], size=size),
    ]  # fmt: skip
    if "aria" in t:
        rows += [
            time_rows(group, name + ", default TransferSettings", t["a"], t["aria"],
                      reference="aria2c -x8", target=0.8, size=size),
            time_rows(group, name + ", tuned TransferSettings", t["t"], t["aria"],
                      reference="aria2c -x8", size=size),
        ]  # fmt: skip
    else:
        rows.append(unavailable(group, name + " beside aria2c -x8", "aria2c is not installed"))
    return rows


# -- S3 ----------------------------------------------------------------------------------------


def _s3_check(ctx: Context, proxy: WanProxy) -> LinkCheck:
    from .s3 import s3_data

    data = s3_data(ctx)
    client = data.server.boto3_client()
    check_key = "wan-check/big.bin"
    client.put_object(Bucket=data.bucket, Key=check_key, Body=os.urandom(CHECK_SIZE))
    client.put_object(Bucket=data.bucket, Key="wan-check/small.txt", Body=b"small")
    via = data.server.via(proxy.url, "seaweedfs-wan").boto3_client()
    try:
        big, small = (
            via.generate_presigned_url("get_object", Params={"Bucket": data.bucket, "Key": k},
                                       ExpiresIn=3600)
            for k in (check_key, "wan-check/small.txt")
        )  # fmt: skip
        return check_link(big, small, proxy.rate, proxy.rtt)
    finally:
        via.close()


@scenario("wan.s3", S3_GROUP)
def wan_s3(ctx: Context) -> list[Row]:
    from .s3 import _apins_download, _big_key, _pins_download, s3_data

    data = s3_data(ctx)
    proxy = ctx.servers.wan(data.server.endpoint_url)
    check = _s3_check(ctx, proxy)

    def measure() -> list[Row]:
        via = data.server.via(proxy.url, "seaweedfs-wan")
        client = via.boto3_client()
        url = client.generate_presigned_url(
            "get_object", Params={"Bucket": data.bucket, "Key": _big_key(data)}, ExpiresIn=3600
        )
        size = data.big.stat().st_size
        tuned = wan_settings()
        steps: dict[str, Callable[[], float]] = {
            "a": lambda: _apins_download(ctx, via, data),
            "t": lambda: _apins_download(ctx, via, data, tuned),
            "p": lambda: _pins_download(ctx, via, data),
            "p2": lambda: _pins_download(ctx, via, data),
        }
        if shutil.which("aria2c"):
            steps["aria"] = lambda: aria2c(ctx, url, size)
        return _rows(ctx, S3_GROUP, size, steps, target=4.0)

    return guarded(S3_GROUP, check, measure)


# -- URL board ---------------------------------------------------------------------------------


def _url_check(ctx: Context, proxy: WanProxy) -> LinkCheck:
    root = ctx.servers.www.root / "wan-check"
    root.mkdir(exist_ok=True)
    (root / "big.bin").write_bytes(os.urandom(CHECK_SIZE))
    (root / "small.txt").write_bytes(b"small")
    return check_link(f"{proxy.url}/wan-check/big.bin", f"{proxy.url}/wan-check/small.txt",
                      proxy.rate, proxy.rtt)  # fmt: skip


@scenario("wan.url", URL_GROUP)
def wan_url(ctx: Context) -> list[Row]:
    from .url import _apins_download, _missing, _pins_download, url_data

    why = _missing()
    if why:
        return [unavailable(URL_GROUP, "cold pin_download", why)]
    data = url_data(ctx)
    proxy = ctx.servers.wan(ctx.servers.www.url)
    check = _url_check(ctx, proxy)

    def measure() -> list[Row]:
        base = proxy.url
        size = data.big.stat().st_size
        tuned = wan_settings()
        steps: dict[str, Callable[[], float]] = {
            "a": lambda: _apins_download(ctx, base, data),
            "t": lambda: _apins_download(ctx, base, data, tuned),
            "p": lambda: _pins_download(ctx, base, data),
            "p2": lambda: _pins_download(ctx, base, data),
        }
        if shutil.which("aria2c"):
            url = f"{base}/board/big/{data.big_version}/{data.big.name}"
            steps["aria"] = lambda: aria2c(ctx, url, size)
        return _rows(ctx, URL_GROUP, size, steps, target=4.0)

    return guarded(URL_GROUP, check, measure)
