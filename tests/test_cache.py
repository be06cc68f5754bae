"""The local cache: layout, atomic commits, validated entries, pruning."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from apins.cache import Cache, default_cache_root


def test_root_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINS_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_root() == tmp_path / "c"
    assert Cache().root == tmp_path / "c"


def test_boards_are_separated_by_identity(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    a = cache.board_dir("s3:aws/bucket/a")
    b = cache.board_dir("s3:aws/bucket/b")
    assert a != b and a.name.startswith("s3-") and b.parent == tmp_path


def test_commit_is_atomic_and_read_only(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    ident = "s3:x/b"
    assert cache.lookup(ident, "p", "v1", "p.csv") is None
    tmp = cache.temp_path(ident)
    tmp.write_bytes(b"a,b\n1,2\n")
    # a temp file is never visible under the entry's name
    assert cache.lookup(ident, "p", "v1", "p.csv") is None
    final = cache.commit(tmp, ident, "p", "v1", "p.csv")
    assert cache.lookup(ident, "p", "v1", "p.csv") == final
    assert final.read_bytes() == b"a,b\n1,2\n"
    assert not os.access(final, os.W_OK) or os.geteuid() == 0
    assert not tmp.exists()
    cache.put_bytes(ident, "p", "v1", "data.txt", b"file: p.csv\n")
    assert cache.cached_versions(ident, "p") == ["v1"]
    assert cache.cached_pins(ident) == ["p"]


def test_has_cached_version_needs_a_cached_data_txt(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    ident = "s3:x/b"
    assert not cache.has_cached_version(ident, "p")  # no board folder yet
    cache.put_bytes(ident, "p", "v1", "p.csv", b"a,b\n")  # a file, but no data.txt
    (cache.board_dir(ident) / "p" / ".hidden").mkdir()
    assert not cache.has_cached_version(ident, "p")
    cache.put_bytes(ident, "p", "v2", "data.txt", b"x: 1\n")
    assert cache.has_cached_version(ident, "p")
    assert not cache.has_cached_version(ident, "q")
    assert cache.cached_versions(ident, "p") == ["v2"]


@pytest.mark.parametrize("bad", ["..", "a/b", "", "."])
def test_unsafe_components_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError):
        Cache(tmp_path).version_dir("x:y", bad, "v")


def test_validated_entries(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    assert cache.get_validated("http:h", "http://h/_pins.yaml") is None
    entry = cache.put_validated("http:h", "http://h/_pins.yaml", b"x: []\n", '"e1"', None)
    got = cache.get_validated("http:h", "http://h/_pins.yaml")
    assert got is not None and got.etag == '"e1"' and got.path.read_bytes() == b"x: []\n"
    before = entry.fetched_at
    cache.refresh_validated("http:h", "http://h/_pins.yaml")
    again = cache.get_validated("http:h", "http://h/_pins.yaml")
    assert again is not None and again.fetched_at >= before


def test_prune_by_age_and_size(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    ident = "s3:x/b"
    old = time.time() - 40 * 86400
    for i, age in enumerate([old, old + 10, time.time()]):
        cache.put_bytes(ident, "p", f"v{i}", "data.txt", b"m")
        cache.put_bytes(ident, "p", f"v{i}", "f.bin", b"x" * 1000)
        os.utime(cache.file_path(ident, "p", f"v{i}", "data.txt"), (age, age))
    result = cache.prune(days=30)
    assert sorted(p.name for p in result.removed) == ["v0", "v1"]
    assert cache.cached_versions(ident, "p") == ["v2"]
    cache.put_bytes(ident, "q", "w", "data.txt", b"m")
    cache.put_bytes(ident, "q", "w", "big", b"y" * 5000)
    result = cache.prune(max_bytes=6000)  # least recently used goes first
    assert [p.name for p in result.removed] == ["v2"]
    assert cache.cached_versions(ident, "q") == ["w"]
    assert result.freed_bytes == 1001


def test_public_prune_and_info(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import apins

    monkeypatch.setenv("PINS_CACHE_DIR", str(tmp_path))
    cache = Cache()
    cache.put_bytes("s3:x/b", "p", "v", "data.txt", b"m")
    cache.put_bytes("s3:x/b", "p", "v", "f", b"x" * 100)
    assert sum(apins.cache_info().values()) == 101
    with pytest.raises(ValueError):
        apins.cache_prune()
    result = apins.cache_prune(max_bytes=0)
    assert result.freed_bytes == 101
    assert cache.cached_versions("s3:x/b", "p") == []
