"""Board URLs on the command line: folder paths, s3://, gs://, az://, http(s)://, connect://."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from .errors import UsageError

if TYPE_CHECKING:
    from ..board import Board

_S3_QUERY = ("endpoint_url", "region", "profile")
_GS_QUERY = ("endpoint_url", "project", "anonymous")
_AZ_QUERY = ("account_url",)


@dataclass(frozen=True, slots=True)
class S3Options:
    """Defaults for s3:// boards (command-line flags, else the AWS_* environment)."""

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None


def s3_options(endpoint_url: str | None, region: str | None, profile: str | None) -> S3Options:
    """Flags first, then AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_REGION, AWS_PROFILE."""
    env = os.environ
    return S3Options(
        endpoint_url=endpoint_url or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL"),
        region=region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
        profile=profile or env.get("AWS_PROFILE"),
    )


def open_board(spec: str, s3: S3Options, *, allow_pickle_read: bool | None = None) -> Board:
    """The board a command-line URL names (no I/O yet). Raises UsageError for a bad URL.

    ``file:///path`` or a plain path: a folder board. ``s3://bucket/prefix`` (query options
    ``endpoint_url``, ``region``, ``profile`` override the flags). ``gs://bucket/prefix``
    (application default credentials; query options ``endpoint_url``, ``project``,
    ``anonymous``; STORAGE_EMULATOR_HOST is honoured). ``az://container/prefix`` (the
    account from AZURE_STORAGE_CONNECTION_STRING, else ``?account_url=`` or
    AZURE_STORAGE_ACCOUNT_URL with AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_ACCOUNT_KEY or the
    default credential chain; secrets never go in URLs or flags). ``http(s)://host/path/``: a
    URL board read through its ``_pins.yaml``. ``connect://host[:port]`` (https) or
    ``connect+http://host:port``: Posit Connect, with the key from CONNECT_API_KEY.
    """
    if not spec:
        raise UsageError("empty board URL")
    scheme = spec.split("://", 1)[0].lower() if "://" in spec else ""
    if scheme == "":
        from ..constructors import board_folder

        return board_folder(Path(spec), allow_pickle_read=allow_pickle_read)
    parts = urlsplit(spec)
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise UsageError(f"file URLs name a local path (file:///path), not {spec!r}")
        from ..constructors import board_folder

        return board_folder(Path(unquote(parts.path)), allow_pickle_read=allow_pickle_read)
    if scheme == "s3":
        return _s3_board(parts.netloc, parts.path, parts.query, s3, allow_pickle_read)
    if scheme == "gs":
        return _gs_board(parts.netloc, parts.path, parts.query, allow_pickle_read)
    if scheme == "az":
        return _az_board(parts.netloc, parts.path, parts.query, allow_pickle_read)
    if scheme in ("http", "https"):
        from ..url import board_url

        url = spec if spec.endswith("/") or spec.endswith(".yaml") else spec + "/"
        return board_url(url, allow_pickle_read=allow_pickle_read)
    if scheme in ("connect", "connect+https", "connect+http"):
        if not parts.netloc:
            raise UsageError(f"connect URLs name a server: connect://host[:port], not {spec!r}")
        web = "http" if scheme == "connect+http" else "https"
        from ..connect import board_connect

        server = f"{web}://{parts.netloc}{parts.path.rstrip('/')}"
        return board_connect(
            server, os.environ.get("CONNECT_API_KEY"), allow_pickle_read=allow_pickle_read
        )
    raise UsageError(
        f"unknown board URL {spec!r}: use a folder path, file:///path, s3://bucket/prefix, "
        "gs://bucket/prefix, az://container/prefix, https://host/path/ or connect://host"
    )


def _s3_board(
    bucket: str, path: str, query: str, s3: S3Options, allow_pickle_read: bool | None
) -> Board:
    from ..constructors import board_s3

    if not bucket:
        raise UsageError("s3 URLs name a bucket: s3://bucket/prefix")
    given = parse_qs(query, keep_blank_values=False)
    unknown = sorted(set(given) - set(_S3_QUERY))
    if unknown:
        raise UsageError(f"unknown s3 URL option(s) {unknown}; allowed: {list(_S3_QUERY)}")
    opts = {k: v[-1] for k, v in given.items()}
    prefix = path.strip("/")
    return board_s3(
        f"{bucket}/{prefix}" if prefix else bucket,
        allow_pickle_read=allow_pickle_read,
        endpoint_url=opts.get("endpoint_url", s3.endpoint_url),
        region=opts.get("region", s3.region),
        profile=opts.get("profile", s3.profile),
    )


def _gs_board(bucket: str, path: str, query: str, allow_pickle_read: bool | None) -> Board:
    from ..constructors import board_gcs

    if not bucket:
        raise UsageError("gs URLs name a bucket: gs://bucket/prefix")
    given = parse_qs(query, keep_blank_values=False)
    unknown = sorted(set(given) - set(_GS_QUERY))
    if unknown:
        raise UsageError(f"unknown gs URL option(s) {unknown}; allowed: {list(_GS_QUERY)}")
    opts = {k: v[-1] for k, v in given.items()}
    anonymous = opts.get("anonymous", "0").lower()
    if anonymous not in ("0", "1", "true", "false"):
        raise UsageError(f"gs URL option anonymous must be true or false, not {anonymous!r}")
    prefix = path.strip("/")
    return board_gcs(
        f"{bucket}/{prefix}" if prefix else bucket,
        allow_pickle_read=allow_pickle_read,
        endpoint_url=opts.get("endpoint_url"),
        project=opts.get("project"),
        anonymous=anonymous in ("1", "true"),
    )


def _az_board(container: str, path: str, query: str, allow_pickle_read: bool | None) -> Board:
    """An Azure board; credentials only from the environment (never argv: ps shows it)."""
    from ..constructors import board_azure

    if not container:
        raise UsageError("az URLs name a container: az://container/prefix")
    given = parse_qs(query, keep_blank_values=False)
    unknown = sorted(set(given) - set(_AZ_QUERY))
    if unknown:
        raise UsageError(f"unknown az URL option(s) {unknown}; allowed: {list(_AZ_QUERY)}")
    env = os.environ
    account_url = given["account_url"][-1] if "account_url" in given else None
    connection_string = None if account_url else env.get("AZURE_STORAGE_CONNECTION_STRING")
    account_url = account_url or (
        None if connection_string else env.get("AZURE_STORAGE_ACCOUNT_URL")
    )
    if not (connection_string or account_url):
        raise UsageError(
            "az URLs need an account: set AZURE_STORAGE_CONNECTION_STRING, or "
            "AZURE_STORAGE_ACCOUNT_URL (or ?account_url=...) with a credential"
        )
    credential = env.get("AZURE_STORAGE_SAS_TOKEN") or env.get("AZURE_STORAGE_ACCOUNT_KEY")
    prefix = path.strip("/")
    try:
        return board_azure(
            f"{container}/{prefix}" if prefix else container,
            allow_pickle_read=allow_pickle_read,
            connection_string=connection_string,
            account_url=None if connection_string else account_url,
            credential=None if connection_string else credential,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
