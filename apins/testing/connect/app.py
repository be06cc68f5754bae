"""The aiohttp application: routes, authentication, error bodies and request counting."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from . import errors, timefmt
from . import routes_acl as acl
from . import routes_api as api
from . import routes_content as files
from .core import Core
from .counter import RequestCounter
from .models import UserRecord
from .tasks import TaskRunner

_log = logging.getLogger(__name__)

COUNTER = web.AppKey("counter", RequestCounter)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# API routes anyone may call without a key (the login page needs them on a real server).
_PUBLIC_API = frozenset({"/__api__/server_settings"})


def _authenticate(request: web.Request, core: Core) -> UserRecord | None:
    """The user named by ``Authorization: Key <key>``; None if there is no header.

    A malformed header or an unknown key is an ApiError 401 (the key is never echoed).
    """
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, key = header.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "key" or not key:
        raise errors.unauthenticated()
    user = core.user_for_key(key)
    if user is None:
        raise errors.unauthenticated()
    user.active_time = timefmt.now()  # kept in memory; persisted with the next change
    return user


@web.middleware
async def _count(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = request.match_info.route
    pattern = route.resource.canonical if route.resource is not None else "<no route>"
    request.app[COUNTER].add(f"{request.method} {pattern}")
    return await handler(request)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except errors.ApiError as e:
        return api.json_response(e.body(), status=e.status)
    except web.HTTPNotFound:
        return files.not_found_text()
    except web.HTTPMethodNotAllowed as e:
        return web.Response(status=405, headers={"Allow": ",".join(sorted(e.allowed_methods))})
    except web.HTTPException:
        raise
    except Exception:
        _log.exception("unhandled error in %s %s", request.method, request.path)
        failure = errors.internal()
        return api.json_response(failure.body(), status=failure.status)


@web.middleware
async def _auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    if path.startswith("/__api__/") or path.startswith("/content/"):
        user = _authenticate(request, request.app[api.CORE])
        if user is None and path.startswith("/__api__/") and path not in _PUBLIC_API:
            raise errors.unauthenticated()
        request[api.USER] = user
    return await handler(request)


def build_app(core: Core, tasks: TaskRunner, counter: RequestCounter) -> web.Application:
    """The emulator's aiohttp application over ``core``."""
    app = web.Application(middlewares=[_count, _errors, _auth], client_max_size=1 << 40)
    app[api.CORE] = core
    app[api.TASKS] = tasks
    app[COUNTER] = counter
    r = app.router
    r.add_get("/__ping__", api.ping)
    r.add_get("/__api__/server_settings", api.get_server_settings)
    r.add_get("/__api__/me", api.get_current_user_v0)
    r.add_get("/__api__/users/current", api.get_current_user_v0)
    r.add_get("/__api__/users/current/", api.get_current_user_v0)
    r.add_get("/__api__/applications", api.list_applications)
    r.add_get("/__api__/applications/", api.list_applications)
    r.add_get("/__api__/v1/user", api.get_current_user)
    r.add_get("/__api__/v1/users", api.list_users)
    r.add_get("/__api__/v1/users/{guid}", api.get_user)
    r.add_get("/__api__/v1/content", api.list_content)
    r.add_post("/__api__/v1/content", api.create_content)
    c = "/__api__/v1/content/{guid}"
    r.add_get(c, api.get_content)
    r.add_patch(c, api.patch_content)
    r.add_delete(c, api.delete_content)
    r.add_get(c + "/bundles", api.list_bundles)
    r.add_post(c + "/bundles", api.upload_bundle)
    r.add_get(c + "/bundles/{bundle_id}", api.get_bundle)
    r.add_delete(c + "/bundles/{bundle_id}", api.delete_bundle)
    r.add_get(c + "/bundles/{bundle_id}/download", api.download_bundle)
    r.add_post(c + "/deploy", api.deploy)
    acl.add_routes(r)
    for runtime in ("python", "r", "quarto", "nodejs"):
        r.add_get(f"/__api__/v1/server_settings/{runtime}", api.get_runtime_settings)
    r.add_get("/__api__/v1/tasks/{task_id}", api.get_task)
    r.add_get("/content/{guid}", files.content_root_redirect)
    r.add_get("/content/{guid}/{tail:.*}", files.content_file)
    return app
