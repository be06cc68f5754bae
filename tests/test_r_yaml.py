"""R reads what apins writes, and apins reads what R writes, checked with R itself (Rscript and
the Debian r-cran-yaml package): tricky strings, big and negative numbers, floats, nested
metadata, unicode and multi-line text. Integers beyond R's 32-bit range (a file over 2 GiB)
must reach R as exact numbers, not NA; pins-python must still read the pin, apins the ints."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pyarrow as pa

import apins
from apins import _yaml
from apins.meta import dump_meta, parse_meta
from tests._helpers import missing

R_SCRIPT = Path(__file__).parent / "r" / "yaml_leaves.R"
GIB3 = 3 * 1024**3  # the file_size of a 3 GiB file: beyond R's integers

TRICKY = [
    "yes", "no", "null", "~", "true", "Y", "off", "0123", "1e5", "0x1F", "3.0", "-7", "1_000",
    "2024-05-01", "2024-05-01T12:00:00Z", "12:30:45", " leading", "trailing ", "a: b", "a:b",
    "# not a comment", "x #y", "it's", 'say "hi"', "", "@at", "`tick", "%pct", "- dash",
    "[1, 2]", "{a: 1}", "*star", "&anchor", "!bang", "|pipe", ">gt", "?q", "tab\there",
    "back\\slash", "café 日本 😀", "line1\nline2", "\n", "trailing newline\n", "ends with:",
]  # fmt: skip
NUMBERS = {
    "big": GIB3,
    "neg_big": -GIB3,
    "max_int": 2**31 - 1,
    "min_r_int": -(2**31) + 1,
    "below_r_ints": -(2**31),
    "two_pow_53": 2**53,
    "zero": 0,
    "float": 2.5,
    "neg_float": -0.125,
    "huge_float": 1e20,
    "tiny": 1.5e-10,
    "integral_float": 3.0,
    "big_list": [GIB3, 1, -GIB3],
}
METADATA: dict[str, Any] = {
    "strings": TRICKY,
    "numbers": NUMBERS,
    "nested": {"a": {"b": {"c": "deep", "d": [1, 2, 3]}}, "flags": [True, False], "none": None},
    "unicode key é": "ünïcödé",
    "multi": "first line\nsecond: line\n  indented # third\n",
}


def rscript() -> str:
    path = shutil.which("Rscript")
    if path is None:
        missing("Rscript not found: install the Debian packages r-base-core r-cran-yaml")
    return path


def run_r(in_file: Path, out_file: Path) -> tuple[list[tuple[str, str, str]], ...]:
    """R's leaves of ``in_file``, and of the file R writes to ``out_file`` (as R reads it)."""
    proc = subprocess.run(
        [rscript(), "--vanilla", str(R_SCRIPT), str(in_file), str(out_file)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "NAs introduced" not in proc.stderr, proc.stderr
    sections: dict[str, list[tuple[str, str, str]]] = {}
    current: list[tuple[str, str, str]] = []
    for line in proc.stdout.splitlines():
        if line.startswith("== "):
            current = sections.setdefault(line[3:], [])
        else:
            path, cls, value = line.split("\t")
            current.append((path, cls, value))
    return sections["in"], sections["out"]


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "num"
    return "str" if isinstance(v, str) else "other"


def leaves(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Flatten like the R script: R turns a list of same-kind scalars into one vector, and a
    vector of length one is a scalar."""
    if isinstance(value, dict):
        if not value:
            return [(path, {})]
        return [x for k, v in value.items() for x in leaves(v, f"{path}/{k}")]
    if isinstance(value, list):
        if not value:
            return [(path, [])]
        kinds = {_kind(v) for v in value}
        if len(value) == 1 and kinds <= {"bool", "num", "str"}:
            return [(path, value[0])]
        return [x for i, v in enumerate(value, 1) for x in leaves(v, f"{path}/{i}")]
    return [(path, value)]


def r_equal(v: Any, cls: str, text: str) -> bool:
    if v is None:
        return cls == "NULL"
    if v == {}:
        return cls == "map"
    if v == []:
        return cls == "list"
    if isinstance(v, bool):
        return cls == "logical" and text == ("TRUE" if v else "FALSE")
    if isinstance(v, int | float):
        return cls in ("integer", "numeric") and text != "NA" and float(text) == v
    return cls == "character" and bytes.fromhex(text).decode("utf-8") == v


def assert_same(python: Any, r_leaves: list[tuple[str, str, str]]) -> None:
    expected = leaves(python)
    assert [p for p, _ in expected] == [p for p, _, _ in r_leaves]
    wrong = [
        (path, v, cls, text)
        for (path, v), (_, cls, text) in zip(expected, r_leaves, strict=True)
        if not r_equal(v, cls, text)
    ]
    assert not wrong


def test_big_integers_are_written_so_r_reads_them_exactly() -> None:
    text = _yaml.dump({"file_size": GIB3, "small": 7, "neg": -GIB3, "huge": 2**60, "f": 3.0})
    assert text == (
        "file_size: 3221225472.0\nsmall: 7\nneg: -3221225472.0\nhuge: 1152921504606846976\nf: 3.0\n"
    )
    back = _yaml.load(text)
    assert back == {"file_size": GIB3, "small": 7, "neg": -GIB3, "huge": 2**60, "f": 3.0}
    assert [type(v) for v in back.values()] == [int, int, int, int, float]


def test_r_and_apins_read_each_other(tmp_path: Path) -> None:
    board_dir = tmp_path / "board"

    async def write() -> Any:
        async with apins.board_folder(board_dir) as board:
            return await board.pin_write(
                pa.table({"x": [1, 2]}), "big", type="csv", title="A title: with 'quotes' # x",
                description="two\nlines", metadata=METADATA, tags=["yes", "2024-05-01"],
            )  # fmt: skip

    import anyio

    meta = anyio.run(write)
    data_txt = board_dir / "big" / meta.version / "data.txt"
    # the data.txt of a file over 2 GiB, written by apins's own writer
    stored = parse_meta(data_txt.read_bytes())
    stored.file_size = GIB3
    data_txt.chmod(0o644)
    data_txt.write_bytes(dump_meta(stored))

    r_in, r_out = run_r(data_txt, tmp_path / "from_r.yaml")
    # R reads every field as apins meant it: file_size exact, strings and numbers intact
    assert ("/file_size", "numeric", "3221225472") in r_in
    assert b"file_size: 3221225472.0\n" in data_txt.read_bytes()
    assert_same(_yaml.load(data_txt.read_bytes()), r_in)
    assert_same(
        {"user": METADATA},
        [(p, c, v) for p, c, v in r_in if p.startswith("/user/")],
    )

    # apins reads its ints back
    back = parse_meta(data_txt.read_bytes())
    assert back.file_size == GIB3 and type(back.file_size) is int
    assert back.user == METADATA
    assert type(back.user["numbers"]["big"]) is int

    # pins-python reads the same pin (file_size as a float of the exact value)
    import pins

    old = pins.board_folder(str(board_dir))
    pmeta = old.pin_meta("big")
    assert pmeta.file_size == GIB3 and pmeta.user == METADATA
    assert pmeta.title == "A title: with 'quotes' # x" and pmeta.description == "two\nlines"
    assert list(old.pin_read("big")["x"]) == [1, 2]

    # and apins reads what R wrote the way R itself reads it back
    assert_same(_yaml.load((tmp_path / "from_r.yaml").read_bytes()), r_out)
