"""The fast reader for flat data.txt files (apins._yaml._flat) reads exactly what PyYAML's
safe loader reads, or declines (then PyYAML reads the text): checked on what apins, R and
pins-python write, and on thousands of generated near-miss documents."""

from __future__ import annotations

import random
from pathlib import Path

import yaml

from apins import _yaml
from apins.meta import Meta, dump_meta, parse_meta
from tests._helpers import required


def full(text: str) -> object:
    """What the loader made of ``text`` before the fast reader existed."""
    return yaml.load(text, Loader=_yaml._Base)


def written_by_writers() -> list[str]:
    meta = Meta(
        file=["a.csv", "b c.csv"], file_size=[12, 3 * 1024**3], pin_hash="0123456789abcdef",
        type="csv", title="it's: a pin", description="two\nlines", tags=["x", "yes"],
        urls=["https://example.org/a?b=1"], created="20261129T231327Z", api_version=1,
        user={},
    )  # fmt: skip
    texts = [dump_meta(meta).decode()]
    meta.description, meta.user = "plain words", {"k": 1}
    texts.append(dump_meta(meta).decode())
    pins = required("pins", "pins-python 0.9.2")
    pins_tests = Path(str(pins.__file__)).parent / "tests"
    for f in sorted(pins_tests.glob("pin*/*/*/data.txt")):
        texts.append(f.read_text("utf-8-sig"))
    return texts


def test_what_r_pins_python_and_apins_write_reads_fast_and_the_same() -> None:
    texts = written_by_writers()
    fast = [t for t in texts if _yaml._flat(t) is not None]
    for t in texts:
        got = _yaml._flat(t)
        if got is not None:
            assert repr(got) == repr(full(t)), t
    # R's and pins-python's plain pins, and apins's with one-line text, take the fast path
    assert len(fast) >= len(texts) - 3, [t for t in texts if t not in fast]
    assert _yaml.load(texts[1].encode(), what="data.txt") == full(texts[1])


KEYS = ["file", "title", "api_version", "_x", "Key9", "y", "on", "null", "a b", "1a", "k-1"]
VALUES = [
    # numbers and near-numbers
    "0", "-0", "12", "-7", "007", "0123", "1.0", "-2.50", "00.5", "3221225472.0",
    "9007199254740993.0", "1e5", "1.", "+1", "0x1F", ".5", "1_000", "1,000", "12:30", "-",
    # words
    "~", "null", "Null", "true", "True", "false", "yes", "Yes", "y", "n", "on", "off", "inf",
    "nan", ".inf", "{}", "[]", "{a: 1}", "[1]", "", " ",
    # strings, plain and quoted
    "pin number 7", "a  b", "a b ", " a", "x&y", "a<<b", "<<", "=", "a=b", "%p", "a%",
    "a: b", "a:b", "ends:", "x #y", "a#b", "@at", "`t", "it's", "'a'", "'it''s'", "''",
    "'a' b", "'open", "'a''", '"dq"', "20261129T231327Z", "2024-05-01", "2024-5-1 x",
    "baf3752023b937c1", "0123456789abcdef", "1234567890123456", "a,b", "a;b", "(x)",
    "café", "a\tb", "*alias", "&anchor a", "!tag a", "|", ">", "? q", "- x", "a\r",
]  # fmt: skip
GOOD_FORMS = ["{k}: {v}", "{k}: {v}", "{k}:", "- {v}"]
BAD_FORMS = [
    "{k}:  {v}", "{k}:{v}", "  {k}: {v}", "-{v}", "---", "# c", "{k}: {v} # c", "\t{k}: {v}",
    "  - {v}", "-", "...",
]  # fmt: skip
#: values that read as text or numbers: most generated documents should be fast-path ones
PLAIN = ["pin number 7", "12", "1.0", "~", "{}", "a=b", "'it''s'", "x&y", "20261129T231327Z"]


def test_generated_documents_read_the_same_or_go_to_pyyaml() -> None:
    rng = random.Random(13)
    fast = 0
    for _ in range(6000):
        lines = [
            rng.choice(GOOD_FORMS if rng.random() < 0.95 else BAD_FORMS).format(
                k=rng.choice(KEYS), v=rng.choice(PLAIN if rng.random() < 0.6 else VALUES)
            )
            for _ in range(rng.randint(1, 5))
        ]
        text = "\n".join(lines) + rng.choice(["\n", "", "\n\n"])
        got = _yaml._flat(text)
        if got is None:
            continue
        fast += 1
        try:
            expected = full(text)
        except yaml.YAMLError as e:  # the fast reader must not accept what PyYAML refuses
            raise AssertionError(f"fast reader accepted invalid YAML {text!r}: {e}") from None
        assert repr(got) == repr(expected), text
    assert fast > 200  # the check above ran on many documents


def test_parse_meta_reads_r_float_api_version_and_big_sizes_on_the_fast_path() -> None:
    text = "file: a.csv\nfile_size: 3221225472.0\npin_hash: 1\ntype: csv\napi_version: 1.0\n"
    assert _yaml._flat(text) is not None
    meta = parse_meta(text.encode(), name="p", version="v")
    assert isinstance(meta, Meta)
    assert meta.file_size == 3221225472 and meta.api_version == 1 and meta.pin_hash == "1"
