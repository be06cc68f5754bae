"""Mirror one board with many workers: the shards of :func:`apins.mirror` as Dask tasks.

``pip install 'apins[dask]'``. Boards travel to the workers as board specs (a board
URL as the ``apins`` command line takes it, plus S3 options), never as live boards; each worker
opens them itself and takes credentials from its own environment (``AWS_*``, profiles,
``AZURE_STORAGE_*``, ``CONNECT_API_KEY``...), so no secret is ever put in the task graph.
"""

from __future__ import annotations

import pickle
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._mirror.plan import SinceArg, VersionsArg
from ._mirror.report import MirrorFailure, MirrorReport, merge_reports
from .errors import PinsError

if TYPE_CHECKING:
    from distributed import Client

    from .board import Board


@dataclass(frozen=True, slots=True)
class BoardSpec:
    """How a worker opens a board: a board URL (folder path, ``s3://bucket/prefix``,
    ``gs://``, ``az://``, ``https://``, ``connect://``, see ``apins --help``) and S3 options.

    Holds no secret: S3 options left ``None`` come from the worker's environment
    (``AWS_ENDPOINT_URL_S3``, ``AWS_REGION``, ``AWS_PROFILE``), and so do all credentials.
    """

    url: str
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None

    def open(self) -> Board:
        """The board (no I/O yet); raises ValueError for a bad URL."""
        from .cli.boards import open_board, s3_options
        from .cli.errors import UsageError

        try:
            return open_board(self.url, s3_options(self.endpoint_url, self.region, self.profile))
        except UsageError as exc:
            raise ValueError(str(exc)) from None


def mirror(
    source: BoardSpec | str,
    target: BoardSpec | str,
    *,
    client: Client | str | None = None,
    shards: int | None = None,
    names: str | list[str] | None = None,
    versions: VersionsArg = "all",
    since: SinceArg = None,
    dry_run: bool = False,
    delete: bool = False,
    concurrency: int = 8,
) -> MirrorReport:
    """Run ``shards`` shards of ``apins.mirror(source, target, ...)`` on a Dask cluster.

    ``client``: a ``distributed.Client``, a scheduler address (a client is opened and closed
    here), or None for the current default client. ``shards``: how many pieces (default: the
    number of workers). The other options are those of :func:`apins.mirror`. Returns one
    merged report. A shard whose worker dies is retried by Dask (up to the scheduler's
    ``distributed.scheduler.allowed-failures``); if it still fails, its error is raised once
    every other shard has finished (nothing of the call is left running), and running the
    same call again finishes the job (already copied versions are skipped).
    """
    from distributed import Client, get_client, wait

    src = BoardSpec(source) if isinstance(source, str) else source
    dst = BoardSpec(target) if isinstance(target, str) else target
    own = isinstance(client, str)
    if isinstance(client, str):
        cl: Any = Client(client)  # type: ignore[no-untyped-call]
    else:
        cl = client or get_client()
    try:
        n = shards if shards is not None else max(1, len(cl.scheduler_info()["workers"]))
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"shards must be a positive number, not {n!r}")
        options: dict[str, Any] = {
            "names": names, "versions": versions, "since": since, "dry_run": dry_run,
            "delete": delete, "concurrency": concurrency,
        }  # fmt: skip
        started = time.monotonic()
        run = uuid.uuid4().hex
        futures = [
            cl.submit(run_shard, src, dst, (k, n), options, key=f"apins-mirror-{k}of{n}-{run}")
            for k in range(n)
        ]
        wait(futures)  # type: ignore[no-untyped-call]  # all settle before a failed one raises
        reports: list[MirrorReport] = cl.gather(futures)
        return merge_reports(reports, time.monotonic() - started)
    finally:
        if own:
            cl.close()


def run_shard(
    source: BoardSpec, target: BoardSpec, shard: tuple[int, int], options: dict[str, Any]
) -> MirrorReport:
    """One shard, on a worker: open both boards, mirror, return a picklable report."""
    import anyio

    from ._mirror.run import mirror as amirror

    async def go() -> MirrorReport:
        async with source.open() as src, target.open() as dst:
            return await amirror(src, dst, shard=shard, **options)

    report = anyio.run(go)
    report.failed = [_portable(f) for f in report.failed]
    return report


def _portable(failure: MirrorFailure) -> MirrorFailure:
    """The failure, with its error replaced by a PinsError when it does not survive pickling."""
    try:
        pickle.loads(pickle.dumps(failure.error))
    except Exception:
        msg = f"{type(failure.error).__name__}: {failure.error}"
        return MirrorFailure(failure.pin, failure.version, PinsError(msg))
    return failure
