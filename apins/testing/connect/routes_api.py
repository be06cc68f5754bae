"""Handlers for ``/__api__/...`` and ``/__ping__`` (spec §8.2)."""

from __future__ import annotations

import asyncio
import re
import socket
import uuid
from typing import Any

import msgspec
from aiohttp import web

from . import errors, render, timefmt
from .core import Core, parse_guid
from .models import ACCESS_TYPES, BundleRecord, ContentRecord, UserRecord
from .settings_doc import server_settings
from .store import ArchiveWriter
from .tasks import TaskRunner

CORE = web.AppKey("core", Core)
TASKS = web.AppKey("tasks", TaskRunner)
# The authenticated user of a request (None: anonymous). RequestKey exists from aiohttp 3.12 on.
USER: Any = getattr(web, "RequestKey", lambda name, _t: name)("user", object)

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{3,64}$")
_UPLOAD_CHUNK = 1 << 20
_MAX_TASK_WAIT = 10.0


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON response with Connect's content type."""
    return web.Response(
        body=msgspec.json.encode(data),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )


def base_url(request: web.Request) -> str:
    """The server URL as the client reached it (used for content_url and dashboard_url)."""
    # The Host header, not request.host: for an absolute-form target (a client talking through
    # an HTTP proxy) aiohttp's request.host drops the port.
    return f"{request.scheme}://{request.headers.get('Host') or request.host}"


def current_user(request: web.Request) -> UserRecord:
    """The authenticated user (the auth middleware guarantees one on API routes)."""
    user: UserRecord | None = request.get(USER)
    if user is None:
        raise errors.unauthenticated()
    return user


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object (empty body → {}), else ApiError 400."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        doc = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise errors.bad_request("The request body is not valid JSON.") from None
    if not isinstance(doc, dict):
        raise errors.bad_request("The request body must be a JSON object.")
    return doc


