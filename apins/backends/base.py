"""The Backend protocol: what the pin verbs in :class:`apins.board.Board` need from a board."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..meta import AnyMeta, Meta
from ..stores.base import ProgressCallback
from ..versions import VersionInfo


@runtime_checkable
class Backend(Protocol):
    """Pins and versions on one board; bytes move through a Store or an API below it."""

    identity: str
    read_only: bool
    #: True when a version's files are local board files (folder boards): no cache involved
    local: bool

    def describe(self) -> str:
        """A constructor call that recreates the board, without secrets."""
        ...

    async def list_pins(self) -> list[str]: ...

    async def pin_exists(self, name: str) -> bool: ...

    async def list_versions(self, name: str) -> list[VersionInfo]:
        """Complete versions, oldest first; raises PinNotFound."""
        ...

    async def latest_version(self, name: str) -> VersionInfo:
        """The version a read without ``version=`` returns; raises PinNotFound."""
        ...

    async def poll_versions(self, name: str, newest: str | None) -> list[VersionInfo] | None:
        """Versions as the board has them now, oldest first, for pin_watch: no cache, no
        offline fallback, one or two small requests. ``None`` means "nothing changed since
        ``newest``" (the last version this watch saw), when the backend can tell cheaply.
        """
        ...

    async def read_meta(self, name: str, version: str) -> AnyMeta:
        """data.txt of one version; raises VersionNotFound."""
        ...

    async def read_meta_raw(self, name: str, version: str) -> bytes:
        """The exact bytes of one version's data.txt; raises VersionNotFound."""
        ...

    async def fetch_files(
        self,
        name: str,
        version: str,
        meta: AnyMeta,
        *,
        progress: ProgressCallback | None = None,
        private: bool = False,
    ) -> list[Path]:
        """Local paths of the version's files, each verified against ``meta.pin_hash``.

        ``private``: download into a scratch folder of this board, past the cache (for a
        reader whose cached files a concurrent cache_prune keeps removing); the caller
        deletes the files."""
        ...

    async def store_version(
        self,
        name: str,
        meta: Meta,
        files: Sequence[tuple[str, Path]],
        *,
        replace: VersionInfo | None = None,
        progress: ProgressCallback | None = None,
        raw_meta: bytes | None = None,
    ) -> str:
        """Publish a new version (files, then data.txt); return its version name.

        ``replace`` is the only previous version, removed once the new one is visible.
        ``raw_meta``, when given, is written as data.txt byte for byte (mirroring).
        """
        ...

    async def delete_version(self, name: str, version: str) -> None: ...

    async def delete_pin(self, name: str) -> None: ...

    async def write_manifest(self) -> dict[str, list[str]]:
        """Write ``_pins.yaml`` listing every pin's versions; return what was written."""
        ...

    async def aclose(self) -> None: ...
