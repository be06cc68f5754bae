"""Connect's error answers mapped to apins errors that keep the server's message.

Connect answers errors as ``{"code": int, "error": str, "payload": ...}`` (sometimes with a
2xx status) and unknown routes or files as a plain-text 404. :func:`error_from_response` turns
either into a :class:`~apins.errors.ConnectError` subclass; the backend then rephrases
"not found" as PinNotFound / VersionNotFound where it knows what was looked for.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import ConnectError, StoreAccessError, VersionConflict

#: Connect error codes pins clients act on
CODE_INVALID_ID = 3
CODE_NOT_FOUND = 4
CODE_NO_ACCESS = 19
CODE_NO_PERMISSION = 22
CODE_NAME_TAKEN = 26
CODE_UNAUTHENTICATED = 30
CODE_ACTIVE_BUNDLE = 75


class ConnectNotFound(ConnectError):
    """The server has no such object or route (HTTP 404 or code 4)."""


class ConnectAuthError(ConnectError, StoreAccessError):
    """The API key was refused (HTTP 401/403 without a more precise code)."""


class ConnectPermissionError(ConnectError, StoreAccessError):
    """The user may not see or change this content (code 19 / 22, HTTP 403)."""


class ConnectNameTaken(ConnectError):
    """Content with this name already exists (HTTP 409 / code 26)."""


class ConnectActiveBundle(ConnectError, VersionConflict):
    """The active bundle (the pin's current version) cannot be deleted (code 75)."""


class ConnectTaskFailed(ConnectError):
    """A deploy task finished with a non-zero code."""


def _scrub(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, "***")
    return text


def parse_error_body(text: str) -> tuple[int | None, str | None]:
    """``(code, error)`` of a Connect JSON error body, or ``(None, None)``."""
    try:
        doc: Any = json.loads(text)
    except ValueError:
        return None, None
    if not isinstance(doc, dict):
        return None, None
    code = doc.get("code")
    err = doc.get("error")
    return (
        code if isinstance(code, int) and not isinstance(code, bool) else None,
        err if isinstance(err, str) else None,
    )


def error_from_response(
    status: int, text: str, *, what: str, secret: str | None = None, keyed: bool = True
) -> ConnectError:
    """The apins error for a failed Connect answer; ``what`` names the request (no secrets).

    The server's own message is kept; ``secret`` (the API key) is removed from it should the
    server ever echo it.
    """
    code, message = parse_error_body(text)
    if message is None:
        body = text.strip()
        message = body[:300] if body else f"HTTP {status}"
    message = _scrub(message, secret)
    detail = f"{what}: Posit Connect answered HTTP {status}"
    detail += f" (code {code}): {message}" if code is not None else f": {message}"
    if code == CODE_ACTIVE_BUNDLE:
        return ConnectActiveBundle(detail, status=status, code=code)
    if code == CODE_NAME_TAKEN or status == 409:
        return ConnectNameTaken(detail, status=status, code=code)
    if code in (CODE_NO_ACCESS, CODE_NO_PERMISSION):
        return ConnectPermissionError(detail, status=status, code=code)
    if status == 401 or code == CODE_UNAUTHENTICATED:
        hint = (
            "Check the API key (argument api_key or CONNECT_API_KEY)."
            if keyed
            else "No API key is set: set CONNECT_API_KEY or pass the api_key argument."
        )
        return ConnectAuthError(
            f"{detail.rstrip('.')}. {hint}",
            status=status,
            code=code,
        )
    if status == 403:
        return ConnectPermissionError(detail, status=status, code=code)
    if status == 404 or code == CODE_NOT_FOUND:
        return ConnectNotFound(detail, status=status, code=code)
    return ConnectError(detail, status=status, code=code)
