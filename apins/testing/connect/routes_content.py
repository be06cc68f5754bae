"""Content URLs: ``/content/{guid}/{path}`` (active bundle) and ``/content/{guid}/_rev{id}/{path}``.

Files are answered by aiohttp's FileResponse, which gives ETag, Last-Modified, Range (206/416)
and conditional requests (304). A folder path serves its index (the primary document at the
bundle root). Anonymous requests reach only ``all`` content; others get 401 (no key) or 403.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from aiohttp import web

from . import errors
from .core import Core
from .models import BundleRecord, UserRecord
from .routes_api import CORE, TASKS, USER

_REV = re.compile(r"^_rev(\d{1,18})$")
NOT_FOUND_TEXT = "404 page not found\n"


def not_found_text() -> web.Response:
    """Go's plain-text 404 (what Connect answers for unknown routes and missing files)."""
    return web.Response(
        status=404,
        text=NOT_FOUND_TEXT,
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )


async def content_root_redirect(request: web.Request) -> web.StreamResponse:
    """``/content/{guid}`` → 301 to ``/content/{guid}/``."""
    target = request.rel_url.with_path(request.path + "/")
    raise web.HTTPMovedPermanently(location=str(target))


def _resolve(base: Path, rel: str, index: str) -> Path | None:
    """The file ``rel`` names inside ``base`` (its ``index`` for folders), or None."""
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return None
    target = base.joinpath(*parts) if parts else base
    if target.is_dir():
        target = target / (index if not parts else "index.html")
    try:
        target.resolve().relative_to(base.resolve())
    except ValueError:
        return None
    return target if target.is_file() else None


async def content_file(request: web.Request) -> web.StreamResponse:
    """Serve a file of the active bundle or of bundle ``_rev<id>``."""
    core: Core = request.app[CORE]
    user: UserRecord | None = request.get(USER)
    try:
        guid = str(uuid.UUID(request.match_info["guid"]))
    except ValueError:
        return not_found_text()
    content = core.state.content.get(guid)
    if content is None:
        return not_found_text()
    if not core.can_view(user, content):
        raise errors.unauthenticated() if user is None else errors.no_access()
    tail = request.match_info["tail"]
    head, _, rest = tail.partition("/")
    m = _REV.match(head)
    bundle: BundleRecord | None
    if m:
        bundle = core.state.bundles.get(int(m.group(1)))
        if bundle is None or bundle.content_guid != content.guid:
            return not_found_text()
        if not rest and not tail.endswith("/"):
            target = request.rel_url.with_path(request.path + "/")
            raise web.HTTPMovedPermanently(location=str(target))
    else:
        bundle = core.state.bundles.get(content.bundle_id) if content.bundle_id else None
        rest = tail
    if bundle is not None and not bundle.deployed:
        await request.app[TASKS].settled(bundle.id)
    if bundle is None or not bundle.deployed:
        return not_found_text()
    path = _resolve(core.store.files_path(bundle.id), rest, bundle.primary_html or "index.html")
    if path is None:
        return not_found_text()
    return web.FileResponse(path)
