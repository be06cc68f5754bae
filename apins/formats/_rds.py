"""The ``rds`` type, read-only: R's ``saveRDS`` files through the optional ``rdata`` package.

A data frame becomes a ``pyarrow.Table`` (via rdata's pandas frame). R's automatic row names
(1..n) are dropped; character row names (e.g. ``mtcars``' car names) are kept as a leading
``rownames`` column. A vector becomes a Python list; anything else is returned as rdata
converts it. apins does not write rds: R objects cannot be produced faithfully from Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UnsupportedType
from ._base import BinarySink, Format, Output, pick_file
from ._deps import require
from ._tables import convert_table, to_arrow_table


def write_rds(obj: Any, out: BinarySink) -> None:
    """Always refuses: R's rds is read-only in apins."""
    raise UnsupportedType(
        "R's rds format is read-only in apins: write with type 'parquet', 'arrow' or 'csv' "
        "for data frames (R pins reads them), or 'json' for plain data"
    )


def rds_to_python(obj: Any, output: Output | None) -> Any:
    """Map rdata's conversion result to apins' read results."""
    module = type(obj).__module__.partition(".")[0]
    if module == "pandas" and type(obj).__name__ == "DataFrame":
        index = obj.index
        if index.dtype.kind in "iu" or index.name is not None:
            frame = obj
        else:
            frame = obj.rename_axis("rownames")
        return convert_table(to_arrow_table(frame, "rds"), output)
    if module == "numpy" and hasattr(obj, "tolist"):
        return obj.tolist()
    return obj


def read_rds_path(path: Path, output: Output | None) -> Any:
    """Read one rds file."""
    rdata = require("rdata", "type 'rds'")
    return rds_to_python(rdata.read_rds(str(path)), output)


def read_rds(paths: Sequence[Path], output: Output | None) -> Any:
    """Read the version's rds file."""
    return read_rds_path(pick_file(paths, "rds", "rds"), output)


RDS = Format("rds", "rds", write_rds, read_rds, can_write=False)
