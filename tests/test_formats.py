"""Pin types (apins.formats): round trips, cross-library reads, R fixtures, errors."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import pickle
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import pins
import polars as pl
import pyarrow as pa
import pytest

from apins.errors import UnsupportedType
from apins.formats import (
    Format,
    MissingDependency,
    Output,
    default_title,
    get_format,
    is_table,
    read_v0,
    to_arrow_table,
)

FIXTURES = Path(pins.__file__).parent / "tests"
COMPAT = FIXTURES / "pins-compat"
PIN_BOARD = FIXTURES / "pin-board"
OLD_TYPES = FIXTURES / "pins-old-types"

TABLE_TYPES = ["csv", "parquet", "arrow"]
INPUT_KINDS = ["arrow", "batch", "pandas", "polars", "c_stream"]
OUTPUTS = [None, "pandas", "polars"]


class HashingSink:
    """Stands in for the Board's writer: write/tell/flush/closed/writable, no seek or read."""

    __slots__ = ("_buf", "_hash", "closed")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._hash = hashlib.sha256()
        self.closed = False

    def write(self, data: bytes) -> int:
        view = bytes(data)
        self._buf += view
        self._hash.update(view)
        return len(view)

    def tell(self) -> int:
        return len(self._buf)

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True

    def getvalue(self) -> bytes:
        return bytes(self._buf)


