"""Board constructors. None of them does I/O: connections open on first use."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .backends.path import PathBackend
from .board import Board
from .cache import Cache
from .errors import InvalidArgument
from .settings import TransferSettings
from .stores.folder import FolderStore
from .transfer.progress import Progress

if TYPE_CHECKING:
    from .formats import Output
    from .stores.base import Store


def _deparse(fn: str, first: str, allow_pickle_read: bool | None, **extra: Any) -> str:
    args = [repr(first)]
    for k, v in extra.items():
        if v is not None:
            args.append(f"{k}={v!r}")
    if allow_pickle_read is not None:
        args.append(f"allow_pickle_read={allow_pickle_read!r}")
    return f"{fn}({', '.join(args)})"


def board_folder(
    path: str | os.PathLike[str],
    versioned: bool = True,
    allow_pickle_read: bool | None = None,
    *,
    output: Output | None = None,
    progress: Progress = False,
) -> Board:
    """A board in a local (or network-mounted) folder, created on first write; reading a
    folder that does not exist raises :class:`~apins.BoardNotFound`.

    Every constructor takes ``output=`` (what ``pin_read`` returns for tables by default:
    ``"arrow"``, ``"pandas"`` or ``"polars"``) and ``progress=`` (the default of every
    transfer verb: True shows a progress bar).
    """
    return _folder_board(path, versioned, allow_pickle_read, output, progress, missing_ok=False)


def _folder_board(
    path: str | os.PathLike[str],
    versioned: bool,
    allow_pickle_read: bool | None,
    output: Output | None,
    progress: Progress,
    *,
    missing_ok: bool,
) -> Board:
    store = FolderStore(path, missing_ok=missing_ok)
    desc = _deparse("board_folder", str(path), allow_pickle_read)
    return Board(
        PathBackend(store, description=desc),
        versioned=versioned,
        allow_pickle_read=allow_pickle_read,
        output=output,
        progress=progress,
    )


def board_local(
    versioned: bool = True,
    allow_pickle_read: bool | None = None,
    *,
    output: Output | None = None,
    progress: Progress = False,
) -> Board:
    """The user's local board: ``$PINS_DATA_DIR``, else the same folder pins-python uses."""
    env = os.environ.get("PINS_DATA_DIR")
    if env:
        root = Path(env)
    else:
        import platformdirs

        root = Path(platformdirs.user_data_dir("pins-py"))
    # the user's own board: before the first write it is simply empty
    return _folder_board(root, versioned, allow_pickle_read, output, progress, missing_ok=True)


def board_temp(
    versioned: bool = True,
    allow_pickle_read: bool | None = None,
    *,
    output: Output | None = None,
    progress: Progress = False,
) -> Board:
    """A board in a new temporary folder, removed when the board is closed."""
    root = Path(tempfile.gettempdir()) / f"apins-board-{uuid.uuid4().hex}"
    store = FolderStore(root, missing_ok=True)
    return Board(
        PathBackend(store, description=_deparse("board_temp", str(root), allow_pickle_read)),
        versioned=versioned,
        allow_pickle_read=allow_pickle_read,
        cleanup=root,
        output=output,
        progress=progress,
    )


def _cache_for(cache: Cache | str | os.PathLike[str] | bool | None) -> Cache | None:
    if cache is False:
        return None
    if cache is None or cache is True:
        return Cache()
    if isinstance(cache, Cache):
        return cache
    return Cache(cache)


def _strip_scheme(path: str, scheme: str) -> str:
    """``path`` without a leading ``scheme://`` (any case); other schemes are refused."""
    if not isinstance(path, str):
        raise InvalidArgument(f"A board path must be text, not {type(path).__name__}.")
    head, sep, rest = path.partition("://")
    if not sep:
        return path
    if head.lower() != scheme:
        raise InvalidArgument(f"{path!r} is not an {scheme}:// path.")
    return rest


def _store_board(
    store: Store,
    description: str,
    settings: TransferSettings,
    cache: Cache | str | os.PathLike[str] | bool | None,
    versioned: bool,
    allow_pickle_read: bool | None,
    output: Output | None,
    progress: Progress,
) -> Board:
    """The Board over a remote object store (S3, GCS, Azure): one PathBackend, the cache."""
    return Board(
        PathBackend(store, cache=_cache_for(cache), settings=settings, description=description),
        versioned=versioned,
        allow_pickle_read=allow_pickle_read,
        meta_concurrency=settings.meta_concurrency,
        output=output,
        progress=progress,
    )


