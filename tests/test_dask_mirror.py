"""apins.dask: mirror shards as tasks on a LocalCluster of 2 worker processes (SeaweedFS)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import apins
from apins.dask import BoardSpec
from apins.dask import mirror as dask_mirror
from tests.faultproxy import Fault, FaultProxy, RequestRecord
from tests.mirror_support import fill, folder_files, s3_objects
from tests.servers import S3Server

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client(seaweed: S3Server) -> Iterator[Any]:
    """Two worker processes; credentials reach them only through their environment."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in seaweed.env().items():
            mp.setenv(key, value)
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, host="127.0.0.1",
            dashboard_address=None, silence_logs=50,
        )  # fmt: skip
        with cluster, distributed.Client(cluster) as c:
            yield c


def _versions(objects: dict[str, bytes]) -> dict[str, bytes]:
    """pin/version → data.txt bytes."""
    return {k.rsplit("/", 1)[0]: v for k, v in objects.items() if k.endswith("/data.txt")}


async def test_dask_mirror_equals_one_process_and_reruns_as_noop(
    client: Any, seaweed: S3Server, tmp_path: Path
) -> None:
    bucket = seaweed.make_bucket("dask-a")
    async with seaweed.board(f"{bucket}/src", cache=tmp_path / "c0") as src:
        written = await fill(src, 6, 2)
        async with apins.board_folder(tmp_path / "one") as one_folder:
            await apins.mirror(src, one_folder)
        async with seaweed.board(f"{bucket}/one", cache=tmp_path / "c1") as one_s3:
            await apins.mirror(src, one_s3)

    source = BoardSpec(f"s3://{bucket}/src")  # endpoint and keys: the workers' environment
    for target in [BoardSpec(f"s3://{bucket}/viadask"), BoardSpec(str(tmp_path / "viadask"))]:

        def run(t: BoardSpec = target) -> apins.MirrorReport:
            return dask_mirror(source, t, client=client)

        report = await anyio.to_thread.run_sync(run)
        assert report.ok, report.failed
        assert len(report.copied) == 12 and not report.skipped
        assert {r.pin for r in report.copied} == set(written)
        again = await anyio.to_thread.run_sync(run)
        assert again.ok and not again.copied and len(again.skipped) == 12

    assert s3_objects(seaweed, bucket, "viadask/") == s3_objects(seaweed, bucket, "one/")
    assert folder_files(tmp_path / "viadask") == folder_files(tmp_path / "one")
    assert len(_versions(s3_objects(seaweed, bucket, "viadask/"))) == 12


async def test_worker_killed_mid_run_then_rerun_completes(
    client: Any, seaweed: S3Server, tmp_path: Path
) -> None:
    bucket = seaweed.make_bucket("dask-b")
    async with seaweed.board(f"{bucket}/src", cache=tmp_path / "c0") as src:
        await fill(src, 6, 2)
    reached, release = asyncio.Event(), asyncio.Event()

    async def hold(record: RequestRecord) -> None:
        reached.set()
        await release.wait()

    def data_get(r: RequestRecord) -> bool:
        path = r.path.split("?", 1)[0]
        return r.method == "GET" and f"/{bucket}/src/" in path and path.endswith(".json")

    async with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.add(Fault("hook", match=data_get, count=None, hook=hold))
        # a different endpoint than the target's, so files stream through the workers
        source = BoardSpec(f"s3://{bucket}/src", endpoint_url=proxy.url)
        target = BoardSpec(f"s3://{bucket}/dst")

        def first_run() -> BaseException | None:
            try:
                dask_mirror(source, target, client=client, shards=2)
            except BaseException as exc:  # a killed worker may or may not fail its shard
                return exc
            return None

        with anyio.fail_after(240):
            async with anyio.create_task_group() as tg:
                tg.start_soon(anyio.to_thread.run_sync, first_run)
                await reached.wait()  # a shard is copying: its worker is mid-run
                busy = [w for w, keys in client.processing().items() if keys]
                assert busy
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                release.set()
            rerun = await anyio.to_thread.run_sync(
                lambda: dask_mirror(source, target, client=client, shards=2)
            )
            assert rerun.ok, rerun.failed
            final = await anyio.to_thread.run_sync(
                lambda: dask_mirror(source, target, client=client, shards=2)
            )
    assert final.ok and not final.copied and len(final.skipped) == 12
    assert _versions(s3_objects(seaweed, bucket, "dst/")) == _versions(
        s3_objects(seaweed, bucket, "src/")
    )
    assert s3_objects(seaweed, bucket, "dst/") == s3_objects(seaweed, bucket, "src/")


def test_board_spec_pickles_without_secrets() -> None:
    import pickle

    spec = BoardSpec("s3://bucket/prefix", endpoint_url="http://127.0.0.1:9")
    blob = pickle.dumps(spec)
    assert pickle.loads(blob) == spec
    assert b"SECRET" not in blob.upper() and b"KEY" not in blob.upper()
    with pytest.raises(ValueError, match="unknown board URL"):
        BoardSpec("nope://x").open()
