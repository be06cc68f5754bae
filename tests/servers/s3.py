"""The S3 endpoint handle shared by the SeaweedFS, moto and proxy helpers."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._proc import stop

if TYPE_CHECKING:
    from apins.board import Board


@dataclass
class S3Server:
    """A running S3-compatible server (or a proxy in front of one) on 127.0.0.1.

    The secret is kept out of repr.
    """

    endpoint_url: str
    access_key: str
    secret_key: str = field(repr=False)
    region: str = "us-east-1"
    kind: str = "s3"
    log_path: Path | None = field(default=None, repr=False)
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _workdir: Path | None = field(default=None, repr=False)
    _client: Any = field(default=None, repr=False, compare=False)

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `session.create_client("s3", **kw)` (aiobotocore or boto3)."""
        return {
            "endpoint_url": self.endpoint_url,
            "region_name": self.region,
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
        }

    def env(self) -> dict[str, str]:
        """AWS_* variables that point a subprocess (boto3, s3fs, pins) at this server."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
        }

    def boto3_client(self) -> Any:
        """A synchronous boto3 S3 client for this server (path-style addressing).

        It ignores AWS_PROFILE, so a stray profile in the environment cannot break it.
        The client is created once per handle and reused.
        """
        if self._client is not None:
            return self._client
        import boto3  # type: ignore[import-untyped]
        import botocore.session
        from botocore.config import Config

        core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
        self._client = boto3.Session(botocore_session=core).client(
            "s3",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
            **self.client_kwargs(),
        )
        return self._client

    def make_bucket(self, prefix: str = "t") -> str:
        """Create a bucket with a unique name starting with `prefix` and return its name."""
        name = f"{prefix}-{uuid.uuid4().hex[:16]}".lower()
        self.boto3_client().create_bucket(Bucket=name)
        return name

    def board(self, path: str, **kw: Any) -> Board:
        """An apins S3 board at ``path`` ("bucket/prefix") on this server, with its region and
        credentials; ``kw`` go to :func:`apins.board_s3` and override them (``endpoint_url``
        of a proxy in front of the server, a wrong ``secret_key``, ``cache``, ``settings``...)."""
        import apins

        options: dict[str, Any] = {
            "region": self.region,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            **kw,
        }
        options["endpoint_url"] = options.get("endpoint_url") or self.endpoint_url
        return apins.board_s3(path, **options)

    def via(self, endpoint_url: str, kind: str) -> S3Server:
        """A view of this server reached through another endpoint (e.g. a proxy).

        Same credentials; the view owns no process, so its stop() does nothing.
        """
        return replace(
            self, endpoint_url=endpoint_url, kind=kind, _proc=None, _workdir=None, _client=None
        )

    def stop(self) -> None:
        """Stop the server process (if this handle owns one) and remove its work dir."""
        if self._proc is not None:
            stop(self._proc)
            self._proc = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> S3Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
