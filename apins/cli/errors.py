"""Exit codes and the one-line error messages of the ``apins`` command."""

from __future__ import annotations

from .._redact import redact_text
from ..errors import BoardNotFound, InvalidPinName, PinNotFound, VersionNotFound
from ..stores.base import ObjectNotFound

OK = 0
FAILED = 1
USAGE = 2
NOT_FOUND = 3


class UsageError(Exception):
    """A command line that cannot be run (bad board URL, conflicting options): exit 2."""


def exit_code(exc: BaseException) -> int:
    """2 for usage errors, 3 for a missing board/pin/version/object, 1 for anything else."""
    if isinstance(exc, UsageError | InvalidPinName):
        return USAGE
    if isinstance(exc, PinNotFound | VersionNotFound | ObjectNotFound | BoardNotFound):
        return NOT_FOUND
    return FAILED


def one_line(exc: BaseException) -> str:
    """``apins: error: <message>`` on a single line (no traceback, no secrets added)."""
    text = str(exc).strip() or type(exc).__name__
    if not isinstance(exc, UsageError) and type(exc).__module__.split(".")[0] != "apins":
        text = f"{type(exc).__name__}: {text}"
    return "apins: error: " + redact_text(" ".join(text.split()))
