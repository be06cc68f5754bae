"""data.txt / _pins.yaml models and the YAML both pins libraries can read."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import yaml

from apins import _yaml
from apins.errors import InvalidMetadata
from apins.meta import (
    Meta,
    MetaV0,
    dump_manifest,
    dump_meta,
    format_created,
    parse_created,
    parse_manifest,
    parse_meta,
)

R_DATA_TXT = b"""file: df_csv.csv
file_size: 28
pin_hash: 9bfad6d1a322a904
type: csv
title: 'df_csv: a pinned 2 x 3 data frame'
description: ~
created: 20220214T163720Z
api_version: 1.0
"""


def test_reads_r_written_v1_with_float_api_version() -> None:
    meta = parse_meta(R_DATA_TXT, name="df_csv")
    assert isinstance(meta, Meta)
    assert meta.api_version == 1
    assert meta.file == "df_csv.csv"
    assert meta.file_size == 28
    assert meta.title == "df_csv: a pinned 2 x 3 data frame"
    assert meta.description is None
    assert meta.created_datetime == datetime(2022, 2, 14, 16, 37, 20, tzinfo=timezone.utc)


def test_early_r_variant_iso_created_no_title_stray_keys_roundtrip() -> None:
    raw = (
        b"file: pin.rds\nfile_size: 10\npin_hash: abc\ntype: rds\ndescription: ~\n"
        b"created: 2021-04-22T20:21:21\napi_version: 1\nobject:\n  class: data.frame\n"
        b"name: old-name\n"
    )
    meta = parse_meta(raw, name="pin")
    assert isinstance(meta, Meta)
    assert meta.title is None
    assert meta.created_datetime == datetime(2021, 4, 22, 20, 21, 21, tzinfo=timezone.utc)
    assert meta.extra == {"object": {"class": "data.frame"}, "name": "old-name"}
    again = yaml.safe_load(dump_meta(meta))
    assert again["object"] == {"class": "data.frame"}
    assert again["name"] == "old-name"
    assert meta.name == "pin"  # the runtime name wins over a stray key


def test_multi_file_lists_and_tags_urls() -> None:
    meta = parse_meta(
        {
            "file": ["a.txt", "b.txt"],
            "file_size": [1, 2],
            "pin_hash": "7bdc4d364edbe361dd14652ca8a9be4a",
            "type": "file",
            "title": "t",
            "description": "d",
            "tags": ["x", "y"],
            "urls": "https://example.com",
            "created": "20240101T000000Z",
            "api_version": 1,
        }
    )
    assert isinstance(meta, Meta)
    assert meta.files == ["a.txt", "b.txt"]
    assert meta.file_sizes == [1, 2]
    assert meta.tags == ["x", "y"]
    assert meta.urls == ["https://example.com"]
    assert meta.total_size == 3


def test_v0_is_read_only_metadata() -> None:
    meta = parse_meta(b"path: [data.csv, data.rds]\ntype: table\nrows: 2\ncols: 2\n", name="a")
    assert isinstance(meta, MetaV0)
    assert meta.files == ["data.csv", "data.rds"]
    assert meta.type == "table"
    assert meta.original_fields["rows"] == 2


@pytest.mark.parametrize(
    "bad", ["../x.csv", "/etc/passwd", "C:\\x.csv", "a/../../b", "", "c:/x", "..", "a/./b"]
)
def test_file_escaping_its_folder_is_refused(bad: str) -> None:
    raw = {"file": bad, "pin_hash": "x", "type": "csv", "api_version": 1}
    with pytest.raises(InvalidMetadata):
        parse_meta(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"file: [unclosed\n",
        b"a: &x [1]\nb: *x\n",
        b"!!python/object/apply:os.system ['true']\n",
        b"- just\n- a list\n",
        b"file: x\napi_version: 2\n",
        b"file: x\napi_version: 1\nuser: [1]\n",
        b"\xff\xfe",
    ],
)
def test_hostile_or_corrupt_data_txt_is_refused(raw: bytes) -> None:
    with pytest.raises(InvalidMetadata):
        parse_meta(raw)


def test_oversized_yaml_refused() -> None:
    with pytest.raises(InvalidMetadata, match="4 MiB"):
        _yaml.load(b"a: " + b"x" * (5 * 1024 * 1024))


TRICKY = [
    "y", "n", "Y", "N", "yes", "no", "on", "off", "ON", "true", "False", "null", "~", "",
    "1", "1.0", "1e5", "-3", "0x1F", "0o17", "1_000", ".5", ".inf", "-.Inf", "nan", "12:30",
    "2020-01-01", "a: b", "a #b", "#x", "*x", "&x", "!x", "%x", "@x", "`x", "|x", ">x", "- x",
    "'q'", '"q"', "it's", " lead", "trail ", "é ü 中文", "multi\nline", "tab\there", "[x]", "{x}",
    "x,y", "?x", "a\\b",
]  # fmt: skip


@pytest.mark.parametrize("value", TRICKY)
def test_yaml_strings_read_back_as_strings(value: str) -> None:
    doc = {value or "empty": value, "list": [value], "nested": {"k": value}}
    text = _yaml.dump(doc)
    assert yaml.safe_load(text) == doc
    assert yaml.load(text, Loader=yaml.BaseLoader) == doc  # no implicit typing needed


@pytest.mark.parametrize("word", ["y", "n", "yes", "no", "on", "off", "true", "null", "~"])
def test_r_boolean_words_are_quoted(word: str) -> None:
    # R's yaml reads bare y/n/yes/no/on/off as logicals: they must be quoted
    line = _yaml.dump({"k": word}).strip()
    assert line in (f"k: '{word}'", f'k: "{word}"')


def test_yaml_scalars_keep_types() -> None:
    doc = {"i": 3, "f": 1.5, "b": True, "n": None, "e": {}, "l": [], "neg": -2}
    assert yaml.safe_load(_yaml.dump(doc)) == doc


def test_manifest_matches_r_format() -> None:
    manifest = {"x": ["x/20221215T180351Z-c3943/"], "y": ["y/a/", "y/b/"]}
    text = dump_manifest(manifest).decode()
    assert text == "x:\n- x/20221215T180351Z-c3943/\n'y':\n- y/a/\n- y/b/\n"
    assert parse_manifest(text) == manifest


def test_manifest_refuses_non_mapping() -> None:
    with pytest.raises(InvalidMetadata):
        parse_manifest(b"- a\n- b\n")


def test_created_is_utc_compact() -> None:
    aware = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert format_created(aware) == "20240102T030405Z"
    assert parse_created("20240102T030405Z") == aware
    with pytest.raises(InvalidMetadata):
        parse_created("yesterday")
