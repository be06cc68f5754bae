"""The ``csv`` type: a header row, no index, strings quoted, missing values as ``NA``.

Written with ``pyarrow.csv`` and read back by it, by ``pd.read_csv`` (pins-python) and by R's
``read.csv`` (pins-R). Missing values are written as an unquoted ``NA``, the token R's
``write.csv`` emits: all three readers take it as missing in numeric *and* string columns,
whereas an empty field would come back as ``""`` in an R character column. Real strings are
always quoted (so the string ``"NA"`` stays a string for pyarrow), numbers never are;
timestamps are ISO 8601 (``2024-01-02 03:04:05.000000``, ``Z`` suffix when UTC-aware).

Reading treats unquoted ``NA`` and empty fields (pins-python's ``to_csv``) as null in every
column, quoted strings never.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._base import BinarySink, Format, Output, pick_file
from ._tables import convert_table, is_table, not_a_table, to_arrow_table

NULL_TOKEN = "NA"


def write_csv(obj: Any, out: BinarySink) -> None:
    """Write a table object as CSV."""
    import pyarrow.csv as pcsv

    if not is_table(obj):
        raise not_a_table(obj, "csv")
    table = to_arrow_table(obj, "csv")
    options = pcsv.WriteOptions(include_header=True, null_string=NULL_TOKEN)
    pcsv.write_csv(table, out, write_options=options)


def read_csv_path(path: Path) -> Any:
    """Read one CSV file into a ``pyarrow.Table``."""
    import pyarrow.csv as pcsv

    convert = pcsv.ConvertOptions(strings_can_be_null=True, quoted_strings_can_be_null=False)
    return pcsv.read_csv(str(path), convert_options=convert)


def read_csv(paths: Sequence[Path], output: Output | None) -> Any:
    """Read the version's CSV file as a table."""
    return convert_table(read_csv_path(pick_file(paths, "csv", "csv")), output)


CSV = Format("csv", "csv", write_csv, read_csv)
