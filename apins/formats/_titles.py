"""Default pin titles, in R's wording."""

from __future__ import annotations

from typing import Any

from ._tables import is_table, table_shape


def default_title(name: str, obj: Any, type: str) -> str:
    """``"<name>: a pinned <rows> x <cols> data frame"`` for tables (as R pins writes it),
    ``"<name>: a pinned <type name> object"`` otherwise (e.g. ``dict``, ``list``).

    For an object exposing only ``__arrow_c_stream__`` the shape is found by reading the
    stream, so a single-use stream should be converted with ``to_arrow_table`` first.
    ``type`` is accepted for symmetry with the writer; titles do not depend on it today.
    """
    if is_table(obj):
        rows, cols = table_shape(obj)
        return f"{name}: a pinned {rows} x {cols} data frame"
    return f"{name}: a pinned {type_name(obj)} object"


def type_name(obj: Any) -> str:
    """A short, friendly name for the object's type."""
    return type(obj).__qualname__
