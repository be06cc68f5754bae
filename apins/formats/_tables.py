"""Recognising data frames and moving them in and out of ``pyarrow.Table``.

pyarrow is the table core: every table type writes from a ``pyarrow.Table`` and reads into one,
converting to pandas or polars only when asked. Nothing here imports pandas or polars to
*recognise* their frames (the class's module name is enough).

pandas index rule: a DataFrame's index is dropped (like ``to_csv(index=False)``) unless one of
its levels has a name, in which case the named levels become ordinary leading columns (and
pandas metadata lets ``pd.read_parquet``/``pd.read_feather`` restore them as the index).
An unnamed index, even a non-default one left by filtering, carries no meaning R or polars
could use and would surface as a ``__index_level_0__`` column, so it is not stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import UnsupportedType
from ._base import Output
from ._deps import require

if TYPE_CHECKING:
    import pyarrow as pa

_ARROW_CLASSES = {"Table", "RecordBatch", "RecordBatchReader"}


def _module_root(obj: Any) -> str:
    return type(obj).__module__.partition(".")[0]


def _is_pandas_frame(obj: Any) -> bool:
    return _module_root(obj) == "pandas" and type(obj).__name__ == "DataFrame"


def _is_polars_frame(obj: Any) -> bool:
    return _module_root(obj) == "polars" and type(obj).__name__ in {"DataFrame", "LazyFrame"}


def is_table(obj: Any) -> bool:
    """True for a pyarrow Table/RecordBatch, a pandas or polars DataFrame, or any other
    object exposing ``__arrow_c_stream__`` (not a pandas/polars Series); imports nothing."""
    if isinstance(obj, type):
        return False
    if _module_root(obj) == "pyarrow" and type(obj).__name__ in _ARROW_CLASSES:
        return True
    if _module_root(obj) in {"pandas", "polars"}:  # their Series also speak the C stream
        return _is_pandas_frame(obj) or _is_polars_frame(obj)
    return hasattr(obj, "__arrow_c_stream__")


def not_a_table(obj: Any, type_: str) -> UnsupportedType:
    """The error for a non-table object given to a table type."""
    return UnsupportedType(
        f"a {type(obj).__qualname__} cannot be stored as type {type_!r}: {type_} holds data "
        "frames (pyarrow Table, pandas or polars DataFrame, or an object with "
        "__arrow_c_stream__). Use type 'json' for plain data, or 'joblib'/'pickle' for "
        "arbitrary Python objects."
    )


def to_arrow_table(obj: Any, type_: str = "table") -> pa.Table:
    """Convert any supported table object to a ``pyarrow.Table`` (see the module docstring
    for the pandas index rule); view string types become large strings for portability.

    Raises :class:`UnsupportedType` for objects that are not tables.
    """
    import pyarrow as pa

    if isinstance(obj, pa.Table):
        table = obj
    elif isinstance(obj, pa.RecordBatch):
        table = pa.Table.from_batches([obj])
    elif isinstance(obj, pa.RecordBatchReader):
        table = obj.read_all()
    elif _is_pandas_frame(obj):
        named = any(name is not None for name in obj.index.names)
        table = pa.Table.from_pandas(obj, preserve_index=named)
    elif _is_polars_frame(obj):
        frame = obj.collect() if type(obj).__name__ == "LazyFrame" else obj
        table = frame.to_arrow()
    elif hasattr(obj, "__arrow_c_stream__") and not isinstance(obj, type):
        table = pa.RecordBatchReader.from_stream(obj).read_all()
    else:
        raise not_a_table(obj, type_)
    return _without_views(table)


def _without_views(table: pa.Table) -> pa.Table:
    """Cast top-level string_view/binary_view columns (polars' C stream) to large types,
    which older readers (R arrow, the CSV writer) understand."""
    import pyarrow as pa

    fields = []
    changed = False
    for field in table.schema:
        if pa.types.is_string_view(field.type):
            fields.append(field.with_type(pa.large_string()))
            changed = True
        elif pa.types.is_binary_view(field.type):
            fields.append(field.with_type(pa.large_binary()))
            changed = True
        else:
            fields.append(field)
    if not changed:
        return table
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def table_shape(obj: Any) -> tuple[int, int]:
    """(rows, columns) of a table object, without converting frames that know their shape."""
    shape = getattr(obj, "shape", None)
    if (_is_pandas_frame(obj) or _is_polars_frame(obj)) and shape is not None:
        return int(shape[0]), int(shape[1])
    if _module_root(obj) == "pyarrow" and type(obj).__name__ in {"Table", "RecordBatch"}:
        return int(obj.num_rows), int(obj.num_columns)
    table = to_arrow_table(obj)
    return table.num_rows, table.num_columns


def convert_table(table: pa.Table, output: Output | None) -> Any:
    """Return ``table`` as asked: a pyarrow Table (None/"arrow"), pandas or polars DataFrame."""
    if output is None or output == "arrow":
        return table
    if output == "pandas":
        require("pandas", "output='pandas'")
        # the table is ours and dropped at once: columns are freed as they are converted
        # and not consolidated into 2-D blocks (less copying and a lower peak)
        return table.to_pandas(split_blocks=True, self_destruct=True)
    if output == "polars":
        pl = require("polars", "output='polars'")
        return pl.from_arrow(table)
    raise ValueError(f"output must be 'arrow', 'pandas', 'polars' or None, not {output!r}")
