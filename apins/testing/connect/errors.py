"""Connect-style API errors: ``{"code": int, "error": str, "payload": null}`` plus an HTTP status.

Codes and texts follow Connect's published error-code table where it is known (4, 17 and 163
are recorded in tests/fixtures/connect; 3, 19, 26 and 75 are the codes pins clients check).
The 401 body was never recorded; code 30 is the table's "requires authentication" entry.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered as Connect's JSON error body with ``status``."""

    def __init__(self, status: int, code: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.code = code
        self.error = error

    def body(self) -> dict[str, Any]:
        """The JSON body Connect sends for this error."""
        return {"code": self.code, "error": self.error, "payload": None}


def internal() -> ApiError:
    """500, code 1: an internal failure."""
    return ApiError(500, 1, "An internal failure occurred.")


def invalid_id(value: str) -> ApiError:
    """400, code 3: a path id that is not a GUID / number. The text names the bad value."""
    return ApiError(400, 3, f"The requested object ID is invalid: '{value}'.")


def not_found() -> ApiError:
    """404, code 4: the object does not exist (what pins-python treats as a missing bundle)."""
    return ApiError(404, 4, "The requested object does not exist.")


def bad_name() -> ApiError:
    """400, code 5: a content name outside 3-64 characters of [A-Za-z0-9_-]."""
    return ApiError(
        400,
        5,
        "The content name must be between 3 and 64 alphanumeric characters, dashes, "
        "and underscores.",
    )


def bad_request(message: str) -> ApiError:
    """400, code 12: a missing or malformed request parameter or body field."""
    return ApiError(400, 12, message)


def bad_filter(message: str) -> ApiError:
    """400, code 11: a v0 ``filter`` the server cannot apply."""
    return ApiError(400, 11, message)


def remove_missing() -> ApiError:
    """404, code 17: deleting something that does not exist (recorded body)."""
    return ApiError(404, 17, "The requested item could not be removed because it does not exist.")


def no_access() -> ApiError:
    """403, code 19: the caller may not see this item."""
    return ApiError(403, 19, "You do not have permission to access this item.")


def no_permission() -> ApiError:
    """403, code 22: the caller may see the item but not do this operation on it."""
    return ApiError(403, 22, "You do not have permission to perform this operation.")


def name_taken() -> ApiError:
    """409, code 26: the owner already has content with this name."""
    return ApiError(409, 26, "An object with that name already exists.")


def unauthenticated() -> ApiError:
    """401, code 30: no key, a malformed Authorization header or an unknown key."""
    return ApiError(401, 30, "The requested operation requires authentication.")


def active_bundle() -> ApiError:
    """400, code 75: the active bundle of a content item cannot be deleted."""
    return ApiError(400, 75, "The active bundle of a content item cannot be deleted.")
