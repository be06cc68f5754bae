"""The one path-safety rule: property tests of ``safe_relative`` and end-to-end refusals on
folder, S3 (SeaweedFS), URL (nginx) and Connect (emulator) boards, where the server's request
record shows that nothing outside the version folder was asked for."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import apins
from apins import InvalidMetadata
from apins._safe_path import safe_relative
from apins.testing.connect import ConnectEmulator
from tests.connect_support import USERS
from tests.faultproxy import FaultProxy
from tests.servers import NginxServer, S3Server

#: the names reported in issue 9, plus their relatives
HOSTILE = [
    "%2e%2e/%2e%2e/%2e%2e/secret.txt",
    "..%2f..%2fsecret.txt",
    "%252e%252e%252fsecret.txt",  # encoded twice
    "..%5csecret.txt",
    "..\\secret.txt",
    "../secret.txt",
    "a/../../secret.txt",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "C:/secret.txt",
    "c:secret.txt",
    "http://evil.example/secret.txt",
    "a//b.txt",
    "./a.txt",
    "a/.",
    "a\x00.txt",
    "a%00.txt",
    "a\nb.txt",
    "a?x=1",
    "a%3fx=1",
    "a#frag",
    "a%23frag",
    "\uff0e\uff0e/secret.txt",  # fullwidth dots: '..' after NFKC
    "%ef%bc%8e%ef%bc%8e%2fsecret.txt",
    "%c0%ae%c0%ae/secret.txt",  # overlong UTF-8 '.'
    "",
]
SAFE = ["data.csv", "sub/dir/file.parquet", "données.csv", "100% done.txt", "a b.txt", "..x"]

SEGMENT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12
)


def _decode_all(name: str) -> list[str]:
    forms = [name]
    while (nxt := unquote(forms[-1])) != forms[-1]:
        forms.append(nxt)
    return forms


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_refused_naming_what(name: str) -> None:
    with pytest.raises(InvalidMetadata) as info:
        safe_relative(name, what="data.txt of pin 'p'")
    assert "data.txt of pin 'p'" in str(info.value)
    assert "\x00" not in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("name", SAFE)
def test_plain_names_pass_unchanged(name: str) -> None:
    assert safe_relative(name, what="x") == name


def test_non_text_is_refused() -> None:
    with pytest.raises(InvalidMetadata, match="must be text"):
        safe_relative(["a"], what="x")  # type: ignore[arg-type]


@settings(max_examples=400, deadline=None)
@given(st.lists(SEGMENT, min_size=1, max_size=5).map("/".join))
def test_anything_accepted_stays_inside(name: str) -> None:
    """Whatever passes has, in every decoded form, only plain segments and no forbidden text."""
    try:
        out = safe_relative(name, what="x")
    except InvalidMetadata:
        return
    assert out == name
    for form in _decode_all(name):
        assert not form.startswith("/")
        assert not re.match(r"^[A-Za-z]:", form)
        assert not any(c in form for c in "\\?#\x00")
        assert all(ord(c) >= 32 and ord(c) != 127 for c in form)
        assert all(seg not in ("", ".", "..") for seg in form.split("/"))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b.txt", "dir"]), max_size=3),
    st.sampled_from(["..", ".", "", "\\", "?", "#", "\x00", "\x1f", "C:"]),
    st.lists(st.sampled_from(["a", "x.csv"]), max_size=3),
    st.integers(min_value=0, max_value=3),
)
def test_a_bad_part_is_refused_however_encoded(
    before: list[str], bad: str, after: list[str], times: int
) -> None:
    """A bad segment or character, percent-encoded 0-3 times, anywhere, is refused."""
    if bad == "C:":
        parts = [bad, *after]  # a drive only means something first
    elif bad in ("..", ".", ""):
        parts = [*before, bad, *after]
    else:
        parts = [*before, f"x{bad}y", *after]
    name = "/".join(parts)
    for _ in range(times):
        name = quote(name, safe="")
    with pytest.raises(InvalidMetadata):
        safe_relative(name, what="x")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="abcXYZ019-_. ", min_size=1, max_size=8), min_size=1, max_size=4))
def test_plain_segments_always_pass(segments: list[str]) -> None:
    name = "/".join(segments)
    if any(s in (".", "..") for s in segments):
        return
    assert safe_relative(name, what="x") == name


# -- end to end ----------------------------------------------------------------------------------

BAD_FILES = ["%2e%2e/%2e%2e/%2e%2e/secret.txt", "..%2f..%2fsecret.txt"]


def _tamper(data_txt: Path, bad: str) -> None:
    text = data_txt.read_text("utf-8")
    new = re.sub(r"^file: .*$", f"file: '{bad}'", text, count=1, flags=re.M)
    assert new != text
    data_txt.write_text(new, "utf-8")


@pytest.mark.parametrize("bad", BAD_FILES)
async def test_folder_board_refuses_before_touching_files(tmp_path: Path, bad: str) -> None:
    root = tmp_path / "a" / "b" / "c" / "board"
    async with apins.board_folder(root) as b:
        meta = await b.pin_write({"x": 1}, "p", type="json")
    (tmp_path / "secret.txt").write_text("top secret")
    (tmp_path / "a" / "secret.txt").write_text("top secret")
    _tamper(root / "p" / meta.version / "data.txt", bad)  # type: ignore[operator]
    async with apins.board_folder(root) as b:
        with pytest.raises(InvalidMetadata, match="secret"):
            await b.pin_read("p")
        with pytest.raises(InvalidMetadata):
            await b.pin_download("p")


@pytest.mark.parametrize("bad", BAD_FILES)
async def test_url_board_sends_no_request_outside(nginx: NginxServer, bad: str) -> None:
    name = f"sp-{uuid.uuid4().hex[:8]}"
    folder = nginx.root / name / "x" / "y" / "board"
    async with apins.board_folder(folder) as b:
        meta = await b.pin_write({"x": 1}, "p", type="json")
        await b.write_board_manifest()
    # the files the hostile names point at exist, so a request for them would succeed
    for d in (nginx.root / name, nginx.root / name / "x", nginx.root / name / "x" / "y"):
        (d / "secret.txt").write_text("top secret")
    _tamper(folder / "p" / meta.version / "data.txt", bad)  # type: ignore[operator]
    start = nginx.mark(f"/{name}/")
    async with apins.board_url(f"{nginx.url}/{name}/x/y/board/", cache=False) as b:
        with pytest.raises(InvalidMetadata, match="secret"):
            await b.pin_read("p")
    uris = [e.uri for e in nginx.entries_since(f"/{name}/", start)]
    assert any(u.endswith("/data.txt") for u in uris), uris
    assert not any("secret" in u for u in uris), uris


@pytest.mark.parametrize("bad", BAD_FILES)
async def test_s3_board_sends_no_request_outside(seaweed: S3Server, bad: str) -> None:
    bucket = seaweed.make_bucket()
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        async with seaweed.board(f"{bucket}/a/b/board", endpoint_url=proxy.url, cache=False) as b:
            meta = await b.pin_write({"x": 1}, "p", type="json")
            store = b.backend.store  # type: ignore[attr-defined]
            key = f"p/{meta.version}/data.txt"
            body = await b.backend.read_meta_raw("p", meta.version)  # type: ignore[attr-defined]
            new = re.sub(rb"^file: .*$", f"file: '{bad}'".encode(), body, count=1, flags=re.M)
            assert new != body
            await store.put_bytes(key, new)
        async with seaweed.board(f"{bucket}/a/b/board", endpoint_url=proxy.url, cache=False) as b:
            proxy.requests.clear()
            with pytest.raises(InvalidMetadata, match="secret"):
                await b.pin_read("p")
        paths = [r.path for r in proxy.requests]
        assert any("data.txt" in p for p in paths), paths
        assert not any("secret" in p for p in paths), paths


@pytest.mark.parametrize("bad", BAD_FILES)
async def test_connect_board_sends_no_keyed_request_outside(tmp_path: Path, bad: str) -> None:
    async with ConnectEmulator(root=tmp_path / "connect", users=USERS) as server:
        async with apins.board_connect(server.url, "key-a", cache=False) as b:
            await b.pin_write({"x": 1}, "pin", type="json")
        (data_txt,) = [p for p in (tmp_path / "connect").rglob("data.txt")]
        _tamper(data_txt, bad)
        async with FaultProxy(server.url) as proxy:
            async with apins.board_connect(proxy.url, "key-a", cache=False) as b:
                with pytest.raises(InvalidMetadata, match="secret"):
                    await b.pin_read("pin")
            paths = [r.path for r in proxy.requests]
            assert any(p.endswith("/data.txt") for p in paths), paths
            assert not any("secret" in p for p in paths), paths


async def test_mirror_skips_a_listed_key_that_fails_the_rule(tmp_path: Path) -> None:
    """A version folder whose name decodes to '..' is neither listed nor copied."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    async with apins.board_folder(src) as b:
        meta = await b.pin_write({"x": 1}, "p", type="json")
    good = src / "p" / meta.version  # type: ignore[operator]
    evil = src / "p" / "%2e%2e"
    evil.mkdir()
    for f in good.iterdir():
        (evil / f.name).write_bytes(f.read_bytes())
    async with apins.board_folder(src) as s, apins.board_folder(dst) as t:
        assert [v.version for v in await s.pin_versions("p")] == [meta.version]
        report = await apins.mirror(s, t)
    assert not report.failed
    assert sorted(p.name for p in (dst / "p").iterdir()) == [meta.version]


def test_plain_name_fast_path_agrees_with_the_full_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names the fast path lets through are exactly those the full check passes, among
    plain-looking ones; every other name still goes through the full check."""
    import random

    from apins import _safe_path

    rng = random.Random(13)
    alphabet = "aZ09_-./%\\:?#~ \x00é2e"
    names = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10))) for _ in range(4000)]
    names += ["C:", "a/..", "../a", "a//b", "a/.", ".a", "a.", "x/y.z", "%2e%2e", "a/b/"]

    def outcome(name: str) -> bool:
        try:
            _safe_path.safe_relative(name, what="a test name")
        except InvalidMetadata:
            return False
        return True

    fast = [outcome(n) for n in names]
    monkeypatch.setattr(_safe_path, "_PLAIN", re.compile(r"(?!)"))  # the full check only
    assert fast == [outcome(n) for n in names]
