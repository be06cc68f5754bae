"""Handlers for content permissions (ACL entries for users and groups) and the groups API."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import errors, render
from .core import Core, parse_guid, parse_int_id
from .models import ContentRecord, GroupRecord, PermissionRecord
from .routes_api import CORE, current_user, int_param, json_body, json_response

PRINCIPAL_TYPES = ("user", "group")
ACL_ROLES = ("viewer", "owner")


def _permission_json(p: PermissionRecord) -> dict[str, Any]:
    return {
        "id": str(p.id),
        "content_guid": p.content_guid,
        "principal_guid": p.principal_guid,
        "principal_type": p.principal_type,
        "role": p.role,
    }


def _principal(core: Core, body: dict[str, Any]) -> tuple[str, str]:
    """(principal_type, principal_guid) from a request body; unknown principals are 404."""
    kind = body.get("principal_type")
    if kind not in PRINCIPAL_TYPES:
        raise errors.bad_request("The field 'principal_type' must be 'user' or 'group'.")
    guid = parse_guid(str(body.get("principal_guid", "")))
    known = core.state.users if kind == "user" else core.state.groups
    if guid not in known:
        raise errors.not_found()
    return str(kind), guid


def _role(body: dict[str, Any]) -> str:
    role = body.get("role")
    if role not in ACL_ROLES:
        raise errors.bad_request("The field 'role' must be 'viewer' or 'owner'.")
    return str(role)


def _permission_of(core: Core, content: ContentRecord, id_text: str) -> PermissionRecord:
    perm = core.state.permissions.get(parse_int_id(id_text))
    if perm is None or perm.content_guid != content.guid:
        raise errors.not_found()
    return perm


async def list_permissions(request: web.Request) -> web.Response:
    """``GET /__api__/v1/content/{guid}/permissions``."""
    core = request.app[CORE]
    content = core.content_for(request.match_info["guid"], current_user(request), edit=False)
    perms = [p for p in core.state.permissions.values() if p.content_guid == content.guid]
    return json_response([_permission_json(p) for p in sorted(perms, key=lambda p: p.id)])


async def get_permission(request: web.Request) -> web.Response:
    """``GET /__api__/v1/content/{guid}/permissions/{id}``."""
    core = request.app[CORE]
    content = core.content_for(request.match_info["guid"], current_user(request), edit=False)
    return json_response(
        _permission_json(_permission_of(core, content, request.match_info["perm_id"]))
    )


async def add_permission(request: web.Request) -> web.Response:
    """``POST .../content/{guid}/permissions`` ``{principal_guid, principal_type, role}``."""
    core = request.app[CORE]
    content = core.content_for(request.match_info["guid"], current_user(request), edit=True)
    body = await json_body(request)
    kind, principal = _principal(core, body)
    role = _role(body)
    for p in core.state.permissions.values():
        if p.content_guid == content.guid and p.principal_guid == principal:
            raise errors.name_taken()
    perm = PermissionRecord(
        id=core.state.next_permission_id,
        content_guid=content.guid,
        principal_guid=principal,
        principal_type=kind,
        role=role,
    )
    core.state.next_permission_id += 1
    core.state.permissions[perm.id] = perm
    await core.save()
    return json_response(_permission_json(perm))


async def update_permission(request: web.Request) -> web.Response:
    """``PUT .../content/{guid}/permissions/{id}`` ``{principal_guid, principal_type, role}``."""
    core = request.app[CORE]
    content = core.content_for(request.match_info["guid"], current_user(request), edit=True)
    perm = _permission_of(core, content, request.match_info["perm_id"])
    body = await json_body(request)
    kind, principal = _principal(core, body)
    role = _role(body)
    for p in core.state.permissions.values():
        if p.content_guid == content.guid and p.principal_guid == principal and p.id != perm.id:
            raise errors.name_taken()
    perm.principal_type, perm.principal_guid, perm.role = kind, principal, role
    await core.save()
    return json_response(_permission_json(perm))


async def delete_permission(request: web.Request) -> web.Response:
    """``DELETE /__api__/v1/content/{guid}/permissions/{id}``; 204."""
    core = request.app[CORE]
    content = core.content_for(request.match_info["guid"], current_user(request), edit=True)
    perm = core.state.permissions.get(parse_int_id(request.match_info["perm_id"]))
    if perm is None or perm.content_guid != content.guid:
        raise errors.remove_missing()
    del core.state.permissions[perm.id]
    await core.save()
    return web.Response(status=204)


# groups ---------------------------------------------------------------------------------------


def _group_json(g: GroupRecord) -> dict[str, Any]:
    return {"guid": g.guid, "name": g.name, "owner_guid": None}


def _page(request: web.Request, items: list[Any]) -> dict[str, Any]:
    page = int_param(request, "page_number", 1, 1, 1 << 30)
    size = int_param(request, "page_size", 20, 1, 500)
    return {
        "results": items[(page - 1) * size : page * size],
        "current_page": page,
        "total": len(items),
    }


async def list_groups(request: web.Request) -> web.Response:
    """``GET /__api__/v1/groups?prefix=&page_number=&page_size=``: ordered by name."""
    current_user(request)
    prefix = request.query.get("prefix", "").lower()
    groups = sorted(request.app[CORE].state.groups.values(), key=lambda g: g.name)
    matched = [_group_json(g) for g in groups if g.name.lower().startswith(prefix)]
    return json_response(_page(request, matched))


def _group(request: web.Request) -> GroupRecord:
    current_user(request)
    group = request.app[CORE].state.groups.get(parse_guid(request.match_info["group_guid"]))
    if group is None:
        raise errors.not_found()
    return group


async def get_group(request: web.Request) -> web.Response:
    """``GET /__api__/v1/groups/{guid}``."""
    return json_response(_group_json(_group(request)))


async def list_group_members(request: web.Request) -> web.Response:
    """``GET /__api__/v1/groups/{guid}/members``: the members as v1 user records."""
    group = _group(request)
    users = request.app[CORE].state.users
    members = sorted((users[g] for g in group.members if g in users), key=lambda u: u.username)
    return json_response(_page(request, [render.user_v1(u) for u in members]))


def add_routes(router: web.UrlDispatcher) -> None:
    """Register the permission and group routes."""
    c = "/__api__/v1/content/{guid}/permissions"
    router.add_get(c, list_permissions)
    router.add_post(c, add_permission)
    router.add_get(c + "/{perm_id}", get_permission)
    router.add_put(c + "/{perm_id}", update_permission)
    router.add_delete(c + "/{perm_id}", delete_permission)
    router.add_get("/__api__/v1/groups", list_groups)
    router.add_get("/__api__/v1/groups/{group_guid}", get_group)
    router.add_get("/__api__/v1/groups/{group_guid}/members", list_group_members)
