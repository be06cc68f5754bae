"""Pin hashes (XXH64, R's multi-file XXH3-128) and pin names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import xxhash

from apins.errors import HashMismatch, InvalidPinName
from apins.hashing import (
    HashingWriter,
    check_requested_hash,
    file_xxh64,
    pin_hash,
    python_multi_hash,
    r_multi_hash,
    verify_pin_hash,
)
from apins.names import validate_pin_name


def test_r_multi_file_hash_matches_r_fixture(tmp_path: Path) -> None:
    f1, f2 = tmp_path / "f1", tmp_path / "f2"
    f1.write_bytes(b"abcdefg\n")
    f2.write_bytes(b"hijklmnop\n")
    hashes = [file_xxh64(f1), file_xxh64(f2)]
    assert r_multi_hash(hashes) == "7bdc4d364edbe361dd14652ca8a9be4a"
    assert pin_hash(hashes) == "7bdc4d364edbe361dd14652ca8a9be4a"
    verify_pin_hash("p", "7bdc4d364edbe361dd14652ca8a9be4a", hashes)
    verify_pin_hash("p", python_multi_hash(hashes), hashes)  # pins-python's convention too


def test_hashing_writer_hashes_while_writing(tmp_path: Path) -> None:
    data = [b"abc", bytearray(b"def"), memoryview(b"ghi")]
    with open(tmp_path / "x", "wb") as raw:
        w = HashingWriter(raw)
        for d in data:
            w.write(d)
        assert w.tell() == 9
    assert w.hexdigest() == xxhash.xxh64(b"abcdefghi").hexdigest()
    assert file_xxh64(tmp_path / "x") == w.hexdigest()


def test_verify_and_requested_hash() -> None:
    h = xxhash.xxh64(b"x").hexdigest()
    verify_pin_hash("p", h, [h])
    verify_pin_hash("p", None, [h])  # legacy pins carry no hash
    with pytest.raises(HashMismatch, match="corrupt"):
        verify_pin_hash("p", "0" * 16, [h])
    check_requested_hash("p", h[:5], h)
    with pytest.raises(HashMismatch):
        check_requested_hash("p", "zzzzz", h)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("a/b", "'/'"), ("a\\b", re.escape(repr("\\"))), ("_pins.yaml", "reserved"), ("", "empty"),
     (".hidden", "'.'"), ("a\nb", "control"), (3, "string"), (None, "string")],
)  # fmt: skip
def test_invalid_names(name: object, fragment: str) -> None:
    with pytest.raises(InvalidPinName, match=fragment):
        validate_pin_name(name)


@pytest.mark.parametrize("name", ["mtcars", "my.data", "a-b_c", "Ünïcode", "x y"])
def test_valid_names(name: str) -> None:
    assert validate_pin_name(name) == name
