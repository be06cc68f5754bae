"""pins-python's error names (``pins.errors``) as apins's errors."""

from __future__ import annotations

from ..errors import PickleNotAllowed, PinsError, VersionConflict

#: an error about versions (pins-python's name for apins's VersionConflict)
PinsVersionError = VersionConflict
#: reading a pickle without consent (pins-python's name for apins's PickleNotAllowed)
PinsInsecureReadError = PickleNotAllowed

__all__ = ["PinsError", "PinsInsecureReadError", "PinsVersionError"]
