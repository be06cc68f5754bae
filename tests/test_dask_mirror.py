"""apins.dask: mirror shards as tasks on a LocalCluster of 2 worker processes (SeaweedFS)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import apins
from apins._mirror.shard import shard_of
from apins.dask import BoardSpec
from apins.dask import mirror as dask_mirror
from tests._helpers import missing
from tests.faultproxy import Fault, FaultProxy, RequestRecord
from tests.mirror_support import fill, folder_files, s3_objects
from tests.servers import S3Server


def _distributed() -> Any:
    """dask.distributed (the [dask] extra, which [test] installs): missing in CI fails."""
    try:
        import distributed
    except ImportError as exc:
        missing(f"apins[dask] is not installed: {exc}", module_level=True)
    return distributed


distributed = _distributed()


@pytest.fixture(scope="module")
def client(seaweed: S3Server) -> Iterator[Any]:
    """Two worker processes; credentials reach them only through their environment (the
    nannies set it in each worker process they start, restarts included).

    A task whose worker dies is not run again (allowed-failures 0), so a killed worker
    fails the mirror instead of Dask quietly finishing it; a killed worker's nanny is kept
    however long its restart takes on a loaded machine (the default 15 s closes it). Each
    worker imports what a shard needs before it joins, so no task waits on a fresh worker's
    imports."""
    import dask

    settings = {
        "distributed.scheduler.allowed-failures": 0,
        "distributed.deploy.lost-worker-timeout": "600s",
    }
    with dask.config.set(settings):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, host="127.0.0.1",
            dashboard_address=None, silence_logs=50, env=seaweed.env(),
            preload=["apins.cli.boards", "apins._mirror.run", "apins.stores.s3"],
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


#: the shard whose worker is killed (of 2): pin1, pin4 and pin5, six versions
VICTIM = 0


def _victim_request(kind: str) -> Callable[[RequestRecord], bool]:
    """The requests of the victim shard the hold counts: to an S3 target, the data.txt PUTs
    (the proxy fronts the target); to a folder target, the source's data file GETs."""

    def match(r: RequestRecord) -> bool:
        parts = r.path.split("?", 1)[0].strip("/").split("/")
        if len(parts) != 5 or shard_of(parts[2], 2) != VICTIM:
            return False
        if kind == "s3":
            return r.method == "PUT" and parts[1] == "dst" and parts[4] == "data.txt"
        return r.method == "GET" and parts[1] == "src" and parts[4].endswith(".json")

    return match


def _pins_python_reads(
    kind: str, seaweed: S3Server, bucket: str, root: Path, skip: str | None = None
) -> dict[str, Any]:
    """pins-python 0.9.2 reads the latest version of every pin on the target but ``skip``."""
    import pins

    if kind == "folder":
        board = pins.board_folder(str(root))
    else:
        board = pins.board_s3(
            f"{bucket}/dst", key=seaweed.access_key, secret=seaweed.secret_key,
            client_kwargs={"endpoint_url": seaweed.endpoint_url, "region_name": seaweed.region},
            skip_instance_cache=True, use_listings_cache=False, cache=None,
        )  # fmt: skip
    return {name: board.pin_read(name) for name in board.pin_list() if name != skip}


