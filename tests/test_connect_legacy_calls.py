"""The first Python pins package's calls: pin_rsconnect / pin_get_rsconnect, and boards that meet
the JSON content they wrote."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import anyio
import pandas as pd
import pytest

from apins import sync
from apins.connect import pin_get_rsconnect, pin_rsconnect
from apins.errors import PinsError
from apins.testing.connect import ConnectEmulator, run_in_thread
from tests.connect_support import USERS

DF = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]})


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ConnectEmulator]:
    with run_in_thread(root=tmp_path / "connect", users=USERS) as srv:
        yield srv


def _sync_api(url: str, key: str, path: str) -> object:
    import requests

    r = requests.get(f"{url}/__api__/{path}", headers={"Authorization": f"Key {key}"}, timeout=30)
    r.raise_for_status()
    return r.json() if r.content else None


def _bundle_members(url: str, key: str, guid: str, bid: str) -> dict[str, bytes]:
    import io
    import tarfile

    import requests

    r = requests.get(
        f"{url}/__api__/v1/content/{guid}/bundles/{bid}/download",
        headers={"Authorization": f"Key {key}"},
        timeout=30,
    )
    r.raise_for_status()
    with tarfile.open(fileobj=io.BytesIO(r.content)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def test_pin_rsconnect_deploys_json_static_content_and_reuses_it(server: ConnectEmulator) -> None:
    with pytest.warns(DeprecationWarning, match="pin_write"):
        urls = pin_rsconnect(DF, "my_pin_7788", "Python Pin", server.url, "key-a")
    assert set(urls) == {"dash_url", "content_url"}
    [content] = _sync_api(server.url, "key-a", "v1/content?name=my_pin_7788")  # type: ignore[misc]
    assert urls == {"dash_url": content["dashboard_url"], "content_url": content["content_url"]}
    assert (content["access_type"], content["title"]) == ("acl", "Python Pin")
    assert (content["app_mode"], content["content_category"]) == ("static", "pin")
    files = _bundle_members(server.url, "key-a", content["guid"], content["bundle_id"])
    assert files["data.txt"] == DF.to_json().encode()
    assert b"Python Pin" in files["index.html"]
    manifest = json.loads(files["manifest.json"])
    assert manifest["metadata"]["appmode"] == "static"
    assert manifest["metadata"]["content_category"] == "pin"

    with pytest.warns(DeprecationWarning, match="pin_read"):
        got = pin_get_rsconnect(urls["content_url"], "key-a")
    assert got == json.loads(DF.to_json())
    assert pd.DataFrame(got).reset_index(drop=True).equals(DF)

    changed = DF.assign(x=[7, 8, 9])
    with pytest.warns(DeprecationWarning):
        again = pin_rsconnect(changed, "my_pin_7788", "Python Pin", server.url, "key-a")
    assert again == urls  # the same content item, found by name
    assert len(_sync_api(server.url, "key-a", "v1/content")) == 1  # type: ignore[arg-type]
    with pytest.warns(DeprecationWarning):
        assert pin_get_rsconnect(urls["content_url"], "key-a")["x"] == {"0": 7, "1": 8, "2": 9}


def test_pin_get_rsconnect_errors(server: ConnectEmulator) -> None:
    with pytest.warns(DeprecationWarning):
        urls = pin_rsconnect(DF, "private_pin", "Private", server.url, "key-a")
    with pytest.warns(DeprecationWarning), pytest.raises(PinsError):
        pin_get_rsconnect(urls["content_url"], None)  # acl content needs a key
    with pytest.warns(DeprecationWarning), pytest.raises(PinsError):
        pin_get_rsconnect(urls["content_url"], "key-b")  # bob is not on the ACL
    with pytest.warns(DeprecationWarning), pytest.raises(PinsError, match="needs a content URL"):
        pin_get_rsconnect("ftp://example/content/x", "key-a")
    with pytest.warns(DeprecationWarning), pytest.raises(PinsError, match="to_json"):
        pin_rsconnect(object(), "nope", "Nope", server.url, "key-a")


LEGACY_HINT = "apins.connect.pin_get_rsconnect"


def _legacy_warnings(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING
            and name in r.getMessage()]  # fmt: skip


def test_boards_skip_legacy_json_content_with_a_warning(
    server: ConnectEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.warns(DeprecationWarning):
        pin_rsconnect(DF, "old_json_pin", "Old", server.url, "key-a")
    with sync.board_connect(server.url, "key-a", cache=False) as board:
        board.pin_write({"a": 1}, "new-pin", type="json", title="new")
        with caplog.at_level(logging.WARNING):
            names = board.pin_list()
        assert names == ["alice/new-pin"]
        [warning] = _legacy_warnings(caplog, "alice/old_json_pin")  # one, naming it
        assert "first Python pins package" in warning
        assert LEGACY_HINT in warning
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            found = board.pin_search()
        assert [m.name for m in found] == ["alice/new-pin"]
        [warning] = _legacy_warnings(caplog, "alice/old_json_pin")
        assert LEGACY_HINT in warning
        assert board.pin_read("alice/new-pin") == {"a": 1}


@pytest.mark.parametrize("name", ["alice/old_json_pin", "old_json_pin"])
def test_direct_calls_on_legacy_content_say_what_it_is(server: ConnectEmulator, name: str) -> None:
    with pytest.warns(DeprecationWarning):
        urls = pin_rsconnect(DF, "old_json_pin", "Old", server.url, "key-a")
    with sync.board_connect(server.url, "key-a", cache=False) as board:
        for call in (board.pin_read, board.pin_meta, board.pin_versions):
            with pytest.raises(PinsError) as err:
                call(name)
            msg = str(err.value)
            assert "alice/old_json_pin" in msg, (call, msg)
            assert "first Python pins package" in msg, (call, msg)
            assert LEGACY_HINT in msg, (call, msg)
        with pytest.raises(PinsError, match="first Python pins package"):
            board.pin_write({"a": 1}, name, type="json")  # never replaces the old content
    with pytest.warns(DeprecationWarning):
        assert pin_get_rsconnect(urls["content_url"], "key-a") == json.loads(DF.to_json())
    with sync.board_connect(server.url, "key-a", cache=False) as board:
        assert board.pin_exists(name)  # the name is taken: a board can still delete it
        board.pin_delete(name)
        assert not board.pin_exists(name)
    assert _sync_api(server.url, "key-a", "v1/content?name=old_json_pin") == []


def test_mirror_from_connect_skips_legacy_content(
    server: ConnectEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.warns(DeprecationWarning):
        pin_rsconnect(DF, "old_json_pin", "Old", server.url, "key-a")
    with (
        sync.board_connect(server.url, "key-a", cache=False) as src,
        sync.board_folder(tmp_path / "copy") as dst,
    ):
        src.pin_write({"a": 1}, "new-pin", type="json")
        with caplog.at_level(logging.WARNING):
            report = sync.mirror(src, dst)
        assert report.ok, report.failed
        assert dst.pin_list() == ["new-pin"]  # a folder board's names have no owner
        assert dst.pin_read("new-pin") == {"a": 1}
        assert len(_legacy_warnings(caplog, "alice/old_json_pin")) == 1


async def test_listing_reads_only_the_head_of_a_big_legacy_data_txt(
    server: ConnectEmulator,
) -> None:
    from apins.connect import board_connect
    from tests.faultproxy import FaultProxy

    big = pd.DataFrame({"x": range(400_000), "y": ["some text"] * 400_000})
    with pytest.warns(DeprecationWarning):
        await anyio.to_thread.run_sync(
            pin_rsconnect, big, "big_json_pin", "Big", server.url, "key-a"
        )
    size = len(big.to_json())
    assert size > 8_000_000
    async with FaultProxy(server.url) as proxy, board_connect(proxy.url, "key-a") as board:
        assert await board.pin_list() == []
        assert await board.pin_search() == []
        got = [r for r in proxy.requests if r.path.endswith("/data.txt")]
        assert got, "the listing looked at data.txt"
        assert sum(r.body_sent for r in got) < size // 4, [r.body_sent for r in got]


def test_pins_python_lists_legacy_content_and_fails_on_it(server: ConnectEmulator) -> None:
    """What pins-python 0.9.2 does on the same server: it lists the legacy item and fails
    when it reads it (KeyError in 0.9.2); apins leaves it out and explains."""
    import pins

    with pytest.warns(DeprecationWarning):
        pin_rsconnect(DF, "old_json_pin", "Old", server.url, "key-a")
    theirs = pins.board_connect(server_url=server.url, api_key="key-a", cache=None)
    theirs.pin_write({"a": 1}, "alice/new-pin", type="json")
    assert sorted(theirs.pin_list()) == ["alice/new-pin", "alice/old_json_pin"]
    with pytest.raises(Exception) as err:
        theirs.pin_search()
    assert not isinstance(err.value, PinsError)
    with sync.board_connect(server.url, "key-a", cache=False) as ours:
        assert ours.pin_list() == ["alice/new-pin"]
        assert [m.name for m in ours.pin_search()] == ["alice/new-pin"]
        assert ours.pin_read("alice/new-pin") == theirs.pin_read("alice/new-pin")
