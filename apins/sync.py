"""The sync facade: the same boards and verbs for scripts and notebooks, no ``await``.

    from apins import sync as pins
    board = pins.board_folder("my-board")
    board.pin_write(df, "sales", type="parquet")
    df = board.pin_read("sales", output="pandas")

Every call runs the async implementation on one shared background event loop, so it works
inside Jupyter (where a loop is already running), in plain scripts and from many threads.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import _portal
from .board import Board

if TYPE_CHECKING:
    from ._mirror.report import MirrorReport, VersionRef
    from .formats import Output
    from .meta import AnyMeta, Meta
    from .transfer.progress import Progress
    from .versions import VersionInfo
    from .watch import PinWatch


def _doc(method: Any) -> Any:
    """Copy the async twin's docstring onto the sync method."""

    def deco(fn: Any) -> Any:
        fn.__doc__ = getattr(Board, method.__name__).__doc__
        return fn

    return deco(method)


class SyncBoard:
    """A :class:`apins.Board` whose verbs block instead of returning coroutines."""

    def __init__(self, board: Board) -> None:
        self._board = board
        self._finalizer = _portal.register(self, board)

    @property
    def board(self) -> Board:
        """The async board underneath (use it from async code)."""
        return self._board

    def __repr__(self) -> str:
        return repr(self._board).replace("<apins.Board", "<apins.sync.Board", 1)

    def __enter__(self) -> SyncBoard:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release connections and temporary files (the sync twin of ``aclose``)."""
        self._finalizer.detach()
        _portal.call(self._board.aclose)

    def _run(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return _portal.call(functools.partial(getattr(self._board, name), *args, **kwargs))

    @property
    def versioned(self) -> bool:
        return self._board.versioned

    @property
    def allow_pickle_read(self) -> bool | None:
        return self._board.allow_pickle_read

    @property
    def output(self) -> Output | None:
        """What ``pin_read`` returns for tables by default (settable)."""
        return self._board.output

    @output.setter
    def output(self, value: Output | None) -> None:
        self._board.output = value

    @property
    def progress(self) -> Progress:
        """The default ``progress=`` of transfer verbs (settable; True: a bar)."""
        return self._board.progress

    @progress.setter
    def progress(self, value: Progress) -> None:
        self._board.progress = value

    def board_deparse(self) -> str:
        return self._board.board_deparse()

    @_doc
    def aclose(self) -> None:
        self.close()

    @_doc
    def pin_exists(self, name: str) -> bool:
        return bool(self._run("pin_exists", name))

    @_doc
    def pin_list(self) -> list[str]:
        return list(self._run("pin_list"))

    @_doc
    def pin_versions(self, name: str, as_df: bool = False) -> Any:
        return self._run("pin_versions", name, as_df)

    @_doc
    def pin_meta(self, name: str, version: str | None = None) -> AnyMeta:
        return self._run("pin_meta", name, version)  # type: ignore[no-any-return]

    @_doc
    def pin_search(self, search: str | None = None, as_df: bool = False) -> Any:
        return self._run("pin_search", search, as_df)

    @_doc
    def pin_read(
        self,
        name: str,
        version: str | None = None,
        hash: str | None = None,
        *,
        output: Output | None = None,
        type: str | None = None,
        progress: Progress = None,
    ) -> Any:
        return self._run(
            "pin_read", name, version, hash, output=output, type=type, progress=progress
        )

    @_doc
    def pin_watch(self, name: str, *, interval: float = 1.0, retries: int = 5) -> SyncWatch:
        return SyncWatch(self._board.pin_watch(name, interval=interval, retries=retries))

    @_doc
    def pin_download(
        self,
        name: str,
        version: str | None = None,
        hash: str | None = None,
        *,
        progress: Progress = None,
    ) -> list[str]:
        return list(self._run("pin_download", name, version, hash, progress=progress))

    @_doc
    def pin_write(
        self,
        x: Any,
        name: str | None = None,
        type: str | None = None,
        title: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        versioned: bool | None = None,
        created: datetime | None = None,
        *,
        force_identical_write: bool = False,
        tags: Sequence[str] | None = None,
        urls: Sequence[str] | None = None,
        progress: Progress = None,
        access_type: str | None = None,
    ) -> Meta:
        return self._run(  # type: ignore[no-any-return]
            "pin_write",
            x,
            name,
            type,
            title,
            description,
            metadata,
            versioned,
            created,
            force_identical_write=force_identical_write,
            tags=tags,
            urls=urls,
            progress=progress,
            access_type=access_type,
        )

    @_doc
    def pin_upload(
        self,
        paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        versioned: bool | None = None,
        created: datetime | None = None,
        *,
        force_identical_write: bool = False,
        tags: Sequence[str] | None = None,
        urls: Sequence[str] | None = None,
        progress: Progress = None,
    ) -> Meta:
        return self._run(  # type: ignore[no-any-return]
            "pin_upload",
            paths,
            name,
            title,
            description,
            metadata,
            versioned,
            created,
            force_identical_write=force_identical_write,
            tags=tags,
            urls=urls,
            progress=progress,
        )

    @_doc
    def pin_share(
        self,
        name: str,
        *,
        users: str | Sequence[str] = (),
        groups: str | Sequence[str] = (),
        role: str = "viewer",
    ) -> None:
        self._run("pin_share", name, users=users, groups=groups, role=role)

    @_doc
    def pin_unshare(
        self, name: str, *, users: str | Sequence[str] = (), groups: str | Sequence[str] = ()
    ) -> None:
        self._run("pin_unshare", name, users=users, groups=groups)

    @_doc
    def pin_url(self, name: str, version: str | None = None) -> str:
        return self._run("pin_url", name, version)  # type: ignore[no-any-return]

    @_doc
    def pin_browse(self, name: str, version: str | None = None, local: bool = False) -> str:
        return self._run("pin_browse", name, version, local)  # type: ignore[no-any-return]

    @_doc
    def pin_version_delete(self, name: str, version: str) -> None:
        self._run("pin_version_delete", name, version)

    @_doc
    def pin_versions_prune(
        self, name: str, n: int | None = None, days: float | None = None
    ) -> list[VersionInfo]:
        return list(self._run("pin_versions_prune", name, n, days))

    @_doc
    def pin_delete(self, names: str | Sequence[str]) -> None:
        self._run("pin_delete", names)

    @_doc
    def write_board_manifest(self) -> dict[str, list[str]]:
        return dict(self._run("write_board_manifest"))

    @_doc
    def sweep(self, grace: float = 600.0, name: str | None = None) -> list[str]:
        return list(self._run("sweep", grace, name))


class SyncWatch:
    """The blocking twin of :class:`apins.watch.PinWatch`: ``for meta in watch: ...``.

    Usable from any thread. Each ``next()`` runs one step of the async watch on the facade's
    loop; if the waiting thread is interrupted (Ctrl-C), that step is cancelled. Leaving a
    ``with`` block, ``close()``, or dropping the iterator ends the watch.
    """

    def __init__(self, watch: PinWatch) -> None:
        self._watch = watch
        self._closed = False

    def __repr__(self) -> str:
        return repr(self._watch).replace("<PinWatch", "<apins.sync.PinWatch", 1)

    @property
    def polls(self) -> int:
        """Polls started so far."""
        return self._watch.polls

    def __iter__(self) -> SyncWatch:
        return self

    def __next__(self) -> AnyMeta:
        if self._closed:
            raise StopIteration
        future = _portal.portal().start_task_soon(self._watch.__anext__)
        try:
            return future.result()
        except StopAsyncIteration:
            self._closed = True
            raise StopIteration from None
        except BaseException:
            future.cancel()
            with contextlib.suppress(BaseException):
                concurrent.futures.wait([future], timeout=10)
            raise

    def close(self) -> None:
        """End the watch (nothing polls after this)."""
        if not self._closed:
            self._closed = True
            _portal.call(self._watch.aclose)

    def __enter__(self) -> SyncWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def board_folder(
    path: str | os.PathLike[str],
    versioned: bool = True,
    allow_pickle_read: bool | None = None,
    **kwargs: Any,
) -> SyncBoard:
    """A folder board with blocking verbs (see :func:`apins.board_folder`; ``output=`` and
    ``progress=`` set the board's defaults)."""
    from .constructors import board_folder as make

    return SyncBoard(make(path, versioned, allow_pickle_read, **kwargs))


def board_local(
    versioned: bool = True, allow_pickle_read: bool | None = None, **kwargs: Any
) -> SyncBoard:
    """The local board with blocking verbs (see :func:`apins.board_local`)."""
    from .constructors import board_local as make

    return SyncBoard(make(versioned, allow_pickle_read, **kwargs))


def board_temp(
    versioned: bool = True, allow_pickle_read: bool | None = None, **kwargs: Any
) -> SyncBoard:
    """A temporary board with blocking verbs (see :func:`apins.board_temp`)."""
    from .constructors import board_temp as make

    return SyncBoard(make(versioned, allow_pickle_read, **kwargs))


def board_s3(
    path: str, versioned: bool = True, allow_pickle_read: bool | None = None, **kwargs: Any
) -> SyncBoard:
    """An S3 board with blocking verbs (see :func:`apins.board_s3` for every option)."""
    from .constructors import board_s3 as make

    return SyncBoard(make(path, versioned, allow_pickle_read, **kwargs))


def board_gcs(
    path: str,
    versioned: bool = True,
    cache: Any = None,
    allow_pickle_read: bool | None = None,
    **kwargs: Any,
) -> SyncBoard:
    """A GCS board with blocking verbs (see :func:`apins.board_gcs` for every option)."""
    from .constructors import board_gcs as make

    return SyncBoard(make(path, versioned, cache, allow_pickle_read, **kwargs))


def board_azure(
    path: str,
    versioned: bool = True,
    cache: Any = None,
    allow_pickle_read: bool | None = None,
    **kwargs: Any,
) -> SyncBoard:
    """An Azure Blob board with blocking verbs (see :func:`apins.board_azure` for every option)."""
    from .constructors import board_azure as make

    return SyncBoard(make(path, versioned, cache, allow_pickle_read, **kwargs))


def board_url(
    url: str | Mapping[str, str | Sequence[str]],
    *,
    headers: Mapping[str, str] | None = None,
    cache: Any = None,
    allow_pickle_read: bool | None = None,
    settings: Any = None,
    max_age: float | None = None,
    allow_external: bool = False,
    output: Output | None = None,
    progress: Progress = False,
) -> SyncBoard:
    """A read-only HTTP(S) board with blocking verbs (see :func:`apins.board_url`)."""
    from .url import board_url as make

    return SyncBoard(
        make(
            url,
            headers=headers,
            cache=cache,
            allow_pickle_read=allow_pickle_read,
            settings=settings,
            max_age=max_age,
            allow_external=allow_external,
            output=output,
            progress=progress,
        )
    )


def board_connect(
    server_url: str | None = None,
    api_key: str | None = None,
    versioned: bool = True,
    allow_pickle_read: bool | None = None,
    **kwargs: Any,
) -> SyncBoard:
    """A Posit Connect board with blocking verbs (see :func:`apins.board_connect`)."""
    from .connect import board_connect as make

    return SyncBoard(make(server_url, api_key, versioned, allow_pickle_read, **kwargs))


def mirror(
    source: SyncBoard | Board,
    target: SyncBoard | Board,
    names: str | Sequence[str] | None = None,
    versions: Any = "all",
    since: Any = None,
    dry_run: bool = False,
    delete: bool = False,
    concurrency: int = 8,
    stop_on_error: bool = False,
    progress: Progress = None,
    shard: tuple[int, int] | None = None,
    *,
    allow_empty_source: bool = False,
    before_delete: Callable[[list[VersionRef]], object] | None = None,
) -> MirrorReport:
    """Copy pins between boards, blocking (see :func:`apins.mirror` for every option)."""
    from ._mirror.run import mirror as amirror

    def unwrap(b: SyncBoard | Board) -> Board:
        return b.board if isinstance(b, SyncBoard) else b

    run = functools.partial(
        amirror,
        unwrap(source),
        unwrap(target),
        names=names,
        versions=versions,
        since=since,
        dry_run=dry_run,
        delete=delete,
        concurrency=concurrency,
        stop_on_error=stop_on_error,
        progress=progress,
        shard=shard,
        allow_empty_source=allow_empty_source,
        before_delete=before_delete,
    )
    return _portal.call(run)
