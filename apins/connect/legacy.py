"""The calls of the first Python pins package (0.1.x), for scripts being migrated.

``apins.connect.pin_read(server, api_key, "owner/name")`` blocks (it runs on apins' background
event loop, so it also works inside Jupyter) and returns the pinned table.
``pin_rsconnect`` / ``pin_get_rsconnect`` write and read that package's JSON pins (static content
whose data.txt is ``data.to_json()``); both warn that they are deprecated.
"""

from __future__ import annotations

import html
import importlib.util
import io
import json
import tarfile
import warnings
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from .. import _portal
from ..errors import PinsError
from .board import board_connect
from .client import ConnectClient

if TYPE_CHECKING:
    from ..formats import Output

#: the metadata keys pins 0.1.x returned with meta_only=True
LEGACY_META_KEYS = (
    "file",
    "file_size",
    "pin_hash",
    "type",
    "title",
    "description",
    "created",
    "api_version",
)
_TABLE_TYPES = frozenset({"csv", "parquet", "arrow", "feather", "rds", "table"})


def pin_read(server: str, api_key: str | None, name: str, meta_only: bool = False) -> Any:
    """Read pin ``owner/name`` from a Connect server.

    Returns the table (a pandas DataFrame when pandas is installed, else a pyarrow Table;
    other pin types return their object), or with ``meta_only=True`` the metadata as a dict
    with the keys file, file_size, pin_hash, type, title, description, created, api_version.
    """
    return _portal.call(_pin_read, server, api_key, name, meta_only)


async def _pin_read(server: str, api_key: str | None, name: str, meta_only: bool) -> Any:
    async with board_connect(server, api_key) as board:
        meta = await board.pin_meta(name)
        if meta_only:
            return {k: getattr(meta, k, None) for k in LEGACY_META_KEYS}
        ptype = meta.types[0]
        output: Output | None = None
        if ptype in _TABLE_TYPES:
            output = "pandas" if importlib.util.find_spec("pandas") is not None else "arrow"
        return await board.pin_read(name, meta.version, output=output)


_DEPRECATED = (
    "{name} is the call of the first Python pins package (0.1.x), kept so old scripts run; "
    "use the board API instead: apins.board_connect(server_url, api_key).{instead}"
)
_INDEX = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1>
<p>A pin written by the first Python pins package. Its data, as JSON:
<a href="data.txt">data.txt</a>.</p>
</body></html>
"""


def pin_rsconnect(
    data: Any, pin_name: str, pretty_pin_name: str, connect_server: str, api_key: str
) -> dict[str, str]:
    """Deploy ``data.to_json()`` as static content ``pin_name`` (deprecated; pins 0.1.x).

    Finds the caller's content called ``pin_name`` or creates it (access ``acl``, title
    ``pretty_pin_name``), deploys a bundle of data.txt (the JSON), index.html and a manifest
    with ``content_category: pin``, and returns ``{"dash_url": ..., "content_url": ...}``.
    """
    warnings.warn(
        _DEPRECATED.format(name="pin_rsconnect", instead="pin_write(data, name)"),
        DeprecationWarning,
        stacklevel=2,
    )
    to_json = getattr(data, "to_json", None)
    if not callable(to_json):
        raise PinsError("pin_rsconnect needs data with a to_json() method (e.g. a DataFrame).")
    payload = str(to_json()).encode("utf-8")
    return _portal.call(_pin_rsconnect, payload, pin_name, pretty_pin_name, connect_server, api_key)


def _legacy_bundle(payload: bytes, title: str) -> bytes:
    manifest = {
        "version": 1,
        "metadata": {
            "appmode": "static",
            "primary_html": "index.html",
            "content_category": "pin",
        },
        "files": {"data.txt": {}, "index.html": {}},
    }
    files = {
        "data.txt": payload,
        "index.html": _INDEX.format(title=html.escape(title)).encode("utf-8"),
        "manifest.json": json.dumps(manifest, indent=2).encode("utf-8"),
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(body))
    return buf.getvalue()


async def _pin_rsconnect(
    payload: bytes, pin_name: str, title: str, server: str, api_key: str
) -> dict[str, str]:
    client = ConnectClient(server, api_key)
    try:
        me = await client.me()
        what = f"Looking up content {pin_name!r}"
        found = await client.get_json(
            "v1/content", what=what, params={"name": pin_name, "owner_guid": str(me["guid"])}
        )
        mine = [c for c in found or [] if isinstance(c, dict) and c.get("name") == pin_name]
        if mine:
            content = mine[0]
        else:
            body = {"name": pin_name, "title": title, "access_type": "acl"}
            content = await client.send_json(
                "POST", "v1/content", body, what=f"Creating content {pin_name!r}"
            )
        guid = str(content["guid"])
        archive = _legacy_bundle(payload, title)

        async def stream() -> AsyncIterator[bytes]:
            yield archive

        bundle = await client.upload(
            f"v1/content/{guid}/bundles", stream, what=f"Uploading {pin_name!r}"
        )
        task = await client.send_json(
            "POST", f"v1/content/{guid}/deploy", {"bundle_id": str(bundle["id"])},
            what=f"Deploying {pin_name!r}",
        )  # fmt: skip
        await client.follow_task(str(task["task_id"]), what=f"Deploying {pin_name!r}")
        final = await client.get_json(f"v1/content/{guid}", what=f"Reading {pin_name!r}")
        return {"dash_url": str(final["dashboard_url"]), "content_url": str(final["content_url"])}
    finally:
        await client.aclose()


def pin_get_rsconnect(url: str, api_key: str | None = None) -> Any:
    """The JSON in ``<url>/data.txt`` of content written by pin_rsconnect (deprecated)."""
    warnings.warn(
        _DEPRECATED.format(name="pin_get_rsconnect", instead="pin_read(name)"),
        DeprecationWarning,
        stacklevel=2,
    )
    return _portal.call(_pin_get_rsconnect, url, api_key)


async def _pin_get_rsconnect(url: str, api_key: str | None) -> Any:
    from yarl import URL

    target = URL(url)
    if target.scheme not in ("http", "https") or not target.host:
        raise PinsError(f"pin_get_rsconnect needs a content URL (http or https), not {url!r}.")
    client = ConnectClient(str(target.origin()), api_key)
    try:
        data_url = target.with_path(target.path.rstrip("/") + "/data.txt", encoded=False)
        async with client.request("GET", data_url, what=f"Reading {url}") as resp:
            raw = await resp.read()
    finally:
        await client.aclose()
    try:
        return json.loads(raw)
    except ValueError as e:
        raise PinsError(f"{url}/data.txt is not JSON (not a pin_rsconnect pin?): {e}") from None