@pytest.mark.parametrize("kind", ["s3", "folder"])
async def test_worker_killed_mid_version_then_rerun_completes(
    kind: str, client: Any, seaweed: S3Server, tmp_path: Path
) -> None:
    """One version at a time per shard: two of the victim shard land, then its worker is
    SIGKILLed while the third is held (S3: its data file written, its data.txt not yet;
    folder: its data file half-way from the source). Dask may not retry (allowed-failures
    is 0), so the run fails and leaves the target partial; the re-run completes it."""
    bucket = seaweed.make_bucket("dask-b")
    async with seaweed.board(f"{bucket}/src", cache=tmp_path / "c0") as src:
        await fill(src, 6, 2)
    source = s3_objects(seaweed, bucket, "src/")
    reached, release = asyncio.Event(), asyncio.Event()
    held: list[str] = []  # the held request's key, relative to the board

    async def hold(record: RequestRecord) -> None:
        held.append("/".join(record.path.split("?", 1)[0].strip("/").split("/")[2:]))
        reached.set()
        await release.wait()  # the sender is dead by now: its request must not go through
        raise ConnectionResetError("the worker that sent this was killed")

    def target_files() -> dict[str, bytes]:
        if kind == "s3":
            return s3_objects(seaweed, bucket, "dst/")
        return folder_files(tmp_path / "dst")

    async with FaultProxy(seaweed.endpoint_url) as proxy:
        # a hold on the third matching request of the victim shard (one version at a time)
        proxy.add(Fault("hook", match=_victim_request(kind), nth=3, hook=hold))
        # different endpoints on the two sides, so files stream through the workers
        if kind == "s3":
            src_spec = BoardSpec(f"s3://{bucket}/src")
            dst_spec = BoardSpec(f"s3://{bucket}/dst", endpoint_url=proxy.url)
        else:
            src_spec = BoardSpec(f"s3://{bucket}/src", endpoint_url=proxy.url)
            dst_spec = BoardSpec(str(tmp_path / "dst"))

        def run() -> apins.MirrorReport:
            return dask_mirror(src_spec, dst_spec, client=client, shards=2, concurrency=1)

        def first_run() -> BaseException | None:
            try:
                run()
            except BaseException as exc:
                return exc
            return None

        def victim_pid() -> int:
            key = f"apins-mirror-{VICTIM}of2-"
            busy = client.processing().items()
            (worker,) = [w for w, keys in busy if any(key in str(k) for k in keys)]
            return int(client.run(os.getpid, workers=[worker])[worker])

        with anyio.fail_after(240):
            async with anyio.create_task_group() as tg:
                outcome: list[BaseException | None] = []

                async def first() -> None:
                    outcome.append(await anyio.to_thread.run_sync(first_run))

                tg.start_soon(first)
                await reached.wait()  # two versions of the victim shard landed, a third is held
                os.kill(await anyio.to_thread.run_sync(victim_pid), signal.SIGKILL)
                release.set()
            assert isinstance(outcome[0], distributed.KilledWorker), outcome
            partial = target_files()
            done = _versions(partial)
            assert 2 <= len([v for v in done if shard_of(v.split("/")[0], 2) == VICTIM]) < 6
            assert len(done) < 12
            assert all(source[k] == partial[k] for k in partial)
            folder = held[0].rsplit("/", 1)[0]
            assert folder not in done
            half = None
            if kind == "s3":  # the held version: its data file there, its data.txt not
                assert f"{folder}/{folder.split('/')[0]}.json" in partial, held
                half = folder.split("/")[0]  # pins-python lists that version, and chokes
            read = await anyio.to_thread.run_sync(
                _pins_python_reads, kind, seaweed, bucket, tmp_path / "dst", half
            )
            assert set(read) == {k.split("/")[0] for k in done} - {half}
            rerun = await anyio.to_thread.run_sync(run)
            final = await anyio.to_thread.run_sync(run)
    assert rerun.ok, rerun.failed
    assert len(rerun.copied) == 12 - len(done) and len(rerun.skipped) == len(done)
    assert final.ok and not final.copied and len(final.skipped) == 12
    assert target_files() == source
    read = _pins_python_reads(kind, seaweed, bucket, tmp_path / "dst")
    assert read == {f"pin{p}": {"pin": p, "version": 1, "tag": ""} for p in range(6)}


def test_board_spec_pickles_without_secrets() -> None:
    import pickle

    spec = BoardSpec("s3://bucket/prefix", endpoint_url="http://127.0.0.1:9")
    blob = pickle.dumps(spec)
    assert pickle.loads(blob) == spec
    assert b"SECRET" not in blob.upper() and b"KEY" not in blob.upper()
    with pytest.raises(ValueError, match="unknown board URL"):
        BoardSpec("nope://x").open()
