"""posit-sdk (Posit's Python SDK for Connect), unmodified, against the Connect emulator.

A smoke suite of what a Connect user scripts with the SDK: who am I, users, content, bundles,
deploy with ``task.wait_for()``, permissions for users and groups, and cleaning up.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from apins.testing.connect import ConnectEmulator, run_in_thread
from tests._helpers import required

connect = required("posit.connect", "posit-sdk")

USERS: dict[str, str | tuple[str, str]] = {
    "alice": "sdk-key-a",
    "bob": "sdk-key-b",
    "carol": ("sdk-key-c", "viewer"),
}
GROUPS = {"analysts": ["bob", "carol"]}


def _site(files: dict[str, bytes]) -> bytes:
    manifest = {
        "version": 1,
        "metadata": {"appmode": "static", "primary_html": "index.html"},
        "files": {name: {"checksum": ""} for name in files},
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in {**files, "manifest.json": json.dumps(manifest).encode()}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ConnectEmulator]:
    with run_in_thread(root=tmp_path / "connect", users=USERS, groups=GROUPS) as srv:
        yield srv


@pytest.fixture
def client(server: ConnectEmulator) -> Any:
    return connect.Client(url=server.url, api_key="sdk-key-a")


def test_me_users_and_version(client: Any) -> None:
    assert client.me["username"] == "alice"
    assert client.version == "2024.09.0"
    names = sorted(u["username"] for u in client.users.find())
    assert names == ["alice", "bob", "carol"]
    bob = client.users.find_one(prefix="bo")
    assert bob["username"] == "bob"
    assert client.users.get(bob["guid"])["username"] == "bob"
    assert client.users.count() == 3


def test_content_bundle_deploy_wait_for_and_serve(client: Any, server: ConnectEmulator) -> None:
    item = client.content.create(name="sdk-site", title="SDK site", access_type="acl")
    assert (item["name"], item["access_type"], item["bundle_id"]) == ("sdk-site", "acl", None)
    bundle = item.bundles.create(_site({"index.html": b"<h1>v1</h1>"}))
    task = bundle.deploy()
    task.wait_for()
    assert task["finished"] is True and task["code"] == 0
    item = client.content.get(item["guid"])
    assert item["bundle_id"] == bundle["id"] and item["app_mode"] == "static"
    assert item["owner"]["username"] == "alice" and item["tags"] == []
    page = requests.get(item["content_url"], headers={"Authorization": "Key sdk-key-a"}, timeout=30)
    assert page.text == "<h1>v1</h1>"

    second = item.bundles.create(_site({"index.html": b"<h1>v2</h1>"}))
    item.deploy().wait_for()  # deploys the newest bundle
    assert {b["id"] for b in item.bundles.find()} == {bundle["id"], second["id"]}
    out = io.BytesIO()
    second.download(out)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        assert tar.extractfile("index.html").read() == b"<h1>v2</h1>"  # type: ignore[union-attr]

    item.update(title="Renamed", access_type="logged_in")
    again = client.content.get(item["guid"])
    assert (again["title"], again["access_type"]) == ("Renamed", "logged_in")
    assert [c["guid"] for c in client.content.find(include="owner")] == [item["guid"]]
    assert client.content.find_one(name="sdk-site")["guid"] == item["guid"]


def test_permissions_for_users_and_groups(client: Any, server: ConnectEmulator) -> None:
    item = client.content.create(name="sdk-private")
    task = item.bundles.create(_site({"index.html": b"secret"})).deploy()
    task.wait_for()
    url = client.content.get(item["guid"])["content_url"]

    def status_as(key: str) -> int:
        return requests.get(url, headers={"Authorization": f"Key {key}"}, timeout=30).status_code

    assert status_as("sdk-key-b") == 403
    bob = client.users.find_one(prefix="bob")
    perm = item.permissions.create(bob, role="viewer")
    assert (perm["principal_type"], perm["role"]) == ("user", "viewer")
    assert status_as("sdk-key-b") == 200
    perm.update(role="owner")
    assert item.permissions.get(perm["id"])["role"] == "owner"
    assert status_as("sdk-key-c") == 403
    group = next(g for g in client.groups.find() if g["name"] == "analysts")
    item.permissions.create(group, role="viewer")
    assert status_as("sdk-key-c") == 200
    assert item.permissions.count() == 2
    item.permissions.destroy(bob)
    item.permissions.destroy(group)
    assert item.permissions.find() == []
    assert status_as("sdk-key-c") == 403


def test_delete_content_and_failed_deploy(client: Any) -> None:
    item = client.content.create(name="sdk-doomed")
    bad = item.bundles.create(b"not a tarball")
    task = bad.deploy()
    task.wait_for()
    assert task["finished"] is True and task["code"] == 1 and "gzip" in task["error"]
    item.delete()
    assert client.content.find() == []
