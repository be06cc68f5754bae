"""Peak RSS of big S3 transfers and import time, each measured in fresh processes."""

from __future__ import annotations

from typing import Any

from ._boards import apins_s3
from ._core import Context, GiB, MiB, Row, big_file, median, run_async, scenario, time_rows
from ._rss import run_child
from .s3 import GROUP, s3_data

LIMIT_MIB = 128


def _spec(ctx: Context, lib: str, op: str, name: str, path: str = "") -> dict[str, Any]:
    data = s3_data(ctx)
    server = data.server
    return {
        "lib": lib,
        "op": op,
        "endpoint_url": server.endpoint_url,
        "access_key": server.access_key,
        "secret_key": server.secret_key,
        "bucket": data.bucket,
        "prefix": data.prefix,
        "name": name,
        "path": path,
        "cache": str(ctx.fresh_dir(f"rss-cache-{lib}")),
    }


def _mem_row(op: str, size: int, a: list[dict[str, Any]], p: list[dict[str, Any]]) -> Row:
    peak_a = [r["peak_above_kib"] / 1024 for r in a]
    peak_p = [r["peak_above_kib"] / 1024 for r in p]
    ma, mp = median(peak_a), median(peak_p)
    reset = all(r["hwm_reset"] for r in a + p)
    base_a = median([r["baseline_kib"] / 1024 for r in a])
    base_p = median([r["baseline_kib"] / 1024 for r in p])
    mb_a = size / median([r["seconds"] for r in a]) / 1e6
    mb_p = size / median([r["seconds"] for r in p]) / 1e6
    note = (
        f"baseline after imports: apins {base_a:.0f} MiB, pins-python {base_p:.0f} MiB; "
        f"throughput apins {mb_a:.0f} MB/s, pins-python {mb_p:.0f} MB/s"
    )
    if not reset:
        note += "; VmHWM could not be reset, so peaks include import-time memory"
    return Row(
        GROUP,
        f"peak RSS above baseline, {op} of a {size / GiB:g} GiB file",
        unit="MiB",
        apins=ma,
        ref_value=mp,
        ratio=mp / ma if ma > 0 else None,
        target_text=f"apins <= {LIMIT_MIB} MiB",
        met=ma <= LIMIT_MIB,
        note=note,
        samples={"apins": peak_a, "pins-python": peak_p},
    )


@scenario("s3.rss", GROUP)
def peak_rss(ctx: Context) -> list[Row]:
    data = s3_data(ctx)
    size = ctx.pick(1 * GiB, 64 * MiB)
    path = big_file(ctx, size)
    if "s3.rss" not in ctx.state:

        async def setup() -> None:
            async with apins_s3(data.server, data.bucket, data.prefix, cache=False) as board:
                await board.pin_upload(path, name="gib")

        run_async(setup)
        ctx.state["s3.rss"] = True
    up: dict[str, list[dict[str, Any]]] = {"apins": [], "pins": []}
    down: dict[str, list[dict[str, Any]]] = {"apins": [], "pins": []}
    for i in range(ctx.runs):
        for lib in ("apins", "pins") if i % 2 == 0 else ("pins", "apins"):
            up[lib].append(run_child(_spec(ctx, lib, "s3_upload", f"rss-{lib}-{i}", str(path))))
            down[lib].append(run_child(_spec(ctx, lib, "s3_download", "gib")))
    return [
        _mem_row("upload", size, up["apins"], up["pins"]),
        _mem_row("download", size, down["apins"], down["pins"]),
    ]


@scenario("import", "Import time")
def import_time(ctx: Context) -> list[Row]:
    n = ctx.pick(10, 3)
    rows = []
    for with_s3 in (False, True):
        a: list[float] = []
        p: list[float] = []
        for i in range(n):
            for lib in ("apins", "pins") if i % 2 == 0 else ("pins", "apins"):
                spec = {"op": "import", "lib": lib, "with_s3": with_s3}
                (a if lib == "apins" else p).append(run_child(spec)["seconds"])
        what = ("import apins + apins.stores.s3 + aiobotocore vs import pins + s3fs"
                if with_s3 else "import apins vs import pins")  # fmt: skip
        rows.append(
            time_rows("Import time", f"{what} (median of {n} fresh processes)", a, p,
                      note="time inside the interpreter, startup excluded" if not with_s3
                      else "what a board_s3 user has loaded after the first request")
        )  # fmt: skip
    return rows