class CStreamOnly:
    """An object that is a table only through the Arrow PyCapsule stream protocol."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._table.__arrow_c_stream__(requested_schema)


def sample_table() -> pa.Table:
    return pa.table(
        {
            "i": pa.array([1, None, 3], pa.int64()),
            "f": pa.array([0.5, 1.5, None], pa.float64()),
            "s": pa.array(["a", None, 'quote " and, comma'], pa.string()),
            "b": pa.array([True, False, None], pa.bool_()),
        }
    )


def make_input(kind: str, table: pa.Table) -> Any:
    if kind == "arrow":
        return table
    if kind == "batch":
        return table.combine_chunks().to_batches()[0]
    if kind == "pandas":
        return table.to_pandas()
    if kind == "polars":
        return pl.from_arrow(table)
    if kind == "c_stream":
        return CStreamOnly(table)
    raise AssertionError(kind)


def write_file(tmp_path: Path, type_: str, obj: Any, name: str = "pin") -> Path:
    fmt = get_format(type_)
    sink = HashingSink()
    fmt.write(obj, sink)
    assert not sink.closed
    path = tmp_path / f"{name}.{fmt.extension}"
    path.write_bytes(sink.getvalue())
    return path


def as_rows(result: Any) -> list[dict[str, Any]]:
    """Rows of any table result, nulls as None (pandas NaN too)."""
    rows = to_arrow_table(result).to_pylist()
    return [
        {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        for row in rows
    ]


def check_output_kind(result: Any, output: Output | None) -> None:
    expected = {None: pa.Table, "arrow": pa.Table, "pandas": pd.DataFrame, "polars": pl.DataFrame}
    assert isinstance(result, expected[output])


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("kind", INPUT_KINDS)
@pytest.mark.parametrize("type_", TABLE_TYPES)
def test_table_round_trip(tmp_path: Path, type_: str, kind: str, output: Output | None) -> None:
    table = sample_table()
    path = write_file(tmp_path, type_, make_input(kind, table))
    result = get_format(type_).read([path], output=output)
    check_output_kind(result, output)
    assert as_rows(result) == as_rows(table)
    assert list(to_arrow_table(result).column_names) == ["i", "f", "s", "b"]


@pytest.mark.parametrize("kind", INPUT_KINDS)
@pytest.mark.parametrize("output", OUTPUTS)
def test_json_table_written_as_records(tmp_path: Path, kind: str, output: Output | None) -> None:
    table = pa.table({"x": [1, 2], "y": ["a", None], "f": [float("nan"), 2.5]})
    path = write_file(tmp_path, "json", make_input(kind, table))
    records = [{"x": 1, "y": "a", "f": None}, {"x": 2, "y": None, "f": 2.5}]
    assert json.loads(path.read_bytes()) == records
    result = get_format("json").read([path], output=output)
    if output is None:
        assert result == records
    else:
        check_output_kind(result, output)
        assert as_rows(result) == records


@pytest.mark.parametrize(
    "data",
    [
        {"a": [1, 2, 3], "b": {"nested": None}, "c": "ünïcode"},
        [1, 2.5, "x", True, None],
        "just a string",
        42,
        None,
    ],
)
def test_json_plain_data_round_trip(tmp_path: Path, data: Any) -> None:
    path = write_file(tmp_path, "json", data)
    assert get_format("json").read([path]) == data
    with path.open("rb") as f:  # pins-python reads json with json.load
        assert json.load(f) == data


def test_json_dates_in_tables_are_iso_strings(tmp_path: Path) -> None:
    table = pa.table(
        {
            "d": [dt.date(2024, 1, 2)],
            "t": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5)], pa.timestamp("us")),
        }
    )
    path = write_file(tmp_path, "json", table)
    assert json.loads(path.read_bytes()) == [{"d": "2024-01-02", "t": "2024-01-02T03:04:05"}]


@pytest.mark.parametrize("output", ["pandas", "polars"])
def test_json_dict_of_columns_to_frame(tmp_path: Path, output: Output) -> None:
    path = write_file(tmp_path, "json", {"x": [1, 2], "y": ["a", "b"]})
    result = get_format("json").read([path], output=output)
    check_output_kind(result, output)
    assert as_rows(result) == [{"x": 1, "y": "a"}, {"x": 2, "y": "b"}]


def test_json_scalar_cannot_become_frame(tmp_path: Path) -> None:
    path = write_file(tmp_path, "json", [1, 2, 3])
    with pytest.raises(UnsupportedType, match="output=None"):
        get_format("json").read([path], output="pandas")


@pytest.mark.parametrize("type_", ["joblib", "pickle"])
def test_pickle_based_round_trip(tmp_path: Path, type_: str) -> None:
    fmt = get_format(type_)
    assert fmt.pickle_based and fmt.can_write and fmt.extension == type_
    obj = {"model": [1, 2, 3], "when": dt.datetime(2024, 1, 2), "frame": sample_table()}
    path = write_file(tmp_path, type_, obj)
    back = fmt.read([path], output=None)
    assert back["model"] == [1, 2, 3] and back["when"] == obj["when"]
    assert back["frame"].equals(obj["frame"])


def test_pickle_unpicklable_object_is_unsupported() -> None:
    with pytest.raises(UnsupportedType, match="'pickle'"):
        get_format("pickle").write(lambda: 1, HashingSink())
    with pytest.raises(UnsupportedType, match="'joblib'"):
        get_format("joblib").write(lambda: 1, HashingSink())


# --- pins-python reads what apins writes ------------------------------------------------------


def reference_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"x": [1, 2, 3], "y": ["a", "b,c", 'say "hi"'], "z": [0.5, None, 2.5]},
    )


@pytest.mark.parametrize(
    ("type_", "reader"),
    [("csv", pd.read_csv), ("parquet", pd.read_parquet), ("arrow", pd.read_feather)],
)
@pytest.mark.parametrize("kind", ["arrow", "pandas", "polars"])
def test_pins_python_readers_read_tables(
    tmp_path: Path, type_: str, reader: Any, kind: str
) -> None:
    expected = reference_frame()
    obj = make_input(kind, pa.Table.from_pandas(expected, preserve_index=False))
    path = write_file(tmp_path, type_, obj)
    got = reader(path)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_pins_python_reads_json_and_joblib(tmp_path: Path) -> None:
    data = {"a": [1, 2], "b": "x"}
    with write_file(tmp_path, "json", data).open("rb") as f:
        assert json.load(f) == data
    assert joblib.load(write_file(tmp_path, "joblib", data)) == data


def test_pins_python_reads_json_table_as_records(tmp_path: Path) -> None:
    path = write_file(tmp_path, "json", reference_frame())
    expected = json.loads(reference_frame().to_json(orient="records"))
    with path.open("rb") as f:
        assert json.load(f) == expected


def test_apins_reads_pins_python_writes(tmp_path: Path) -> None:
    frame = reference_frame()
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_parquet(tmp_path / "a.parquet")
    frame.to_feather(tmp_path / "a.arrow")
    for type_ in TABLE_TYPES:
        got = get_format(type_).read([tmp_path / f"a.{type_}"], output="pandas")
        pd.testing.assert_frame_equal(got, frame, check_dtype=False)


def _rich_frame() -> pd.DataFrame:
    """Index, categorical, tz-aware times, nulls, nested lists: what pandas metadata carries."""
    frame = pd.DataFrame(
        {
            "i": pd.array([1, None, 3], dtype="Int64"),
            "cat": pd.Categorical(["a", "b", "a"]),
            "t": pd.date_range("2024-01-01", periods=3, tz="Europe/Paris"),
            "s": ["x", None, "z"],
            "l": [[1, 2], [], None],
        },
        index=pd.Index([10, 20, 30], name="key"),
    )
    return frame


@pytest.mark.parametrize("writer", ["pandas", "pyarrow-2-row-groups"])
def test_parquet_reads_equal_pyarrow_and_pandas_readers(tmp_path: Path, writer: str) -> None:
    """The parquet reader (one ParquetFile, to_pandas without consolidation) returns what
    pyarrow.parquet.read_table and pandas.read_parquet return, dtypes and metadata included."""
    import pyarrow.parquet as pq

    frame = _rich_frame()
    path = tmp_path / "t.parquet"
    if writer == "pandas":
        frame.to_parquet(path)
    else:
        pq.write_table(pa.Table.from_pandas(frame), path, row_group_size=2)
    fmt = get_format("parquet")
    table = fmt.read([path], output="arrow")
    expected = pq.read_table(path)
    assert table.equals(expected) and table.schema.metadata == expected.schema.metadata
    got = fmt.read([path], output="pandas")
    pd.testing.assert_frame_equal(got, pd.read_parquet(path), check_exact=True)
    pd.testing.assert_frame_equal(got, frame)
    got["i"] = got["i"] + 1  # the frame owns its memory: usable and writable
    assert list(got["i"].fillna(0)) == [2, 0, 4]


# --- csv details -------------------------------------------------------------------------------


def test_csv_bytes_quote_strings_and_write_na(tmp_path: Path) -> None:
    table = pa.table({"n": pa.array([1, None]), "s": pa.array(["NA", None])})
    path = write_file(tmp_path, "csv", table)
    assert path.read_bytes() == b'"n","s"\n1,"NA"\nNA,NA\n'


@pytest.mark.parametrize("output", OUTPUTS)
def test_csv_nulls_round_trip(tmp_path: Path, output: Output | None) -> None:
    table = pa.table(
        {
            "n": pa.array([1.5, None, 3.0]),
            "i": pa.array([None, 2, 3]),
            "s": pa.array([None, "", "NA"]),
        }
    )
    path = write_file(tmp_path, "csv", table)
    result = get_format("csv").read([path], output=output)
    rows = as_rows(result)
    assert [r["n"] for r in rows] == [1.5, None, 3.0]
    assert [r["i"] for r in rows] == [None, 2, 3]
    if output is None:  # arrow keeps the empty string and the string "NA" apart from null
        assert [r["s"] for r in rows] == [None, "", "NA"]
    # pins-python's reader sees the missing values as missing too
    back = pd.read_csv(path)
    assert back["n"].isna().tolist() == [False, True, False]
    assert back["i"].isna().tolist() == [True, False, False]
    assert pd.isna(back["s"][0])


def test_csv_reads_empty_fields_as_null(tmp_path: Path) -> None:
    path = tmp_path / "py.csv"
    path.write_bytes(b"x,y\n1,\n,b\n")  # pins-python's to_csv writes NaN as empty
    assert get_format("csv").read([path]).to_pylist() == [
        {"x": 1, "y": None},
        {"x": None, "y": "b"},
    ]


def test_csv_timestamps_are_iso(tmp_path: Path) -> None:
    stamp = dt.datetime(2024, 5, 6, 7, 8, 9)
    table = pa.table(
        {
            "t": pa.array([stamp], pa.timestamp("s")),
            "u": pa.array([stamp.replace(tzinfo=dt.timezone.utc)], pa.timestamp("s", "UTC")),
            "d": [stamp.date()],
        }
    )
    text = write_file(tmp_path, "csv", table).read_text()
    assert text.splitlines()[1] == "2024-05-06 07:08:09,2024-05-06 07:08:09Z,2024-05-06"
    back = get_format("csv").read([tmp_path / "pin.csv"])
    assert back.column("t").to_pylist() == [stamp]
    assert back.column("d").to_pylist() == [stamp.date()]


# --- pandas index rule --------------------------------------------------------------------------


def test_pandas_unnamed_index_is_dropped() -> None:
    frame = pd.DataFrame({"x": [1, 2, 3]})[lambda d: d.x > 1]
    assert to_arrow_table(frame).column_names == ["x"]


def test_pandas_named_index_becomes_column(tmp_path: Path) -> None:
    frame = pd.DataFrame({"key": ["a", "b"], "x": [1, 2]}).set_index("key")
    assert set(to_arrow_table(frame).column_names) == {"key", "x"}
    path = write_file(tmp_path, "parquet", frame)
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame, check_dtype=False)


def test_polars_string_views_become_large_strings() -> None:
    frame = pl.DataFrame({"s": ["a", "b"]})
    table = to_arrow_table(CStreamOnly(pa.table(frame)))
    assert table.schema.field("s").type == pa.large_string()


# --- R-written fixtures ------------------------------------------------------------------------


def test_r_csv_both_versions() -> None:
    old, new = sorted((COMPAT / "df_csv").iterdir())
    fmt = get_format("csv")
    assert fmt.read([old / "df_csv.csv"]).to_pylist() == [{"x": 1, "y": "a"}, {"x": 2, "y": "b"}]
    latest = fmt.read([new / "df_csv.csv"], output="pandas")
    assert latest.shape == (2, 3)
    assert latest.to_dict("list") == {"x": [1, 2], "y": ["a", "b"], "z": [3, 4]}


def test_r_csv_na_is_null(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b'"x","y"\n1,"a"\nNA,NA\n')  # what R's write.csv produces for NA
    assert get_format("csv").read([path]).to_pylist() == [
        {"x": 1, "y": "a"},
        {"x": None, "y": None},
    ]


@pytest.mark.parametrize("output", OUTPUTS)
def test_r_arrow(output: Output | None) -> None:
    (version,) = (COMPAT / "df_arrow").iterdir()
    path = version / "df_arrow.arrow"
    assert path.read_bytes()[:6] == b"ARROW1"
    result = get_format("arrow").read([path], output=output)
    check_output_kind(result, output)
    assert as_rows(result) == [{"x": 1, "y": "a"}, {"x": 2, "y": "b"}]


def test_apins_arrow_is_feather_v2(tmp_path: Path) -> None:
    data = write_file(tmp_path, "arrow", sample_table()).read_bytes()
    assert data[:6] == b"ARROW1" and data[-6:] == b"ARROW1"


@pytest.mark.parametrize("output", OUTPUTS)
def test_r_rds_data_frame(output: Output | None) -> None:
    (version,) = (COMPAT / "df_rds").iterdir()
    result = get_format("rds").read([version / "df_rds.rds"], output=output)
    check_output_kind(result, output)
    assert as_rows(result) == [{"x": 1, "y": "a"}, {"x": 2, "y": "b"}]
    assert to_arrow_table(result).column_names == ["x", "y"]


def test_r_pin_board_json_and_rds() -> None:
    (x_version,) = (PIN_BOARD / "x").iterdir()
    assert get_format("json").read([x_version / "x.json"]) == list(range(1, 11))
    rds_version, json_version = sorted((PIN_BOARD / "y").iterdir())
    assert get_format("json").read([json_version / "y.json"]) == list(range(1, 21))
    assert get_format("rds").read([rds_version / "y.rds"]) == list(range(11, 21))


def test_r_rds_character_row_names_kept(tmp_path: Path) -> None:
    import rdata

    frame = pd.DataFrame(
        {"mpg": [21.0, 22.8]}, index=pd.Index(["Mazda RX4", "Datsun 710"], dtype=object)
    )
    path = tmp_path / "cars.rds"
    rdata.write_rds(path, frame)
    table = get_format("rds").read([path])
    assert table.to_pylist() == [
        {"rownames": "Mazda RX4", "mpg": 21.0},
        {"rownames": "Datsun 710", "mpg": 22.8},
    ]


def test_v0_table_reads_csv() -> None:
    paths = sorted((OLD_TYPES / "a-table" / "v").iterdir())
    expected = [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    assert read_v0("table", paths, output=None).to_pylist() == expected
    frame = read_v0("table", paths, output="pandas")
    assert isinstance(frame, pd.DataFrame) and frame.to_dict("records") == expected


def test_v0_table_falls_back_to_rds_and_default_reads_rds() -> None:
    rds = OLD_TYPES / "a-table" / "v" / "data.rds"
    expected = [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    assert read_v0("table", [rds], output=None).to_pylist() == expected
    assert read_v0("default", [rds], output="polars").to_dicts() == expected


def test_v0_files_and_unknown() -> None:
    paths = [Path("v/data.txt"), Path("v/a.png"), Path("v/b.txt")]
    assert read_v0("files", paths, output=None) == [Path("v/a.png"), Path("v/b.txt")]
    with pytest.raises(UnsupportedType, match="package"):
        read_v0("package", paths, output=None)


# --- registry and errors --------------------------------------------------------------------------


def test_format_attributes() -> None:
    expected = {
        "csv": ("csv", False, True),
        "json": ("json", False, True),
        "parquet": ("parquet", False, True),
        "arrow": ("arrow", False, True),
        "file": ("file", False, False),
        "joblib": ("joblib", True, True),
        "pickle": ("pickle", True, True),
        "rds": ("rds", False, False),
    }
    for type_, (ext, pickled, writable) in expected.items():
        fmt = get_format(type_)
        assert isinstance(fmt, Format)
        assert (fmt.type, fmt.extension, fmt.pickle_based, fmt.can_write) == (
            type_,
            ext,
            pickled,
            writable,
        )


@pytest.mark.parametrize("type_", ["qs", "qs2"])
def test_qs_not_supported(type_: str) -> None:
    with pytest.raises(UnsupportedType, match="not supported") as info:
        get_format(type_)
    message = str(info.value)
    assert "qs formats" in message and "rds" in message and "parquet" in message


def test_unknown_type() -> None:
    with pytest.raises(UnsupportedType, match="unknown pin type 'xlsx'"):
        get_format("xlsx")


def test_feather_is_arrow_with_deprecation() -> None:
    with pytest.warns(DeprecationWarning, match="arrow"):
        fmt = get_format("feather")
    assert fmt.type == "arrow" and fmt.extension == "arrow"


@pytest.mark.parametrize("type_", TABLE_TYPES)
def test_dict_as_table_type_is_unsupported(type_: str) -> None:
    sink = HashingSink()
    with pytest.raises(UnsupportedType, match=f"dict cannot be stored as type '{type_}'"):
        get_format(type_).write({"a": [1, 2]}, sink)
    assert sink.tell() == 0


@pytest.mark.parametrize("data", [{1, 2}, object(), {"x": float("nan")}, b"bytes"])
def test_json_rejects_non_json_data(data: Any) -> None:
    sink = HashingSink()
    with pytest.raises(UnsupportedType, match="cannot be stored as type 'json'"):
        get_format("json").write(data, sink)
    assert sink.tell() == 0


def test_rds_is_read_only() -> None:
    with pytest.raises(UnsupportedType, match="read-only"):
        get_format("rds").write(pa.table({"x": [1]}), HashingSink())


def test_file_type_refuses_read_and_write(tmp_path: Path) -> None:
    fmt = get_format("file")
    with pytest.raises(UnsupportedType, match="pin_download"):
        fmt.read([tmp_path / "a.png"], output=None)
    with pytest.raises(UnsupportedType, match="pin_upload"):
        fmt.write(b"x", HashingSink())


def test_bad_output_value(tmp_path: Path) -> None:
    path = write_file(tmp_path, "parquet", sample_table())
    with pytest.raises(ValueError, match="output"):
        get_format("parquet").read([path], output="numpy")  # type: ignore[arg-type]


def test_data_file_chosen_by_extension(tmp_path: Path) -> None:
    path = write_file(tmp_path, "csv", sample_table())
    other = tmp_path / "pin.rds"
    other.write_bytes(b"not csv")
    assert get_format("csv").read([other, path]).num_rows == 3
    with pytest.raises(UnsupportedType, match="which file"):
        get_format("csv").read([other, tmp_path / "x.txt"])


# --- titles and table detection -------------------------------------------------------------------


@pytest.mark.parametrize("kind", INPUT_KINDS)
def test_default_title_tables(kind: str) -> None:
    obj = make_input(kind, sample_table())
    assert default_title("cars", obj, "parquet") == "cars: a pinned 3 x 4 data frame"


def test_default_title_objects() -> None:
    assert default_title("d", {"a": 1}, "json") == "d: a pinned dict object"
    assert default_title("l", [1], "json") == "l: a pinned list object"
    assert default_title("m", CStreamOnly, "pickle") == "m: a pinned type object"


def test_is_table() -> None:
    table = sample_table()
    for kind in INPUT_KINDS:
        assert is_table(make_input(kind, table))
    assert is_table(pl.DataFrame(table).lazy())
    for obj in ({"a": [1]}, [1, 2], "x", None, CStreamOnly, pd.Series([1]), pl.Series([1])):
        assert not is_table(obj)


def test_to_arrow_table_rejects_non_tables() -> None:
    with pytest.raises(UnsupportedType, match="list cannot be stored"):
        to_arrow_table([1, 2])


# --- lazy imports and missing extras ------------------------------------------------------------


def run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip()


def hide_module(name: str) -> str:
    """Code that makes ``name`` look uninstalled in a fresh interpreter (a refusing finder)."""
    return (
        "import sys\n"
        "class _Hide:\n"
        "    def find_spec(self, fullname, path=None, target=None):\n"
        f"        if fullname.partition('.')[0] == {name!r}:\n"
        "            raise ModuleNotFoundError(fullname, name=fullname)\n"
        "sys.meta_path.insert(0, _Hide())\n"
    )


def test_import_is_light() -> None:
    out = run_python(
        "import sys, apins.formats\n"
        "heavy = ['pyarrow', 'pandas', 'polars', 'joblib', 'rdata', 'numpy']\n"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    assert out == ""


@pytest.mark.parametrize(("module", "extra"), [("pandas", "pandas"), ("polars", "polars")])
def test_missing_output_library_names_extra(tmp_path: Path, module: str, extra: str) -> None:
    path = write_file(tmp_path, "parquet", sample_table())
    out = run_python(
        f"{hide_module(module)}"
        "from pathlib import Path\n"
        "from apins.formats import get_format, MissingDependency\n"
        "try:\n"
        f"    get_format('parquet').read([Path({str(path)!r})], output={module!r})\n"
        "except MissingDependency as exc:\n"
        "    print(exc)\n"
    )
    assert f"apins[{extra}]" in out


def test_missing_rdata_names_extra() -> None:
    (version,) = (COMPAT / "df_rds").iterdir()
    out = run_python(
        f"{hide_module('rdata')}"
        "from pathlib import Path\n"
        "from apins.formats import get_format\n"
        "from apins.errors import PinsError\n"
        "try:\n"
        f"    get_format('rds').read([Path({str(version / 'df_rds.rds')!r})])\n"
        "except PinsError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    assert out.startswith("MissingDependency") and "apins[rds]" in out


def test_missing_dependency_is_module_not_found() -> None:
    assert issubclass(MissingDependency, ModuleNotFoundError)


def test_no_warnings_on_normal_paths(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for type_ in TABLE_TYPES:
            path = write_file(tmp_path, type_, sample_table())
            get_format(type_).read([path], output="pandas")


def test_pickle_module_reads_pickle_pins(tmp_path: Path) -> None:
    path = write_file(tmp_path, "pickle", {"a": 1})
    with path.open("rb") as f:
        assert pickle.load(f) == {"a": 1}
