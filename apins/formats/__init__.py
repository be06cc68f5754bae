"""Pin types: how an object becomes a data file and back.

One small module per type (csv, json, parquet, arrow, file, joblib/pickle, rds). The Board
looks a type up with :func:`get_format` and calls ``fmt.write(obj, out)`` /
``fmt.read(paths, output=...)`` in a worker thread. pyarrow is the table core; pandas and
polars are only imported when a result is asked for in their form.

Importing this package imports no heavy library (pyarrow, pandas, polars, joblib, rdata).

Security: ``joblib`` and ``pickle`` are ``pickle_based``; loading them executes code from the
file, so the Board must refuse to read them without explicit consent (``allow_pickle_read``).
This package does not check consent itself.
"""

from __future__ import annotations

import warnings

from ..errors import UnsupportedType
from ._arrow import ARROW
from ._base import BinarySink, Format, Output
from ._csv import CSV
from ._deps import MissingDependency
from ._file import FILE
from ._json import JSON
from ._parquet import PARQUET
from ._pickled import JOBLIB, PICKLE
from ._rds import RDS
from ._tables import is_table, to_arrow_table
from ._titles import default_title
from ._v0 import read_v0

_FORMATS: dict[str, Format] = {
    f.type: f for f in (CSV, JSON, PARQUET, ARROW, FILE, JOBLIB, PICKLE, RDS)
}

#: every type :func:`get_format` returns
TYPES: tuple[str, ...] = tuple(_FORMATS)


def get_format(type: str) -> Format:
    """The :class:`Format` for a pin type.

    ``"feather"`` warns (DeprecationWarning) and gives ``arrow``, as pins-python does.
    Raises :class:`UnsupportedType` for R's ``qs``/``qs2`` and any unknown type.
    """
    if type == "feather":
        warnings.warn(
            'pin type "feather" is deprecated: using "arrow", which writes the same '
            "Feather V2 file and is what R pins understands",
            DeprecationWarning,
            stacklevel=2,
        )
        return ARROW
    fmt = _FORMATS.get(type) if isinstance(type, str) else None
    if fmt is not None:
        return fmt
    if type in ("qs", "qs2"):
        raise UnsupportedType(
            f"pin type {type!r} is not supported: apins cannot read or write R's qs formats. "
            "Write the pin from R with type 'rds' or 'parquet' instead."
        )
    raise UnsupportedType(
        f"unknown pin type {type!r}: apins supports {', '.join(TYPES)} "
        "('rds' for reading only, 'file' through pin_upload/pin_download)"
    )


__all__ = [
    "TYPES",
    "BinarySink",
    "Format",
    "MissingDependency",
    "Output",
    "default_title",
    "get_format",
    "is_table",
    "read_v0",
    "to_arrow_table",
]
