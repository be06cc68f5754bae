"""The apins error hierarchy: every error a user can act on derives from PinsError."""

from __future__ import annotations


class PinsError(Exception):
    """Base class of every apins error."""


class InvalidPinName(PinsError, ValueError):
    """A pin name that boards cannot store (slash, reserved name, not a string...)."""


class PinNotFound(PinsError, KeyError):
    """The board has no pin of that name."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "pin not found"


class VersionNotFound(PinsError, KeyError):
    """The pin exists but has no such version."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "version not found"


class VersionConflict(PinsError):
    """A write would break the pin's versioning rules (e.g. unversioned on a versioned pin)."""


class HashMismatch(PinsError):
    """A file's content does not match the hash recorded for it; nothing was cached or returned."""


class PickleNotAllowed(PinsError):
    """Reading a pickle-based pin (joblib, pickle) needs explicit consent."""


class UnsupportedType(PinsError, NotImplementedError):
    """A pin type apins cannot read or write (e.g. qs), or an object a type cannot hold."""


class InvalidMetadata(PinsError, ValueError):
    """A data.txt or _pins.yaml that cannot be trusted (unparsable, wrong types, escaping paths)."""


class ReadOnlyBoard(PinsError):
    """A write was attempted on a read-only board (e.g. a URL board)."""


class TransferError(PinsError):
    """Moving bytes failed after every retry (network, server error, interrupted transfer)."""


class ObjectChanged(TransferError):
    """The remote object changed during a transfer (its ETag no longer matches)."""


class StoreAccessError(PinsError):
    """The store refused the request: bad credentials or missing permission."""


class BoardNotFound(PinsError):
    """The board does not exist (e.g. a folder board whose path is missing or is a file)."""


class InvalidArgument(PinsError, ValueError, TypeError):
    """An argument apins cannot use (wrong value or type); also a ValueError and a TypeError,
    so handlers written for either keep working."""


class OfflineError(PinsError):
    """The store could not be reached and the cache holds nothing usable."""


class ConnectError(PinsError):
    """An error answered by a Posit Connect server; keeps its code and message."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


__all__ = [
    "BoardNotFound",
    "ConnectError",
    "HashMismatch",
    "InvalidArgument",
    "InvalidMetadata",
    "InvalidPinName",
    "ObjectChanged",
    "OfflineError",
    "PickleNotAllowed",
    "PinNotFound",
    "PinsError",
    "ReadOnlyBoard",
    "StoreAccessError",
    "TransferError",
    "UnsupportedType",
    "VersionConflict",
    "VersionNotFound",
]