def board_s3(
    path: str,
    versioned: bool = True,
    allow_pickle_read: bool | None = None,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    session_token: str | None = None,
    anonymous: bool = False,
    cache: Cache | str | os.PathLike[str] | bool | None = None,
    settings: TransferSettings | None = None,
    output: Output | None = None,
    progress: Progress = False,
) -> Board:
    """A board in an S3 (or S3-compatible) bucket: ``path`` is ``"bucket"`` or ``"bucket/prefix"``
    (``"s3://bucket/prefix"`` too).

    Credentials come from the usual AWS chain (environment, profile, instance role) unless
    given; ``anonymous=True`` reads public buckets unsigned. ``endpoint_url`` defaults to
    ``AWS_ENDPOINT_URL_S3``, then ``AWS_ENDPOINT_URL`` (as the AWS tools read them).
    ``cache=False`` disables the local cache; by default it lives in ``$PINS_CACHE_DIR`` or
    the platform cache folder.
    """
    from .stores.s3 import S3Store

    if endpoint_url is None:
        endpoint_url = (
            os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None
        )
    bucket, _, prefix = _strip_scheme(path, "s3").strip("/").partition("/")
    settings = settings or TransferSettings()
    store = S3Store(
        bucket,
        prefix,
        endpoint_url=endpoint_url,
        region=region,
        profile=profile,
        access_key=access_key,
        secret_key=secret_key,
        session_token=session_token,
        anonymous=anonymous,
        settings=settings,
    )
    desc = _deparse(
        "board_s3",
        path,
        allow_pickle_read,
        endpoint_url=endpoint_url,
        region=region,
        profile=profile,
    )
    return _store_board(
        store, desc, settings, cache, versioned, allow_pickle_read, output, progress
    )


def board_gcs(
    path: str,
    versioned: bool = True,
    cache: Cache | str | os.PathLike[str] | bool | None = None,
    allow_pickle_read: bool | None = None,
    *,
    project: str | None = None,
    token: Any = None,
    endpoint_url: str | None = None,
    anonymous: bool = False,
    settings: TransferSettings | None = None,
    output: Output | None = None,
    progress: Progress = False,
) -> Board:
    """A board in a Google Cloud Storage bucket: ``path`` is ``"bucket"`` or ``"bucket/prefix"``.

    ``token`` is a service-account JSON file (path or parsed dict), an OAuth access token, a
    ``google.auth`` credentials object or ``"anon"``; without it, application default
    credentials are used (``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's login, the metadata
    server). ``anonymous=True`` reads public buckets. ``STORAGE_EMULATOR_HOST`` (or
    ``endpoint_url``) points at an emulator, unauthenticated unless ``token`` is given.
    """
    from .stores.gcs import GCSStore

    bucket, _, prefix = _strip_scheme(path, "gs").strip("/").partition("/")
    settings = settings or TransferSettings()
    store = GCSStore(
        bucket,
        prefix,
        endpoint_url=endpoint_url,
        project=project,
        token=token,
        anonymous=anonymous,
        settings=settings,
    )
    desc = _deparse(
        "board_gcs", path, allow_pickle_read, project=project, endpoint_url=endpoint_url
    )
    return _store_board(
        store, desc, settings, cache, versioned, allow_pickle_read, output, progress
    )


def board_azure(
    path: str,
    versioned: bool = True,
    cache: Cache | str | os.PathLike[str] | bool | None = None,
    allow_pickle_read: bool | None = None,
    *,
    connection_string: str | None = None,
    account_url: str | None = None,
    credential: Any = None,
    settings: TransferSettings | None = None,
    output: Output | None = None,
    progress: Progress = False,
) -> Board:
    """A board in an Azure Blob container: ``path`` is ``"container"`` or ``"container/prefix"``.

    The account comes from ``connection_string``, else ``account_url`` (+ ``credential``: an
    account key, a SAS token or a token credential such as azure-identity's), else the
    ``AZURE_STORAGE_CONNECTION_STRING`` variable, else ``AZURE_STORAGE_ACCOUNT_URL`` with
    azure-identity's default chain (``pip install 'apins[azure]'``). Secrets are never shown.
    """
    from .stores._azure_auth import from_account_url, from_connection_string
    from .stores.azure import AzureStore

    if connection_string is None and account_url is None:
        connection_string = os.environ.get("AZURE_STORAGE_CONNECTION_STRING") or None
        account_url = None if connection_string else os.environ.get("AZURE_STORAGE_ACCOUNT_URL")
    if connection_string is not None:
        account = from_connection_string(connection_string)
    elif account_url:
        account = from_account_url(account_url, credential)
    else:
        raise ValueError(
            "board_azure() needs an account: pass connection_string= or account_url=, or set "
            "AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT_URL"
        )
    container, _, prefix = path.strip("/").partition("/")
    settings = settings or TransferSettings()
    store = AzureStore(account, container, prefix, settings=settings)
    desc = _deparse("board_azure", path, allow_pickle_read, account_url=account.url)
    return _store_board(
        store, desc, settings, cache, versioned, allow_pickle_read, output, progress
    )
