"""The first Python pins package's calls: pin_rsconnect / pin_get_rsconnect, and boards that meet
the JSON content they wrote."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

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


def test_boards_skip_legacy_json_content_with_a_warning(
    server: ConnectEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.warns(DeprecationWarning):
        pin_rsconnect(DF, "old_json_pin", "Old", server.url, "key-a")
    with sync.board_connect(server.url, "key-a", cache=False) as board:
        board.pin_write({"a": 1}, "new-pin", type="json", title="new")
        with caplog.at_level(logging.WARNING):
            found = board.pin_search()
            names = board.pin_list()
        assert [m.name for m in found] == ["alice/new-pin"]
        assert "Skipping pin alice/old_json_pin" in caplog.text
        assert "first Python pins package" in caplog.text
        # pin_list reads no data.txt, so it names the legacy item (it is pin content)
        assert names == ["alice/new-pin", "alice/old_json_pin"]
        assert board.pin_read("alice/new-pin") == {"a": 1}
        with pytest.raises(PinsError, match="pin_get_rsconnect"):
            board.pin_meta("alice/old_json_pin")
