"""Issue 6: mirror every version of many pins, apins.mirror against a pins-python user's loop."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import count
from pathlib import Path
from typing import Any

from ._boards import apins_s3, feature, pins_s3
from ._core import (
    Context,
    MiB,
    Row,
    aa_row,
    alternate,
    first_rounds,
    run_async,
    scenario,
    time_rows,
    timed,
    unavailable,
)

GROUP = "Mirror (SeaweedFS source)"


@dataclass
class MirrorData:
    server: Any
    src_bucket: str
    dst_bucket: str
    pins: int
    versions: int
    big_files: int
    big_size: int
    total_bytes: int

    def describe(self) -> str:
        return (
            f"{self.pins} pins x {self.versions} versions, {self.big_files} of them "
            f"{self.big_size // MiB} MiB files, {self.total_bytes / 1e6:.0f} MB in all"
        )


BLOB_PINS = 2  # file pins; their newest versions hold the big files


def mirror_data(ctx: Context) -> MirrorData:
    """Source board ``src``: json pins plus two file pins whose newest versions are big."""
    if "mirror" in ctx.state:
        data: MirrorData = ctx.state["mirror"]
        return data
    server = ctx.servers.seaweed
    n_pins, n_versions = ctx.pick(50, 6), ctx.pick(10, 3)
    big_size, big_per_pin = ctx.pick(64 * MiB, 4 * MiB), ctx.pick(2, 1)
    src, dst = server.make_bucket("mirror-src"), server.make_bucket("mirror-dst")
    files = ctx.fresh_dir("mirror-files")
    total = 0
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)

    async def setup() -> int:
        import os

        import anyio

        written = 0
        async with apins_s3(server, src, "src", cache=False) as board:
            limit = anyio.Semaphore(16)

            async def one_pin(i: int) -> None:
                nonlocal written
                async with limit:
                    for v in range(n_versions):
                        when = start + timedelta(minutes=v)
                        if i < BLOB_PINS:
                            size = big_size if v >= n_versions - big_per_pin else 16 * 1024
                            path = files / f"blob-{i}" / f"v{v}" / "blob.bin"
                            path.parent.mkdir(parents=True)
                            path.write_bytes(os.urandom(size))
                            await board.pin_upload(path, name=f"blob-{i}", created=when)
                            written += size
                        else:
                            x = {"pin": i, "version": v, "values": list(range(200))}
                            m = await board.pin_write(x, f"data-{i:02d}", type="json",
                                                      created=when)  # fmt: skip
                            written += m.total_size or 0

            async with anyio.create_task_group() as tg:
                for i in range(n_pins):
                    tg.start_soon(one_pin, i)
        return written

    total = run_async(setup)
    shutil.rmtree(files, ignore_errors=True)
    data = MirrorData(server, src, dst, n_pins, n_versions, BLOB_PINS * big_per_pin,
                      big_size, total)  # fmt: skip
    ctx.state["mirror"] = data
    return data


def pins_loop(src: Any, dst: Any) -> int:
    """What a pins-python user writes to copy every version: returns versions copied."""
    copied = 0
    for name in src.pin_list():
        for version in src.pin_versions(name)["version"]:
            meta = src.pin_meta(name, version)
            if meta.type == "file":
                paths = src.pin_download(name, version=version)
                dst.pin_upload(paths, name, title=meta.title, description=meta.description,
                               metadata=meta.user)  # fmt: skip
            else:
                x = src.pin_read(name, version=version)
                dst.pin_write(x, name, type=meta.type, title=meta.title,
                              description=meta.description, metadata=meta.user)  # fmt: skip
            copied += 1
    return copied


def _apins_mirror(ctx: Context, data: MirrorData, target: str, run: int) -> tuple[float, Any]:
    import apins

    with ctx.cold_cache("a") as cache:
        folder = ctx.fresh_dir("mirror-a") if target == "folder" else None

        async def go() -> tuple[float, Any]:
            async with apins_s3(data.server, data.src_bucket, "src", cache) as source:
                if folder is not None:
                    dest = apins.board_folder(folder)
                else:
                    dest = apins_s3(data.server, data.dst_bucket, f"apins-{run}", cache)
                async with dest:
                    t0 = time.perf_counter()
                    report = await apins.mirror(source, dest)
                    return time.perf_counter() - t0, report

        try:
            dt, report = run_async(go)
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
    expected = data.pins * data.versions
    if report.failed or len(report.copied) != expected:
        raise AssertionError(f"apins.mirror copied {len(report.copied)} of {expected} "
                             f"versions; failed: {report.failed[:3]}")  # fmt: skip
    return dt, report


def _pins_mirror(ctx: Context, data: MirrorData, target: str, run: int) -> float:
    import pins

    with ctx.cold_cache("p") as cache:
        src = pins_s3(data.server, data.src_bucket, "src", cache)
        folder: Path | None = None
        if target == "folder":
            folder = ctx.fresh_dir("mirror-p")
            dst = pins.board_folder(str(folder))
        else:
            dst = pins_s3(data.server, data.dst_bucket, f"pins-{run}", cache)
        try:
            dt, n = timed(lambda: pins_loop(src, dst))
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
    if n != data.pins * data.versions:
        raise AssertionError(f"the pins-python loop copied {n} versions")
    return dt


#: runs of the pins-python loop's 2nd series (its A/A row): a run of the loop takes
#: 30-60 s in the full run, so it is kept to the first rounds
AA_RUNS = 2


def _rows(ctx: Context, target: str, label: str, target_ratio: float) -> list[Row]:
    why = feature("apins", "mirror")
    if why:
        return [unavailable(GROUP, f"mirror {label}", why)]
    data = mirror_data(ctx)
    t: dict[str, list[float]] = {"a": [], "p": [], "p2": []}
    server_side: list[int] = []
    runs = count()

    def run_apins() -> None:
        dt, report = _apins_mirror(ctx, data, target, next(runs))
        t["a"].append(dt)
        server_side.append(report.server_side_files)

    alternate(
        ctx.runs,
        run_apins,
        lambda: t["p"].append(_pins_mirror(ctx, data, target, next(runs))),
        first_rounds(AA_RUNS, lambda: t["p2"].append(_pins_mirror(ctx, data, target,
                                                                  next(runs)))),
    )  # fmt: skip
    note = data.describe()
    if target == "s3":
        note += f"; server-side copies per apins run: {max(server_side)} files"
    name = f"mirror {label}, all versions"
    return [
        time_rows(GROUP, name, t["a"], t["p"], target=target_ratio,
                  reference="pins-python loop", note=note),
        aa_row(GROUP, name, t["p"], t["p2"], who="pins-python loop"),
    ]  # fmt: skip


@scenario("mirror.folder", GROUP)
def to_folder(ctx: Context) -> list[Row]:
    return _rows(ctx, "folder", "S3 -> folder", 5.0)


@scenario("mirror.s3", GROUP)
def s3_to_s3(ctx: Context) -> list[Row]:
    return _rows(ctx, "s3", "S3 -> S3 (same endpoint: server-side)", 20.0)
