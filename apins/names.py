"""Pin name rules (spec §4): what a name may be on a path-based board."""

from __future__ import annotations

from typing import Any

from .errors import InvalidPinName

RESERVED_NAMES = frozenset({"_pins.yaml"})
#: the longest file or folder name most file systems (and object-store tools) accept, in bytes
MAX_NAME_BYTES = 255


def _short(name: str) -> str:
    return repr(name) if len(name) <= 40 else repr(name[:37] + "...")


def check_data_file_name(pin: str, filename: str) -> str:
    """A pin's data file name (``<name>.<ext>``) must fit in a file name: 255 bytes."""
    size = len(filename.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        room = MAX_NAME_BYTES - (size - len(pin.encode("utf-8")))
        raise InvalidPinName(
            f"The pin name {_short(pin)} is too long: its data file {_short(filename)} would be "
            f"{size} bytes, over the {MAX_NAME_BYTES}-byte limit on file names. Use a name of "
            f"at most {room} bytes."
        )
    return filename


def validate_pin_name(name: Any) -> str:
    """Return ``name`` if a board can store it, else raise InvalidPinName saying why.

    A name is a non-empty string without ``/`` or ``\\`` (both pins refuse slashes; R also refuses
    backslashes), without control characters, not ``.``/``..``, not hidden (a leading ``.`` is
    invisible to R's listing) and not the reserved ``_pins.yaml``.
    """
    if not isinstance(name, str):
        raise InvalidPinName(f"A pin name must be a string, not {type(name).__name__}: {name!r}")
    if not name:
        raise InvalidPinName("A pin name must not be empty.")
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise InvalidPinName(
            f"The pin name {_short(name)} is {size} bytes long; pin names are limited to "
            f"{MAX_NAME_BYTES} bytes (the file-name limit of most file systems)."
        )
    for ch in ("/", "\\"):
        if ch in name:
            raise InvalidPinName(
                f"Invalid pin name {name!r}: it contains the character {ch!r}. "
                "Pin names must not contain slashes; use e.g. '-' or '_' instead."
            )
    for ch in name:
        if ord(ch) < 32 or ord(ch) == 127:
            raise InvalidPinName(
                f"Invalid pin name {name!r}: it contains the control character {ch!r}."
            )
    if name in RESERVED_NAMES:
        raise InvalidPinName(f"The pin name {name!r} is reserved for the board manifest.")
    if name.startswith("."):
        raise InvalidPinName(
            f"Invalid pin name {name!r}: it starts with the character '.', which hides it "
            "from board listings."
        )
    return name
