"""The call of the first Python pins package (0.1.x), for scripts being migrated.

``apins.connect.pin_read(server, api_key, "owner/name")`` blocks (it runs on apins' background
event loop, so it also works inside Jupyter) and returns the pinned table.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

from .. import _portal
from .board import board_connect

if TYPE_CHECKING:
    from ..formats import Output

#: the metadata keys pins 0.1.x returned with meta_only=True
LEGACY_META_KEYS = (
    "file",
    "file_size",
    "pin_hash",
    "type",
    "title",
    "description",
    "created",
    "api_version",
)
_TABLE_TYPES = frozenset({"csv", "parquet", "arrow", "feather", "rds", "table"})


def pin_read(server: str, api_key: str | None, name: str, meta_only: bool = False) -> Any:
    """Read pin ``owner/name`` from a Connect server.

    Returns the table (a pandas DataFrame when pandas is installed, else a pyarrow Table;
    other pin types return their object), or with ``meta_only=True`` the metadata as a dict
    with the keys file, file_size, pin_hash, type, title, description, created, api_version.
    """
    return _portal.call(_pin_read, server, api_key, name, meta_only)


async def _pin_read(server: str, api_key: str | None, name: str, meta_only: bool) -> Any:
    async with board_connect(server, api_key) as board:
        meta = await board.pin_meta(name)
        if meta_only:
            return {k: getattr(meta, k, None) for k in LEGACY_META_KEYS}
        ptype = meta.types[0]
        output: Output | None = None
        if ptype in _TABLE_TYPES:
            output = "pandas" if importlib.util.find_spec("pandas") is not None else "arrow"
        return await board.pin_read(name, meta.version, output=output)
