"""The one path-safety rule for names that come from outside apins.

A data.txt ``file`` entry, a ``_pins.yaml`` entry, a Connect bundle member or ``_rev`` name,
a key listed by a store: each is checked here, before any request is sent or any file is
touched. A name passes only if every form a server or file system might see it in (after
percent-decoding, repeated until nothing changes, and Unicode compatibility normalisation)
is a plain relative path of non-empty segments other than ``.`` and ``..``.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

from .errors import InvalidMetadata

__all__ = ["safe_relative"]

#: ``C:`` (a drive) or ``scheme:`` at the start: either would make the name absolute
_SCHEME_OR_DRIVE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_FORBIDDEN = frozenset("\\?#")
#: segments of letters, digits, '_', '-' and '.', none starting with '.': nothing to decode
#: or normalise, no scheme, drive, '.' or '..' segment. Such names (nearly all) pass at once.
_PLAIN = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_\-][A-Za-z0-9_.\-]*)*")
_MAX_DECODE_ROUNDS = 16


def _decoded_forms(name: str, what: str) -> list[str]:
    """``name`` and every stage of percent-decoding it, until stable."""
    forms = [name]
    current = name
    for _ in range(_MAX_DECODE_ROUNDS):
        try:
            nxt = unquote(current, errors="strict")
        except UnicodeDecodeError:
            raise _refuse(name, what, "its percent-escapes do not decode as UTF-8") from None
        if nxt == current:
            return forms
        forms.append(nxt)
        current = nxt
    raise _refuse(name, what, "it is percent-encoded too many times over")


def _refuse(name: str, what: str, why: str) -> InvalidMetadata:
    shown = ascii(name)
    if len(shown) > 200:
        shown = shown[:200] + "...'"
    return InvalidMetadata(
        f"{what} names {shown}, a path that could lead outside its folder ({why}); "
        "refused before anything was read or written."
    )


def _problem(form: str) -> str | None:
    """Why ``form`` is unsafe, or None."""
    if any(c in _FORBIDDEN for c in form):
        return "it contains a backslash, '?' or '#'"
    if any(unicodedata.category(c) == "Cc" for c in form):
        return "it contains NUL or another control character"
    if form.startswith("/"):
        return "it is absolute"
    if _SCHEME_OR_DRIVE.match(form):
        return "it starts with a drive letter or URL scheme"
    for seg in form.split("/"):
        if seg == "":
            return "it has an empty segment"
        if seg in (".", ".."):
            return f"it has a {seg!r} segment"
    return None


def safe_relative(name: str, *, what: str) -> str:
    """``name`` as a key relative to its folder, or :class:`InvalidMetadata` naming ``what``.

    Refused: anything that after percent-decoding (repeated until stable) and Unicode NFKC
    normalisation is empty or absolute, has a ``..``, ``.`` or empty segment, a backslash, a
    drive letter or URL scheme, NUL or another control character, ``?`` or ``#``. A name that
    passes is returned unchanged.
    """
    if not isinstance(name, str):
        raise InvalidMetadata(f"{what} must be text, not {type(name).__name__} {name!r:.100}.")
    if not name:
        raise _refuse(name, what, "it is empty")
    if _PLAIN.fullmatch(name):
        return name
    for form in _decoded_forms(name, what):
        for variant in {form, unicodedata.normalize("NFKC", form)}:
            why = _problem(variant)
            if why is not None:
                raise _refuse(name, what, why)
    return name