def int_param(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    """Integer query parameter ``name`` clamped to [lo, hi]; not an integer → ApiError 400."""
    text = request.query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise errors.bad_request(f"The parameter '{name}' must be an integer.") from None
    return max(lo, min(hi, value))


# misc ---------------------------------------------------------------------------------------


async def ping(request: web.Request) -> web.Response:
    """``GET /__ping__`` → ``{}`` (no authentication)."""
    return json_response({})


async def get_server_settings(request: web.Request) -> web.Response:
    """``GET /__api__/server_settings`` (no authentication, as on Connect)."""
    return json_response(server_settings(socket.gethostname()))


async def get_runtime_settings(request: web.Request) -> web.Response:
    """``GET /__api__/v1/server_settings/{python,r,quarto,nodejs}``: no runtimes installed."""
    current_user(request)
    return json_response({"installations": [], "api_enabled": False})


# users ----------------------------------------------------------------------------------------


async def get_current_user_v0(request: web.Request) -> web.Response:
    """``GET /__api__/users/current/`` and ``/__api__/me``: the v0 user record."""
    return json_response(render.user_v0(current_user(request)))


async def get_current_user(request: web.Request) -> web.Response:
    """``GET /__api__/v1/user``."""
    return json_response(render.user_v1(current_user(request)))


async def get_user(request: web.Request) -> web.Response:
    """``GET /__api__/v1/users/{guid}``."""
    current_user(request)
    guid = parse_guid(request.match_info["guid"])
    user = request.app[CORE].state.users.get(guid)
    if user is None:
        raise errors.not_found()
    return json_response(render.user_v1(user))


async def list_users(request: web.Request) -> web.Response:
    """``GET /__api__/v1/users?prefix=&page_number=&page_size=``: one page, ordered by name."""
    current_user(request)
    prefix = request.query.get("prefix", "").lower()
    page = int_param(request, "page_number", 1, 1, 1 << 30)
    size = int_param(request, "page_size", 20, 1, 500)
    role = request.query.get("user_role")
    users = sorted(request.app[CORE].state.users.values(), key=lambda u: u.username)
    matched = [
        u
        for u in users
        if (not prefix or u.username.lower().startswith(prefix))
        and (not role or u.user_role in role.split("|"))
    ]
    chunk = matched[(page - 1) * size : page * size]
    return json_response(
        {"results": [render.user_v1(u) for u in chunk], "current_page": page, "total": len(matched)}
    )


# content --------------------------------------------------------------------------------------


_INCLUDES = ("owner", "tags", "vanity_url")


def _includes(request: web.Request) -> set[str]:
    """The ``include`` query parameter (comma-separated); an unknown value is ApiError 400."""
    parts = {p.strip() for p in request.query.get("include", "").split(",")} - {""}
    bad = sorted(parts - set(_INCLUDES))
    if bad:
        raise errors.bad_request(
            f"The 'include' parameter value '{bad[0]}' is invalid; "
            f"allowed values are {', '.join(_INCLUDES)}."
        )
    return parts


def _content_json(
    request: web.Request, content: ContentRecord, include: set[str] | None = None
) -> dict[str, Any]:
    core = request.app[CORE]
    role = core.app_role(request.get(USER), content)
    out = render.content_v1(content, base_url(request), role)
    if include and "owner" in include:
        out["owner"] = render.owner_summary(core.state.users[content.owner_guid])
    if include and "tags" in include:
        out["tags"] = []  # tags are not emulated; vanity URLs neither (the key is then absent)
    return out


def _check_title(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise errors.bad_request("The field 'title' must be a string.")


def _check_description(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise errors.bad_request("The field 'description' must be a string.")


def _check_access_type(value: Any) -> str:
    if value not in ACCESS_TYPES:
        raise errors.bad_request(
            f"The field 'access_type' must be one of {', '.join(ACCESS_TYPES)}."
        )
    return str(value)


def _check_name(value: Any) -> str:
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise errors.bad_name()
    return value


async def list_content(request: web.Request) -> web.Response:
    """``GET /__api__/v1/content?name=&owner_guid=&include=owner``: visible items, oldest first."""
    user = current_user(request)
    core = request.app[CORE]
    name = request.query.get("name")
    owner = request.query.get("owner_guid")
    owner_guid = parse_guid(owner) if owner else None
    include = _includes(request)
    out = []
    for c in sorted(core.state.content.values(), key=lambda c: c.id):
        if name is not None and c.name != name:
            continue
        if owner_guid is not None and c.owner_guid != owner_guid:
            continue
        if not core.can_view(user, c):
            continue
        out.append(_content_json(request, c, include))
    return json_response(out)


async def create_content(request: web.Request) -> web.Response:
    """``POST /__api__/v1/content``: create an item owned by the caller (publishers only)."""
    user = current_user(request)
    core = request.app[CORE]
    if user.user_role == "viewer":
        raise errors.no_permission()
    body = await json_body(request)
    name = _check_name(body.get("name"))
    access_type = _check_access_type(body.get("access_type", "acl"))
    title = _check_title(body.get("title"))
    description = _check_description(body.get("description"))
    if core.name_taken(user.guid, name):
        raise errors.name_taken()
    stamp = timefmt.now()
    content = ContentRecord(
        guid=str(uuid.uuid4()),
        id=core.state.next_content_id,
        name=name,
        title=title,
        description=description,
        access_type=access_type,
        owner_guid=user.guid,
        created_time=stamp,
        last_deployed_time=stamp,
    )
    core.state.next_content_id += 1
    core.state.content[content.guid] = content
    await core.save()
    return json_response(_content_json(request, content))


async def get_content(request: web.Request) -> web.Response:
    """``GET /__api__/v1/content/{guid}``."""
    core = request.app[CORE]
    include = _includes(request)
    content = core.content_for(request.match_info["guid"], current_user(request), edit=False)
    return json_response(_content_json(request, content, include))


async def patch_content(request: web.Request) -> web.Response:
    """``PATCH /__api__/v1/content/{guid}``: change name/title/description/access_type."""
    user = current_user(request)
    core = request.app[CORE]
    content = core.content_for(request.match_info["guid"], user, edit=True)
    body = await json_body(request)
    name = _check_name(body["name"]) if "name" in body else content.name
    access_type = (
        _check_access_type(body["access_type"]) if "access_type" in body else content.access_type
    )
    title = _check_title(body["title"]) if "title" in body else content.title
    description = (
        _check_description(body["description"]) if "description" in body else content.description
    )
    if name != content.name and core.name_taken(content.owner_guid, name, except_guid=content.guid):
        raise errors.name_taken()
    content.name, content.access_type = name, access_type
    content.title, content.description = title, description
    await core.save()
    return json_response(_content_json(request, content))


async def delete_content(request: web.Request) -> web.Response:
    """``DELETE /__api__/v1/content/{guid}``: the item, its bundles and ACL; 204, empty body."""
    core = request.app[CORE]
    content = core.content_for(request.match_info["guid"], current_user(request), edit=True)
    state = core.state
    del state.content[content.guid]
    doomed = [b.id for b in state.bundles.values() if b.content_guid == content.guid]
    for bid in doomed:
        del state.bundles[bid]
    for pid in [p.id for p in state.permissions.values() if p.content_guid == content.guid]:
        del state.permissions[pid]
    await core.save()
    for bid in doomed:
        await core.store.remove_bundle_files(bid)
    return web.Response(status=204)


# bundles --------------------------------------------------------------------------------------


async def list_bundles(request: web.Request) -> web.Response:
    """``GET /__api__/v1/content/{guid}/bundles``: a plain array, newest first (no pagination)."""
    core = request.app[CORE]
    content = core.content_for(request.match_info["guid"], current_user(request), edit=False)
    return json_response([render.bundle_v1(b, content.bundle_id) for b in core.bundles_of(content)])


async def get_bundle(request: web.Request) -> web.Response:
    """``GET /__api__/v1/content/{guid}/bundles/{id}``."""
    core = request.app[CORE]
    content = core.content_for(request.match_info["guid"], current_user(request), edit=False)
    bundle = core.bundle_of(content, request.match_info["bundle_id"])
    return json_response(render.bundle_v1(bundle, content.bundle_id))


async def upload_bundle(request: web.Request) -> web.Response:
    """``POST /__api__/v1/content/{guid}/bundles``: store the raw body as a new bundle."""
    core = request.app[CORE]
    content = core.content_for(request.match_info["guid"], current_user(request), edit=True)
    bundle_id = core.state.next_bundle_id
    core.state.next_bundle_id += 1
    writer = ArchiveWriter(core.store.archive_path(bundle_id))
    await asyncio.to_thread(writer.open)
    try:
        while True:
            chunk = await request.content.read(_UPLOAD_CHUNK)
            if not chunk:
                break
            await asyncio.to_thread(writer.write, chunk)
        if writer.size == 0:
            raise errors.bad_request("The bundle archive is empty.")
        await asyncio.to_thread(writer.commit)
    except BaseException:
        await asyncio.to_thread(writer.abort)
        raise
    if content.guid not in core.state.content:  # deleted while uploading
        await core.store.remove_bundle_files(bundle_id)
        raise errors.not_found()
    bundle = BundleRecord(
        id=bundle_id,
        content_guid=content.guid,
        created_time=timefmt.now(),
        size=writer.size,
        archive_md5=writer.md5.hexdigest(),
        archive_sha1=writer.sha1.hexdigest(),
    )
    core.state.bundles[bundle_id] = bundle
    await core.save()
    return json_response(render.bundle_v1(bundle, content.bundle_id))


async def delete_bundle(request: web.Request) -> web.Response:
    """``DELETE /__api__/v1/content/{guid}/bundles/{id}``: 204; the active bundle → code 75."""
    core = request.app[CORE]
    content = core.content_for(request.match_info["guid"], current_user(request), edit=True)
    bundle = core.bundle_of(content, request.match_info["bundle_id"])
    if bundle.id == content.bundle_id:
        raise errors.active_bundle()
    del core.state.bundles[bundle.id]
    await core.save()
    await core.store.remove_bundle_files(bundle.id)
    return web.Response(status=204)


async def download_bundle(request: web.Request) -> web.StreamResponse:
    """``GET /__api__/v1/content/{guid}/bundles/{id}/download``: the archive (collaborators)."""
    core = request.app[CORE]
    content = core.content_for(request.match_info["guid"], current_user(request), edit=True)
    bundle = core.bundle_of(content, request.match_info["bundle_id"])
    return web.FileResponse(
        core.store.archive_path(bundle.id),
        headers={
            "Content-Type": "application/x-gzip",
            "Content-Disposition": f'attachment; filename="bundle-{bundle.id}.tar.gz"',
        },
    )


async def deploy(request: web.Request) -> web.Response:
    """``POST /__api__/v1/content/{guid}/deploy`` ``{"bundle_id": id}`` → 202 ``{"task_id"}``."""
    user = current_user(request)
    core = request.app[CORE]
    content = core.content_for(request.match_info["guid"], user, edit=True)
    body = await json_body(request)
    raw = body.get("bundle_id")
    if raw is None:
        candidates = core.bundles_of(content)
        if content.bundle_id is not None:
            bundle = core.state.bundles[content.bundle_id]
        elif candidates:
            bundle = candidates[0]
        else:
            raise errors.not_found()
    elif isinstance(raw, (str, int)) and not isinstance(raw, bool):
        bundle = core.bundle_of(content, str(raw))
    else:
        raise errors.bad_request("The field 'bundle_id' must be a string.")
    task = request.app[TASKS].start_deploy(user.guid, content.guid, bundle.id)
    return json_response({"task_id": task.id}, status=202)


# tasks ----------------------------------------------------------------------------------------


async def get_task(request: web.Request) -> web.Response:
    """``GET /__api__/v1/tasks/{id}?first=&wait=``: output from ``first``; waits ≤ ``wait`` s."""
    user = current_user(request)
    core = request.app[CORE]
    task = core.state.tasks.get(request.match_info["task_id"])
    if task is None or (task.user_guid != user.guid and user.user_role != "administrator"):
        raise errors.not_found()
    first = int_param(request, "first", 0, 0, 1 << 30)
    wait = int_param(request, "wait", 0, 0, 1 << 30)
    await request.app[TASKS].wait(task, min(float(wait), _MAX_TASK_WAIT))
    return json_response(render.task_v1(task, first))


# v0 applications -------------------------------------------------------------------------------


def _filters(request: web.Request) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in request.query.getall("filter", []):
        for part in raw.split(","):
            key, sep, value = part.partition(":")
            if not sep or key not in ("content_type", "account_id"):
                raise errors.bad_filter(f"The requested filter could not be applied: '{part}'.")
            out[key] = value
    return out


async def list_applications(request: web.Request) -> web.Response:
    """``GET /__api__/applications?filter=content_type:pin&search=&count=&start=`` (v0).

    Visible items whose category matches ``content_type`` and whose name contains ``search``
    (case-insensitive), oldest first; ``count`` (≤ 1000, default 25) from offset ``start``.
    """
    user = current_user(request)
    core = request.app[CORE]
    filters = _filters(request)
    search = request.query.get("search", "").lower()
    count = int_param(request, "count", 25, 0, 1000)
    start = int_param(request, "start", 0, 0, 1 << 30)
    owner_id = filters.get("account_id")
    matched = []
    for c in sorted(core.state.content.values(), key=lambda c: c.id):
        if "content_type" in filters and c.content_category != filters["content_type"]:
            continue
        if search and search not in c.name.lower():
            continue
        if owner_id is not None and c.owner_guid != owner_id:
            continue
        if core.can_view(user, c):
            matched.append(c)
    page = matched[start : start + count]
    apps = [
        render.application_v0(
            c, core.state.users[c.owner_guid], base_url(request), core.app_role(user, c)
        )
        for c in page
    ]
    return json_response(
        {
            "applications": apps,
            "count": len(apps),
            "total": len(matched),
            "continuation": start + len(apps),
        }
    )
