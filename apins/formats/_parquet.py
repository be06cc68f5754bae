"""The ``parquet`` type: ``pyarrow.parquet`` with default options (what pandas' ``to_parquet``
writes, readable by ``pd.read_parquet``, R's nanoparquet and arrow)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._base import BinarySink, Format, Output, pick_file
from ._tables import convert_table, is_table, not_a_table, to_arrow_table


def write_parquet(obj: Any, out: BinarySink) -> None:
    """Write a table object as one Parquet file."""
    import pyarrow.parquet as pq

    if not is_table(obj):
        raise not_a_table(obj, "parquet")
    pq.write_table(to_arrow_table(obj, "parquet"), out)


def read_parquet(paths: Sequence[Path], output: Output | None) -> Any:
    """Read the version's Parquet file as a table."""
    import pyarrow.parquet as pq

    # one file: ParquetFile skips read_table's dataset discovery (about 1 ms per read, most
    # of the time of a small pin); the table is the same
    with pq.ParquetFile(str(pick_file(paths, "parquet", "parquet"))) as f:
        table = f.read()
    return convert_table(table, output)


PARQUET = Format("parquet", "parquet", write_parquet, read_parquet)
