"""Content written by the first Python pins package (0.1.x): static "pin" content whose
data.txt holds the pinned data as JSON (``data.to_json()``), not pin metadata.

Connect boards leave it out of listings with one warning, and a call naming it raises an
error that says what it is and how to read it (:func:`apins.connect.pin_get_rsconnect`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from ..errors import InvalidMetadata
from ..meta import parse_meta

log = logging.getLogger("apins.connect")

#: the first bytes of data.txt looked at to tell such content from a pin: pin metadata is
#: far smaller, so a data.txt longer than this that starts as JSON is data
HEAD_LIMIT = 64 * 1024

_WHAT = (
    "content written by the first Python pins package (its data.txt is JSON data, not pin "
    "metadata); read it with apins.connect.pin_get_rsconnect(content_url, api_key)"
)


def is_legacy(head: bytes) -> bool:
    """True when ``head`` (data.txt, or its first ``HEAD_LIMIT``+ bytes) is such JSON data."""
    if head.lstrip()[:1] not in (b"{", b"["):
        return False
    if len(head) > HEAD_LIMIT:
        return True
    try:
        parse_meta(head)
    except InvalidMetadata:
        return True
    return False  # JSON is YAML: pin metadata written as JSON is still a pin


def legacy_error(full: str) -> InvalidMetadata:
    """The error for a call that names legacy content ``full`` (owner/name)."""
    return InvalidMetadata(f"{full} is not a pin but {_WHAT}.")


def warn_skipped(names: Iterable[str], where: str) -> None:
    """One warning naming every legacy item a listing (``where``) left out."""
    skipped = sorted(names)
    if skipped:
        log.warning("Skipping %s in the %s: %s.", ", ".join(skipped), where, _WHAT)
