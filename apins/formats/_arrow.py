"""The ``arrow`` type: the Arrow IPC *file* format (Feather V2, magic ``ARROW1``).

This is what R's ``arrow::write_feather`` and pandas' ``to_feather`` produce; writing uses
``pyarrow.feather.write_feather`` with its defaults, as pins-python does. ``feather`` is an
alias kept for pins-python's sake (see :func:`apins.formats.get_format`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._base import BinarySink, Format, Output, pick_file
from ._tables import convert_table, is_table, not_a_table, to_arrow_table


def write_arrow(obj: Any, out: BinarySink) -> None:
    """Write a table object as a Feather V2 (Arrow IPC file) file."""
    import pyarrow.feather as feather

    if not is_table(obj):
        raise not_a_table(obj, "arrow")
    feather.write_feather(to_arrow_table(obj, "arrow"), out)


def read_arrow(paths: Sequence[Path], output: Output | None) -> Any:
    """Read the version's Feather V2 file as a table (read into memory, not memory-mapped)."""
    import pyarrow.feather as feather

    table = feather.read_table(str(pick_file(paths, "arrow", "arrow")), memory_map=False)
    return convert_table(table, output)


ARROW = Format("arrow", "arrow", write_arrow, read_arrow)
