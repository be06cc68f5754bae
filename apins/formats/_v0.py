"""Reading legacy v0 pins (R pins <= 0.4 ``pin()``; metadata without ``api_version``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UnsupportedType
from ._base import Output
from ._csv import read_csv_path
from ._rds import read_rds_path
from ._tables import convert_table


def _named(paths: Sequence[Path], name: str) -> Path | None:
    return next((p for p in paths if p.name == name), None)


def read_v0(meta_type: str, paths: Sequence[Path], *, output: Output | None = None) -> Any:
    """Read a v0 pin's data: ``table`` from ``data.csv`` (else ``data.rds``), ``default`` from
    ``data.rds``, ``files`` as the list of paths. Other types raise UnsupportedType."""
    if meta_type == "table":
        csv = _named(paths, "data.csv")
        if csv is not None:
            return convert_table(read_csv_path(csv), output)
        rds = _named(paths, "data.rds")
        if rds is not None:
            return read_rds_path(rds, output)
        raise UnsupportedType("legacy 'table' pin has neither data.csv nor data.rds")
    if meta_type == "default":
        rds = _named(paths, "data.rds")
        if rds is None:
            raise UnsupportedType("legacy 'default' pin has no data.rds")
        return read_rds_path(rds, output)
    if meta_type == "files":
        return [p for p in paths if p.name != "data.txt"]
    raise UnsupportedType(f"cannot read legacy (v0) pins of type {meta_type!r}")
