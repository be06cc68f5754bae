"""Posit Connect boards: :func:`board_connect`, and the legacy :func:`pin_read` call.

import apins
async with apins.board_connect("https://connect.example.com", api_key) as board:
    await board.pin_write(table, "alice/sales", type="parquet")
"""

from __future__ import annotations

from .board import ConnectBoard, board_connect
from .errors import (
    ConnectActiveBundle,
    ConnectAuthError,
    ConnectNameTaken,
    ConnectNotFound,
    ConnectPermissionError,
    ConnectTaskFailed,
)
from .legacy import pin_get_rsconnect, pin_read, pin_rsconnect

__all__ = [
    "ConnectActiveBundle",
    "ConnectAuthError",
    "ConnectBoard",
    "ConnectNameTaken",
    "ConnectNotFound",
    "ConnectPermissionError",
    "ConnectTaskFailed",
    "board_connect",
    "pin_get_rsconnect",
    "pin_read",
    "pin_rsconnect",
]
