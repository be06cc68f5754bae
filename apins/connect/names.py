"""Connect pin names (spec §4): ``owner/name`` with a 3–64 character ``[A-Za-z0-9_-]`` name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidPinName

_NAME = re.compile(r"^[A-Za-z0-9_-]{3,64}$")


@dataclass(frozen=True, slots=True)
class PinName:
    """A parsed Connect pin name; ``owner`` is None for a bare name (the current user's pin)."""

    owner: str | None
    name: str

    def full(self, default_owner: str) -> str:
        """``owner/name``, using ``default_owner`` for a bare name."""
        return f"{self.owner or default_owner}/{self.name}"


def check_content_name(name: Any) -> str:
    """Return ``name`` if Connect accepts it as a content name, else raise InvalidPinName."""
    if not isinstance(name, str):
        raise InvalidPinName(f"A pin name must be a string, not {type(name).__name__}: {name!r}")
    if not _NAME.match(name):
        raise InvalidPinName(
            f"Invalid Connect pin name {name!r}: Posit Connect needs 3 to 64 characters, "
            "each a letter, digit, '-' or '_'."
        )
    return name


def parse_pin_name(full: Any) -> PinName:
    """Split ``"owner/name"`` (or a bare ``"name"``) and check both parts."""
    if not isinstance(full, str):
        raise InvalidPinName(f"A pin name must be a string, not {type(full).__name__}: {full!r}")
    parts = full.split("/")
    if len(parts) == 1:
        return PinName(None, check_content_name(parts[0]))
    if len(parts) != 2 or not parts[0]:
        raise InvalidPinName(
            f"Invalid Connect pin name {full!r}: use 'owner/name' (one slash) or a bare 'name'."
        )
    owner, name = parts
    if any(ch.isspace() or ord(ch) < 32 for ch in owner):
        raise InvalidPinName(f"Invalid owner {owner!r} in the pin name {full!r}.")
    return PinName(owner, check_content_name(name))
