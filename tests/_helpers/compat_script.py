"""One pins-python 0.9.2 "notebook", run twice: with ``import pins`` and with
``from apins import compat as pins``. Each call's result is recorded in a comparable form.

What legitimately differs between the two libraries is normalised away here and only here:
file bytes (so hashes and the hash part of version names) and absolute cache paths.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

DF = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"], "z": [0.5, 1.5, None]})
DF2 = DF.assign(w=[True, False, True])
T1 = datetime(2024, 5, 1, 12, 0, 0)
T2 = datetime(2024, 5, 2, 8, 30, 0)
T3 = datetime(2024, 5, 3, 9, 0, 0)


def _cell(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    return v.item() if hasattr(v, "item") else v


def frame(df: pd.DataFrame, drop: tuple[str, ...] = ()) -> Any:
    """Columns, row count and values (minus ``drop``) of a DataFrame."""
    kept = df.drop(columns=[c for c in drop if c in df.columns])
    rows = [[_cell(v) for v in row] for row in kept.astype(object).itertuples(index=False)]
    return {"type": type(df).__name__, "columns": list(df.columns), "rows": rows}


def version(v: Any) -> Any:
    """A Version's class, its created time and the length of its hash."""
    return {
        "class": type(v).__name__,
        "created": getattr(v, "created", None),
        "hash_len": len(getattr(v, "hash", "") or ""),
        "version_prefix": v.version.split("-")[0],
    }


def meta(m: Any) -> Any:
    return {
        "class": type(m).__name__,
        "title": m.title,
        "description": m.description,
        "type": m.type,
        "file": m.file,
        "api_version": m.api_version,
        "name": m.name,
        "user": dict(m.user),
        "created": m.created,
        "version": version(m.version),
        "pin_hash_len": len(m.pin_hash),
        "file_size_type": type(m.file_size).__name__,
    }


def run(
    pins: Any, make_board: Callable[[Any], Any], files: Path, *, list_empty: bool = True
) -> list[tuple[str, Any]]:
    """The script; returns (call, comparable result) pairs in call order.

    ``list_empty=False`` skips listing the new, empty board (pins-python raises
    FileNotFoundError there on S3, where the prefix does not exist yet).
    """
    out: list[tuple[str, Any]] = []
    rec = out.append
    board = make_board(pins)

    if list_empty:
        rec(("pin_list empty", board.pin_list()))
    rec(("pin_exists missing", board.pin_exists("df")))
    m = board.pin_write(DF, "df", type="csv", title="my df", metadata={"a": 1}, created=T1)
    rec(("pin_write csv", meta(m)))
    rec(("pin_write csv again", meta(board.pin_write(DF, "df", type="csv", created=T2))))
    m = board.pin_write(DF2, "df", type="csv", description="v2", created=T2)
    rec(("pin_write csv v2", meta(m)))
    rec(("pin_exists", board.pin_exists("df")))
    rec(("pin_read", frame(board.pin_read("df"))))
    versions = board.pin_versions("df")
    rec(("pin_versions df", frame(versions, drop=("hash", "version"))))
    rec(("pin_versions list", [version(v) for v in board.pin_versions("df", as_df=False)]))
    first = board.pin_versions("df", as_df=False)[0].version
    rec(("pin_read old", frame(board.pin_read("df", version=first))))
    rec(("pin_meta old", meta(board.pin_meta("df", first))))
    for kind in ("parquet", "arrow"):
        board.pin_write(DF, f"df_{kind}", type=kind, created=T1)
        rec((f"pin_read {kind}", frame(board.pin_read(f"df_{kind}"))))
        rec((f"pin_meta {kind}", meta(board.pin_meta(f"df_{kind}"))))
    board.pin_write({"a": [1, 2], "b": "text"}, "obj", type="json", created=T1)
    rec(("pin_read json", board.pin_read("obj")))
    rec(("pin_meta json", meta(board.pin_meta("obj"))))
    src = files / "report.txt"
    src.write_text("hello pins\n")
    board.pin_upload(str(src), "report")
    paths = board.pin_download("report")
    rec(("pin_download", [(Path(p).name, Path(p).read_text()) for p in paths]))
    rec(("pin_list", sorted(board.pin_list())))
    found = board.pin_search("df")
    # pins-python lists in file-system order; apins sorts by name
    found = found.sort_values("name", ignore_index=True)
    rec(("pin_search", frame(found, drop=("meta", "created", "file_size"))))
    rec(("pin_search meta", sorted(type(x).__name__ for x in found["meta"])))
    rec(("pin_search list", sorted(x.name for x in board.pin_search("^obj", as_df=False))))
    board.pin_write(DF, "df", type="csv", created=T3)
    board.pin_versions_prune("df", n=1)
    rec(("after prune", len(board.pin_versions("df"))))
    board.pin_write(DF2, "df", type="csv", created=datetime(2024, 5, 4))
    last = board.pin_versions("df", as_df=False)[-1].version
    board.pin_version_delete("df", last)
    rec(("after version delete", len(board.pin_versions("df"))))
    board.pin_delete(["obj", "report"])
    rec(("after delete", sorted(board.pin_list())))
    for bad in (lambda: board.pin_read("nope"), lambda: board.pin_versions("nope")):
        try:
            bad()
            rec(("missing pin", "no error"))
        except Exception as e:
            rec(("missing pin", isinstance(e, pins.errors.PinsError)))
    rec(("board_deparse", pins.board_deparse(board).split("(")[0]))
    return out
