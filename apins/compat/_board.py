"""A board with pins-python 0.9.2's verbs, signatures, return types and messages.

It sits on :class:`apins.sync.SyncBoard`: every verb runs apins's async implementation on
the shared background loop, then shapes the result the way pins-python returns it.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..errors import PinsError
from ..sync import SyncBoard
from ._meta import Meta, MetaV0, Version, to_compat_meta, version_from_info

log = logging.getLogger("apins.compat")

_TABLE_TYPES = {"csv", "parquet", "arrow", "feather"}


def inform(msg: str) -> None:
    """Log ``msg`` and print it on stderr, as pins-python does (quiet with PINS_QUIET=1)."""
    log.info(msg)
    if os.environ.get("PINS_QUIET", "").strip().lower() not in {"1", "true", "yes"}:
        print(msg, file=sys.stderr)


def _pandas_title(x: Any, name: str) -> str | None:
    """pins-python's default title for a pandas DataFrame (``a pinned 3 x 2 DataFrame``)."""
    mod = type(x).__module__ or ""
    if mod.startswith("pandas") and type(x).__name__ == "DataFrame":
        rows, cols = x.shape
        return f"{name}: a pinned {rows} x {cols} DataFrame"
    return None


class Board:
    """pins-python's board API over an apins board (``from apins import compat as pins``)."""

    def __init__(self, sync_board: SyncBoard, board: str, deparsed: str) -> None:
        self._sync = sync_board
        #: the board's path or URL, as pins-python's ``board.board``
        self.board = board
        self._deparsed = deparsed

    # -- plumbing --------------------------------------------------------------------------

    @property
    def apins_board(self) -> SyncBoard:
        """The :class:`apins.sync.SyncBoard` underneath (apins's own verbs and options)."""
        return self._sync

    @property
    def versioned(self) -> bool:
        return self._sync.versioned

    @property
    def allow_pickle_read(self) -> bool | None:
        return self._sync.allow_pickle_read

    def __repr__(self) -> str:
        return f"<apins.compat.Board {self._sync.board_deparse()}>"

    def __enter__(self) -> Board:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release connections (pins-python boards have nothing to close; this is optional)."""
        self._sync.close()

    # -- verbs -----------------------------------------------------------------------------

    def pin_exists(self, name: str) -> bool:
        """Determine if a pin exists."""
        return bool(self._sync.pin_exists(name))

    def pin_list(self) -> list[str]:
        """List names of all pins in a board."""
        return list(self._sync.pin_list())

    def pin_versions(self, name: str, as_df: bool = True) -> Any:
        """Available versions of a pin, oldest first: a DataFrame (created, hash, version)
        or, with ``as_df=False``, a list of ``Version``/``VersionRaw`` objects."""
        versions = [version_from_info(v) for v in self._sync.pin_versions(name)]
        if not as_df:
            return versions
        import pandas as pd

        return pd.DataFrame([v.to_dict() for v in versions])

    def pin_meta(self, name: str, version: str | None = None) -> Meta | MetaV0:
        """Metadata about a pin version (the latest by default)."""
        return to_compat_meta(self._sync.pin_meta(name, version), name)

    def pin_fetch(self, name: str, version: str | None = None) -> Meta | MetaV0:
        """Metadata of a pin version (pins-python's alias of pin_meta)."""
        return self.pin_meta(name, version)

    def pin_read(self, name: str, version: str | None = None, hash: str | None = None) -> Any:
        """The data stored in a pin: a pandas DataFrame for tables, the object otherwise.

        Unlike pins-python, ``hash`` is checked (a prefix of the version's pin_hash).
        """
        meta = self._sync.pin_meta(name, version)
        table = bool(set(meta.types) & _TABLE_TYPES)
        return self._sync.pin_read(name, meta.version, hash, output="pandas" if table else None)

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
        **kwargs: Any,
    ) -> Meta | MetaV0:
        """Write a pin object to the board (``type``: csv, arrow, parquet, joblib, json).

        Keyword arguments apins adds (``tags=``, ``urls=``, ``progress=``, and on Connect
        ``access_type=``) are passed through.
        """
        if type == "file":
            raise NotImplementedError(
                ".pin_write() does not support type='file'. "
                "Use .pin_upload() to save a file as a pin."
            )
        if type == "feather":
            import warnings

            warnings.warn(
                'Writing pin type "feather" is unsupported. Switching type to "arrow". '
                'Please switch to pin_write using type="arrow".',
                DeprecationWarning,
                stacklevel=2,
            )
            type = "arrow"
        if name is None:
            raise PinsError("pin_write needs a pin name: pass name=...")
        if title is None:
            title = _pandas_title(x, name.rsplit("/", 1)[-1])
        before = self._known_versions(name)
        written = self._sync.pin_write(
            x,
            name,
            type,
            title,
            description,
            metadata,
            versioned,
            created,
            force_identical_write=force_identical_write,
            **kwargs,
        )
        return self._report_write(name, written.version or "", before)

    def pin_upload(
        self,
        paths: str | Sequence[str],
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Meta | MetaV0:
        """Write a pin from one or more files (read them back with pin_download)."""
        if isinstance(paths, (list, tuple)):
            for path in paths:
                if not os.path.isfile(path):
                    raise PinsError(f"Path is not a valid file: {path}")
        if name is None:
            raise PinsError("pin_upload needs a pin name: pass name=...")
        before = self._known_versions(name)
        written = self._sync.pin_upload(paths, name, title, description, metadata)
        return self._report_write(name, written.version or "", before)

    def _known_versions(self, name: str) -> set[str]:
        try:
            return {v.version for v in self._sync.pin_versions(name)}
        except PinsError:
            return set()

    def _report_write(self, name: str, version: str, before: set[str]) -> Meta | MetaV0:
        meta = self.pin_meta(name, version)
        if version in before:
            inform(f'The hash of pin "{name}" has not changed. Your pin will not be stored.')
            return meta
        inform(f"Writing pin:\nName: {name!r}\nVersion: {version}")
        if isinstance(meta, Meta) and isinstance(meta.version, Version):
            # as pins-python: a new version's object carries the whole pin hash
            meta.version = Version(meta.version.created, meta.pin_hash)
        return meta

    def pin_download(
        self, name: str, version: str | None = None, hash: str | None = None
    ) -> list[str]:
        """Download the files contained in a pin; returns their local paths."""
        return list(self._sync.pin_download(name, version, hash))

    def pin_version_delete(self, name: str, version: str) -> None:
        """Delete a single version of a pin."""
        self._sync.pin_version_delete(name, version)

    def pin_versions_prune(self, name: str, n: int | None = None, days: int | None = None) -> None:
        """Delete old versions of a pin, keeping the ``n`` newest or those younger than
        ``days``; the most recent version is never deleted."""
        if n is None and days is None:
            raise ValueError("Argument n or days must be given.")
        if n is not None and n <= 0:
            raise ValueError(f"Argument n is {n}, but must be greater than 0.")
        if days is not None and days <= 0:
            raise ValueError(f"Argument days is {days}, but must be greater than 0.")
        deleted = self._sync.pin_versions_prune(name, n, days)
        if deleted:
            inform(f"Deleting versions: {', '.join(v.version for v in deleted)}.")
        else:
            inform("No old versions to delete")

    def pin_search(self, search: str | None = None, as_df: bool = True) -> Any:
        """Search pin names and titles (a regular expression); a DataFrame with name, type,
        title, created, file_size and meta, or a list of metadata with ``as_df=False``."""
        found = [to_compat_meta(m, m.name or "") for m in self._sync.pin_search(search)]
        if not as_df:
            return found
        import pandas as pd

        fields = ("name", "type", "title", "created", "file_size")
        return pd.DataFrame(
            [{**{k: getattr(m, k, None) for k in fields}, "meta": m} for m in found]
        )

    def pin_delete(self, names: str | Sequence[str]) -> None:
        """Delete a pin (or pins) with every version."""
        self._sync.pin_delete(names)

    def pin_browse(self, name: str, version: str | None = None, local: bool = False) -> Any:
        """Open the pin's home (its folder, console page or Connect page) in a web browser;
        ``local=True``: the folder of its cached copy."""
        browse = getattr(self._sync, "pin_browse", None)
        if browse is None:
            raise NotImplementedError("pin_browse is not available for this board.")
        return browse(name, version, local=local)

    def board_deparse(self) -> str:
        """A constructor call that recreates this board (pins-python's form, no secrets)."""
        return self._deparsed


__all__ = ["Board", "inform"]
