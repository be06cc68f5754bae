"""The Connect emulator's API for clients other than pins: posit-sdk and rsconnect-python call
``include=``, ``tasks?wait=``, the permissions API (users and groups), the groups API and
``v1/server_settings/python``; pins-python deploys pin folders without ``index.html``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from apins.testing.connect import ConnectEmulator
from tests.test_connect_emulator import PIN_FILES, USERS, Api, make_bundle

GROUPS = {"analysts": ["bob", "carol"], "empty-group": []}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ConnectEmulator]:
    async with ConnectEmulator(root=tmp_path / "connect", users=USERS, groups=GROUPS) as srv:
        yield srv


@pytest.fixture
async def api(server: ConnectEmulator) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, server.url)


async def _guid_of(api: Api, user: str) -> str:
    found = await api.ok("GET", "/__api__/v1/users", params={"prefix": user})
    return str(found["results"][0]["guid"])


async def _group_guid(api: Api, name: str) -> str:
    found = await api.ok("GET", "/__api__/v1/groups", params={"prefix": name})
    return str(found["results"][0]["guid"])


async def test_static_bundle_without_its_primary_document_deploys(api: Api) -> None:
    files = {"data.txt": PIN_FILES["data.txt"], "x.csv": PIN_FILES["x.csv"]}
    content, bundle = await api.publish("no-index", files=files)
    guid = content["guid"]
    after = await api.ok("GET", f"/__api__/v1/content/{guid}")
    assert after["bundle_id"] == bundle["id"] and after["app_mode"] == "static"
    status, _, raw = await api.call("GET", f"/content/{guid}/_rev{bundle['id']}/data.txt")
    assert (status, raw) == (200, PIN_FILES["data.txt"])
    assert (await api.call("GET", f"/content/{guid}/"))[0] == 404


async def test_task_wait_returns_when_the_task_has_finished(api: Api) -> None:
    content = await api.create("slow-deploy")
    big = {**PIN_FILES, "big.bin": os.urandom(24 << 20)}
    bundle = await api.upload(content["guid"], make_bundle(big))
    started = await api.ok(
        "POST",
        f"/__api__/v1/content/{content['guid']}/deploy",
        json_body={"bundle_id": bundle["id"]},
    )
    task = await api.ok("GET", f"/__api__/v1/tasks/{started['task_id']}", params={"wait": "10"})
    assert task["finished"] is True and task["code"] == 0, task
    assert task["output"][-1] == "Launching static content..."


async def test_include_owner_tags_vanity_url_and_invalid_include(api: Api) -> None:
    content, _ = await api.publish("included")
    guid = content["guid"]
    one = await api.ok(
        "GET", f"/__api__/v1/content/{guid}", params={"include": "owner,tags,vanity_url"}
    )
    assert one["owner"]["username"] == "alice" and one["tags"] == []
    assert "vanity_url" not in one  # no vanity URL is set: Connect leaves the key out
    plain = await api.ok("GET", f"/__api__/v1/content/{guid}")
    assert "owner" not in plain and "tags" not in plain
    listed = await api.ok("GET", "/__api__/v1/content", params={"include": "tags,owner"})
    assert [(c["owner"]["username"], c["tags"]) for c in listed] == [("alice", [])]
    for path in ("/__api__/v1/content", f"/__api__/v1/content/{guid}"):
        status, body, _ = await api.call("GET", path, params={"include": "owner,bogus"})
        assert status == 400 and body["code"] == 12 and "bogus" in body["error"]


async def test_permission_get_put_and_group_acl(api: Api) -> None:
    content, bundle = await api.publish("shared")
    guid = content["guid"]
    rev = f"/content/{guid}/_rev{bundle['id']}/data.txt"
    assert (await api.call("GET", rev, user="carol"))[0] == 403
    group = await _group_guid(api, "analysts")
    perm = await api.ok(
        "POST",
        f"/__api__/v1/content/{guid}/permissions",
        json_body={"principal_guid": group, "principal_type": "group", "role": "viewer"},
    )
    assert (perm["principal_type"], perm["role"]) == ("group", "viewer")
    assert (await api.call("GET", rev, user="carol"))[0] == 200  # a member of analysts
    assert (await api.call("DELETE", f"/__api__/v1/content/{guid}", user="bob"))[0] == 403
    path = f"/__api__/v1/content/{guid}/permissions/{perm['id']}"
    assert await api.ok("GET", path) == perm
    body = {"principal_guid": group, "principal_type": "group", "role": "owner"}
    updated = await api.ok("PUT", path, json_body=body)
    assert updated == {**perm, "role": "owner"}
    assert (await api.ok("GET", f"/__api__/v1/content/{guid}", user="bob"))["app_role"] == "editor"
    status, err, _ = await api.call("PUT", path, json_body={**body, "role": "boss"})
    assert (status, err["code"]) == (400, 12)
    status, err, _ = await api.call("PUT", path, user="carol", json_body=body)  # viewer role
    assert status == 403
    missing = f"/__api__/v1/content/{guid}/permissions/999"
    assert (await api.call("GET", missing))[0] == 404
    assert (await api.call("PUT", missing, json_body=body))[0] == 404
    await api.ok("DELETE", path)
    assert (await api.call("GET", rev, user="carol"))[0] == 403


async def test_groups_api(api: Api) -> None:
    page = await api.ok("GET", "/__api__/v1/groups")
    assert [g["name"] for g in page["results"]] == ["analysts", "empty-group"]
    assert (page["total"], page["current_page"]) == (2, 1)
    guid = await _group_guid(api, "ana")
    assert (await api.ok("GET", f"/__api__/v1/groups/{guid}"))["name"] == "analysts"
    members = await api.ok("GET", f"/__api__/v1/groups/{guid}/members")
    assert [u["username"] for u in members["results"]] == ["bob", "carol"]
    assert (await api.call("GET", "/__api__/v1/groups/not-a-guid"))[0] == 400


async def test_runtime_settings_answer_no_installations(api: Api) -> None:
    for runtime in ("python", "r", "quarto", "nodejs"):
        doc = await api.ok("GET", f"/__api__/v1/server_settings/{runtime}")
        assert doc["installations"] == []
    assert (await api.call("GET", "/__api__/v1/server_settings/python", user=None))[0] == 401


def test_unknown_group_member_is_refused(tmp_path: Path) -> None:
    import asyncio

    async def start() -> None:
        async with ConnectEmulator(tmp_path, users=USERS, groups={"g": ["nobody"]}):
            pass

    with pytest.raises(ValueError, match="nobody"):
        asyncio.run(start())
