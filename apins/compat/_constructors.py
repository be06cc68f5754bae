"""pins-python's board constructors, with its arguments and defaults, building apins boards."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from .. import sync
from ..board import local_dir
from ..errors import PinsError
from ._board import Board, inform


class DEFAULT:
    """pins-python's marker for "the default cache" (pass ``cache=None`` for no cache)."""


def _cache(cache: Any) -> Any:
    """pins-python's ``cache=`` as apins's: DEFAULT → the shared cache, None → no cache."""
    if cache is DEFAULT:
        return None
    if cache is None:
        return False
    raise NotImplementedError("Can't currently pass own cache object.")


def _deparse(fn: str, first: str, allow_pickle_read: bool | None) -> str:
    pickle = "" if allow_pickle_read is None else f", allow_pickle_read={allow_pickle_read!r}"
    return f"{fn}({first!r}{pickle})"


def board_folder(path: str, versioned: bool = True, allow_pickle_read: bool | None = None) -> Board:
    """A board in a local folder."""
    made = sync.board_folder(path, versioned, allow_pickle_read)
    return Board(made, str(path), _deparse("board_folder", str(path), allow_pickle_read))


def board_temp(versioned: bool = True, allow_pickle_read: bool | None = None) -> Board:
    """A board in a temporary folder, removed when the board is closed or at exit."""
    made = sync.board_temp(versioned, allow_pickle_read)
    root = str(local_dir(made.board))
    return Board(made, root, _deparse("board_temp", root, allow_pickle_read))


def board_local(versioned: bool = True, allow_pickle_read: bool | None = None) -> Board:
    """The user's local board (``PINS_DATA_DIR`` or the folder pins-python uses)."""
    made = sync.board_local(versioned, allow_pickle_read)
    root = str(local_dir(made.board))
    return Board(made, root, _deparse("board_folder", root, allow_pickle_read))


# s3fs storage options and the apins board_s3 argument each one becomes
_S3_OPTIONS = {
    "key": "access_key",
    "secret": "secret_key",
    "token": "session_token",
    "anon": "anonymous",
    "endpoint_url": "endpoint_url",
    "profile": "profile",
    "region_name": "region",
}
# s3fs options that tune fsspec's own caching or transfers: apins has its own, so they are
# accepted and have no effect
_S3_IGNORED = {
    "listings_expiry_time",
    "use_listings_cache",
    "max_paths",
    "skip_instance_cache",
    "default_block_size",
    "default_fill_cache",
    "default_cache_type",
    "version_aware",
    "use_ssl",
    "asynchronous",
    "loop",
    "max_concurrency",
}


def _s3_kwargs(options: Mapping[str, Any]) -> dict[str, Any]:
    """Translate s3fs storage options (and the FSSPEC_S3_* environment) into apins's."""
    opts = dict(options)
    client = dict(opts.pop("client_kwargs", None) or {})
    out: dict[str, Any] = {}
    for env, key in (
        ("FSSPEC_S3_ENDPOINT_URL", "endpoint_url"),
        ("FSSPEC_S3_KEY", "key"),
        ("FSSPEC_S3_SECRET", "secret"),
    ):
        if os.environ.get(env) and key not in opts:
            opts[key] = os.environ[env]
    for key in ("endpoint_url", "region_name"):
        if key in client:
            opts.setdefault(key, client.pop(key))
    unknown = []
    for key, value in opts.items():
        if key in _S3_OPTIONS:
            out[_S3_OPTIONS[key]] = bool(value) if key == "anon" else value
        elif key not in _S3_IGNORED:
            unknown.append(key)
    unknown += [f"client_kwargs[{k!r}]" for k in client]
    if unknown:
        warnings.warn(
            f"board_s3: apins does not use these storage options: {', '.join(unknown)}",
            UserWarning,
            stacklevel=3,
        )
    return out


def board_s3(
    path: str,
    versioned: bool = True,
    cache: Any = DEFAULT,
    allow_pickle_read: bool | None = None,
    **storage_options: Any,
) -> Board:
    """A board in an S3 bucket folder, ``"bucket/prefix"``. Storage options are s3fs's
    (``key``, ``secret``, ``token``, ``anon``, ``endpoint_url``, ``client_kwargs``, ``profile``)."""
    made = sync.board_s3(
        path, versioned, allow_pickle_read, cache=_cache(cache), **_s3_kwargs(storage_options)
    )
    return Board(made, path, _deparse("board_s3", path, allow_pickle_read))


def board_gcs(
    path: str, versioned: bool = True, cache: Any = DEFAULT, allow_pickle_read: bool | None = None
) -> Board:
    """A board in a Google Cloud Storage bucket folder, ``"bucket/prefix"``."""
    make: Callable[..., sync.SyncBoard] | None = getattr(sync, "board_gcs", None)
    if make is None:
        raise NotImplementedError("This apins has no GCS boards.")
    made = make(path, versioned, _cache(cache), allow_pickle_read)
    return Board(made, path, _deparse("board_gcs", path, allow_pickle_read))


