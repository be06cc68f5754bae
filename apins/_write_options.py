"""Per-call write options that only some backends understand, passed down without widening the
Backend protocol: the Board sets them around one write, the backend reads them.
"""

from __future__ import annotations

from contextvars import ContextVar

#: Connect's access_type for the pin being written (None: new pins get "acl", existing keep theirs)
ACCESS_TYPES = ("acl", "logged_in", "all")
write_access_type: ContextVar[str | None] = ContextVar("write_access_type", default=None)
