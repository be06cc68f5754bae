"""An emulator of the part of the Posit Connect API that pins use (see README.md here).

``async with ConnectEmulator(root=path, users={"alice": "key-a"}) as server: server.url``
or, for sync clients such as pins-python, ``with run_in_thread(root=..., users=...) as server``.
"""

from __future__ import annotations

from .core import UserSpec
from .counter import RequestCounter
from .server import ConnectEmulator, run_in_thread

__all__ = ["ConnectEmulator", "RequestCounter", "UserSpec", "run_in_thread"]
