"""The ``json`` type: plain Python data via :mod:`json`; tables as an array of row records.

Tables are written the way R's ``write_json(data.frame)`` and pins-python's
``to_json(orient="records")`` write them: ``[{"col": value, ...}, ...]``, with missing values
and NaN as ``null`` and dates/times as ISO 8601 strings. Plain data must be JSON-native
(dict with str keys, list, tuple, str, int, float, bool, None); NaN and infinities are refused
because they are not valid JSON and R cannot read them.

Reading returns ``json.load``'s plain data (never a DataFrame, as pins-python), unless an
``output`` is asked for: then a list of records (or a dict of columns) becomes a table.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UnsupportedType
from ._base import BinarySink, Format, Output, pick_file
from ._tables import convert_table, is_table, to_arrow_table

_CHUNK = 64 * 1024


def _table_value(value: Any) -> Any:
    """A JSON-ready form of one cell of a table row."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return {str(k): _table_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_table_value(v) for v in value]
    return value


def table_records(obj: Any) -> list[dict[str, Any]]:
    """The rows of a table object as JSON-ready dicts."""
    table = to_arrow_table(obj, "json")
    return [{k: _table_value(v) for k, v in row.items()} for row in table.to_pylist()]


def write_json(obj: Any, out: BinarySink) -> None:
    """Write plain data, or a table as row records, as UTF-8 JSON."""
    data = table_records(obj) if is_table(obj) else obj
    encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    try:
        text = encoder.encode(data)
    except (TypeError, ValueError) as exc:
        raise UnsupportedType(
            f"a {type(obj).__qualname__} cannot be stored as type 'json': {exc}. json holds "
            "dicts, lists, strings, finite numbers, booleans and None (or a data frame); "
            "use 'joblib' or 'pickle' for other Python objects."
        ) from exc
    payload = text.encode("utf-8")
    for start in range(0, len(payload), _CHUNK):
        out.write(payload[start : start + _CHUNK])


def json_to_table(data: Any) -> Any:
    """A list of row records or a dict of columns as a ``pyarrow.Table``."""
    import pyarrow as pa

    if isinstance(data, list) and all(isinstance(row, dict) for row in data):
        return pa.Table.from_pylist(data)
    if isinstance(data, dict) and all(isinstance(col, list) for col in data.values()):
        return pa.table(data)
    raise UnsupportedType(
        f"this json pin holds a {type(data).__qualname__}, not a list of records or a dict "
        "of columns, so it cannot be read as a data frame; read it with output=None"
    )


def read_json(paths: Sequence[Path], output: Output | None) -> Any:
    """Load the JSON file; convert records to a table only when ``output`` is given."""
    with pick_file(paths, "json", "json").open("rb") as f:
        data = json.load(f)
    if output is None:
        return data
    return convert_table(json_to_table(data), output)


JSON = Format("json", "json", write_json, read_json)
