"""pins-python's public API on apins: change ``import pins`` to
``from apins import compat as pins`` and a pins-python 0.9.2 script keeps working.

The constructors take pins-python's arguments (``board_s3(path, key=..., secret=...)``), the
verbs return what pins-python returns (pandas DataFrames for tables, ``pin_versions`` and
``pin_search`` as DataFrames, ``Meta`` with a ``Version`` object) and print the same messages,
while apins does the work underneath. ``board.apins_board`` is the apins board itself.
"""

from __future__ import annotations

from ..errors import PinsError
from . import errors
from ._board import Board
from ._constructors import (
    DEFAULT,
    board,
    board_azure,
    board_connect,
    board_deparse,
    board_folder,
    board_gcs,
    board_local,
    board_rsconnect,
    board_s3,
    board_temp,
    board_url,
    cache_info,
    cache_prune,
)
from ._meta import Meta, MetaV0, Version, VersionRaw

__all__ = [
    "DEFAULT",
    "Board",
    "Meta",
    "MetaV0",
    "PinsError",
    "Version",
    "VersionRaw",
    "board",
    "board_azure",
    "board_connect",
    "board_deparse",
    "board_folder",
    "board_gcs",
    "board_local",
    "board_rsconnect",
    "board_s3",
    "board_temp",
    "board_url",
    "cache_info",
    "cache_prune",
    "errors",
]
