"""Issue 13: ``apins.dask.mirror`` on a LocalCluster of 1 and of 2 worker processes.

The source is the mirror group's board (benchmarks/mirror.py); each run mirrors it into a
new target (an S3 prefix on the same SeaweedFS, so files are copied server-side, or a
folder). Runs alternate between the two clusters (the 2-worker one twice per round: its A/A row),
and the in-process ``apins.mirror`` is timed beside them. Starting the clusters is not timed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from itertools import count
from typing import Any

from ._boards import feature
from ._core import Context, Row, aa_row, alternate, scenario, time_rows, unavailable
from .mirror import MirrorData, _apins_mirror, mirror_data

GROUP = "Mirror on Dask (apins.dask, LocalCluster)"


@contextlib.contextmanager
def _clusters(ctx: Context, data: MirrorData) -> Iterator[dict[int, Any]]:
    """Clients of two LocalClusters (1 and 2 worker processes, one thread each).

    The workers take the S3 endpoint and keys from their environment (as apins.dask
    expects) and a cache folder of their own run; the parent's environment is restored.
    Each cluster makes one untimed dry run first (imports in the workers).
    """
    import distributed

    env = {**data.server.env(), "PINS_CACHE_DIR": str(ctx.fresh_dir("dask-cache"))}
    saved = {k: os.environ.get(k) for k in env}
    clients: dict[int, Any] = {}
    with contextlib.ExitStack() as stack:
        try:
            os.environ.update(env)
            for n in (1, 2):
                cluster = stack.enter_context(distributed.LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                    dashboard_address=None, silence_logs=50,
                ))  # fmt: skip
                clients[n] = stack.enter_context(distributed.Client(cluster))
                _warm_up(clients[n], data)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        yield clients


def _warm_up(client: Any, data: MirrorData) -> None:
    """A dry run, so every worker has imported apins and its S3 store before the timing."""
    from apins.dask import mirror as dask_mirror

    n = len(client.scheduler_info()["workers"])
    dask_mirror(f"s3://{data.src_bucket}/src", f"s3://{data.dst_bucket}/warm-up", client=client,
                shards=n, dry_run=True)  # fmt: skip


def _dask_run(client: Any, data: MirrorData, target: str, expected: int) -> float:
    from apins.dask import BoardSpec
    from apins.dask import mirror as dask_mirror

    source = BoardSpec(f"s3://{data.src_bucket}/src")
    t0 = time.perf_counter()
    report = dask_mirror(source, BoardSpec(target), client=client)
    dt = time.perf_counter() - t0
    if not report.ok or len(report.copied) != expected:
        raise AssertionError(f"apins.dask.mirror copied {len(report.copied)} of {expected} "
                             f"versions; failed: {report.failed[:3]}")  # fmt: skip
    return dt


def _rows(ctx: Context, data: MirrorData, clients: dict[int, Any], kind: str, label: str,
          runs: Iterator[int]) -> list[Row]:  # fmt: skip
    """Alternate 1 worker, 2 workers (twice: the A/A series) and the in-process mirror into
    ``kind`` targets."""
    expected = data.pins * data.versions
    t: dict[str, list[float]] = {"1": [], "2": [], "2b": [], "in": []}

    def one(n: int, series: str) -> None:
        i = next(runs)
        where = f"s3://{data.dst_bucket}/dask-{i}" if kind == "s3" else str(ctx.work / f"dask-{i}")
        try:
            t[series].append(_dask_run(clients[n], data, where, expected))
        finally:
            if kind == "folder":
                shutil.rmtree(where, ignore_errors=True)

    def in_process() -> None:
        t["in"].append(_apins_mirror(ctx, data, kind, 10_000 + next(runs))[0])

    alternate(ctx.runs, lambda: one(1, "1"), lambda: one(2, "2"), in_process,
              lambda: one(2, "2b"))  # fmt: skip
    name = f"apins.dask mirror {label}, all versions"
    note = data.describe() + "; one thread per worker, shards = workers"
    return [
        time_rows(GROUP, name + ": 2 workers vs 1", t["2"], t["1"], subject="2 workers",
                  reference="1 worker", note=note),
        aa_row(GROUP, name + ": 2 workers", t["2"], t["2b"], who="2 workers"),
        time_rows(GROUP, name + ": 2 workers vs apins.mirror in one process", t["2"], t["in"],
                  subject="2 workers", reference="apins.mirror",
                  note="the same mirror without Dask: what the scheduling costs"),
    ]  # fmt: skip


@scenario("dask.mirror", GROUP)
def dask_mirror(ctx: Context) -> list[Row]:
    why = feature("apins.dask", "mirror") or feature("distributed")
    if why:
        return [unavailable(GROUP, "apins.dask mirror", why)]
    data = mirror_data(ctx)
    runs = count()
    with _clusters(ctx, data) as clients:
        return [
            *_rows(ctx, data, clients, "s3", "S3 -> S3 (same endpoint: server-side)", runs),
            *_rows(ctx, data, clients, "folder", "S3 -> folder", runs),
        ]