def board_azure(
    path: str, versioned: bool = True, cache: Any = DEFAULT, allow_pickle_read: bool | None = None
) -> Board:
    """A board in an Azure Blob Storage container folder, ``"container/prefix"`` (the account
    comes from ``AZURE_STORAGE_CONNECTION_STRING`` and friends)."""
    make: Callable[..., sync.SyncBoard] | None = getattr(sync, "board_azure", None)
    if make is None:
        raise NotImplementedError("This apins has no Azure boards.")
    made = make(path, versioned, _cache(cache), allow_pickle_read)
    return Board(made, path, _deparse("board_azure", path, allow_pickle_read))


def board_url(
    path: str,
    pin_paths: Mapping[str, str],
    cache: Any = DEFAULT,
    allow_pickle_read: bool | None = None,
) -> Board:
    """A read-only board of individual URLs: ``pin_paths`` maps pin names to paths under
    the base URL ``path`` (a path ending in ``/`` is a pin version folder)."""
    base = path.rstrip("/")
    urls = {name: f"{base}/{rel.lstrip('/')}" if base else rel for name, rel in pin_paths.items()}
    made = sync.board_url(urls, cache=_cache(cache), allow_pickle_read=allow_pickle_read)
    pickle = "" if allow_pickle_read is None else f", allow_pickle_read={allow_pickle_read!r}"
    return Board(made, path, f"board_url({path!r}, {dict(pin_paths)!r}{pickle})")


def board_connect(
    server_url: str | None = None,
    versioned: bool = True,
    api_key: str | None = None,
    cache: Any = DEFAULT,
    allow_pickle_read: bool | None = None,
) -> Board:
    """A board on Posit Connect (``CONNECT_SERVER`` and ``CONNECT_API_KEY`` by default)."""
    made = sync.board_connect(
        server_url, api_key, versioned, allow_pickle_read, cache=_cache(cache)
    )
    server = str(made.board.backend.client.server_url)  # type: ignore[attr-defined]
    pickle = "" if allow_pickle_read is None else f", allow_pickle_read={allow_pickle_read!r}"
    return Board(made, server, f"board_connect(server_url={server!r}{pickle})")


board_rsconnect = board_connect


def board(
    protocol: str,
    path: str = "",
    versioned: bool = True,
    cache: Any = DEFAULT,
    allow_pickle_read: bool | None = None,
    storage_options: Mapping[str, Any] | None = None,
    board_factory: Any = None,
) -> Board:
    """A board by file-system protocol: ``file``, ``s3``, ``gcs``/``gs``, ``abfs``/``az``,
    ``rsc`` (Posit Connect; ``storage_options`` holds ``server_url`` and ``api_key``)."""
    if board_factory is not None:
        raise NotImplementedError("apins.compat.board() does not take a board_factory.")
    options = dict(storage_options or {})
    if protocol in {"file", "local"}:
        return board_folder(path, versioned, allow_pickle_read)
    if protocol in {"s3", "s3a"}:
        return board_s3(path, versioned, cache, allow_pickle_read, **options)
    if protocol in {"gcs", "gs"}:
        return board_gcs(path, versioned, cache, allow_pickle_read)
    if protocol in {"abfs", "az"}:
        return board_azure(path, versioned, cache, allow_pickle_read)
    if protocol == "rsc":
        return board_connect(
            options.get("server_url"), versioned, options.get("api_key"), cache, allow_pickle_read
        )
    raise NotImplementedError(
        f"apins has no board for protocol {protocol!r}: use file, s3, gcs, abfs or rsc."
    )


def board_deparse(board: Board) -> str:
    """How to recreate ``board`` (no secrets: keys come from the environment)."""
    if not isinstance(board, Board):
        raise PinsError("board_deparse needs a board made by apins.compat.")
    return board.board_deparse()


def cache_info() -> None:
    """Print the cache folder and the size each board takes in it."""
    from ..cache import Cache

    cache = Cache()
    print(f"Cache info: {cache.root}")
    for board_id, size in sorted(cache.info().items()):
        print(f"* {board_id}: {_human(size)}")


def cache_prune(days: int = 30, cache_root: str | None = None, prompt: bool = True) -> None:
    """Delete cached pin versions not used for ``days`` days (asks first unless
    ``prompt=False``)."""
    from ..cache import Cache

    if prompt:
        answer = input(f"Delete cached pin versions unused for {days} days? [y/N] ")
        if answer.strip().lower() not in {"y", "yes"}:
            inform("Skipping deletion of pins from cache.")
            return
    result = Cache(cache_root).prune(days=days)
    inform(f"Deleting pins from cache: {result}")


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} Bytes"
        value /= 1024
    return f"{value:.1f} TiB"
