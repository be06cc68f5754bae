"""apins: an async-first client for pins, byte-compatible with pins-python and R pins.

``import apins`` is light: boards, formats and drivers load on first use.

    import apins
    async with apins.board_folder("my-board") as board:
        await board.pin_write(table, "sales", type="parquet")
        table = await board.pin_read("sales")

Notebook and script users who do not want ``await`` use :mod:`apins.sync`.
"""

from __future__ import annotations

from .errors import (
    BoardNotFound,
    ConnectError,
    HashMismatch,
    InvalidArgument,
    InvalidMetadata,
    InvalidPinName,
    ObjectChanged,
    OfflineError,
    PickleNotAllowed,
    PinNotFound,
    PinsError,
    ReadOnlyBoard,
    StoreAccessError,
    TransferError,
    UnsupportedType,
    VersionConflict,
    VersionNotFound,
)

__version__ = "0.1.0"

_LAZY = {
    "Board": "apins.board",
    "board_folder": "apins.constructors",
    "board_local": "apins.constructors",
    "board_temp": "apins.constructors",
    "board_s3": "apins.constructors",
    "board_azure": "apins.constructors",
    "board_gcs": "apins.constructors",
    "board_url": "apins.url",
    "board_connect": "apins.connect",
    "mirror": "apins._mirror",
    "MirrorReport": "apins._mirror",
    "MirrorFailed": "apins._mirror",
    "Meta": "apins.meta",
    "MetaV0": "apins.meta",
    "VersionInfo": "apins.versions",
    "Cache": "apins.cache",
    "cache_info": "apins.cache",
    "cache_prune": "apins.cache",
    "TransferSettings": "apins.settings",
    "ProgressEvent": "apins.stores.base",
}

# typing.TYPE_CHECKING without importing typing (type checkers read this name as True)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._mirror import MirrorFailed, MirrorReport, mirror
    from .board import Board
    from .cache import Cache, cache_info, cache_prune
    from .connect import board_connect
    from .constructors import (
        board_azure,
        board_folder,
        board_gcs,
        board_local,
        board_s3,
        board_temp,
    )
    from .meta import Meta, MetaV0
    from .settings import TransferSettings
    from .stores.base import ProgressEvent
    from .url import board_url
    from .versions import VersionInfo


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'apins' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Board",
    "BoardNotFound",
    "Cache",
    "ConnectError",
    "HashMismatch",
    "InvalidArgument",
    "InvalidMetadata",
    "InvalidPinName",
    "Meta",
    "MetaV0",
    "MirrorFailed",
    "MirrorReport",
    "ObjectChanged",
    "OfflineError",
    "PickleNotAllowed",
    "PinNotFound",
    "PinsError",
    "ProgressEvent",
    "ReadOnlyBoard",
    "StoreAccessError",
    "TransferError",
    "TransferSettings",
    "UnsupportedType",
    "VersionConflict",
    "VersionInfo",
    "VersionNotFound",
    "board_azure",
    "board_connect",
    "board_folder",
    "board_gcs",
    "board_local",
    "board_s3",
    "board_temp",
    "board_url",
    "cache_info",
    "cache_prune",
    "mirror",
]
