"""Turn records into the JSON objects Connect sends (field sets and types of Connect 2024.09).

Field order and value types follow the recorded responses in tests/fixtures/connect: ids are
strings in v1 and integers in v0, timestamps are RFC 3339 UTC with ``Z``.
"""

from __future__ import annotations

from typing import Any

from . import timefmt
from .models import BundleRecord, ContentRecord, TaskRecord, UserRecord

# v0 app_mode enum (Connect's AppMode numbering); only "static" is ever deployed here.
_V0_APP_MODES = {"unknown": 0, "static": 4}

_PUBLISHER_PRIVILEGES = [
    "add_vanities",
    "build_bundles",
    "change_app_permissions",
    "change_apps",
    "create_groups",
    "publish_apps",
    "remove_apps",
    "view_apps",
]
_VIEWER_PRIVILEGES = ["view_apps"]
_ADMIN_PRIVILEGES = sorted(
    {
        *_PUBLISHER_PRIVILEGES,
        "add_users",
        "change_groups",
        "change_usernames",
        "change_users",
        "edit_run_as",
        "edit_runtime",
        "lock_users",
        "remove_groups",
        "remove_users",
        "remove_vanities",
        "view_app_settings",
    }
)


def user_v1(u: UserRecord) -> dict[str, Any]:
    """``GET /v1/user``, ``/v1/users/{guid}`` and items of ``/v1/users``."""
    return {
        "email": f"{u.username}@connect.example",
        "username": u.username,
        "first_name": u.username,
        "last_name": "",
        "user_role": u.user_role,
        "created_time": timefmt.v1(u.created_time),
        "updated_time": timefmt.v1(u.updated_time),
        "active_time": timefmt.v1(u.active_time) if u.active_time else None,
        "confirmed": True,
        "locked": False,
        "guid": u.guid,
    }


def user_v0(u: UserRecord) -> dict[str, Any]:
    """v0 ``/users/current/`` and ``/me``: the v1 fields plus password, preferences, privileges."""
    privileges = {
        "viewer": _VIEWER_PRIVILEGES,
        "publisher": _PUBLISHER_PRIVILEGES,
        "administrator": _ADMIN_PRIVILEGES,
    }[u.user_role]
    return {
        "email": f"{u.username}@connect.example",
        "username": u.username,
        "first_name": u.username,
        "last_name": "",
        "password": "",
        "user_role": u.user_role,
        "created_time": timefmt.v0(u.created_time),
        "updated_time": timefmt.v0(u.updated_time),
        "active_time": timefmt.v0(u.active_time) if u.active_time else None,
        "confirmed": True,
        "locked": False,
        "guid": u.guid,
        "preferences": {},
        "privileges": list(privileges),
    }


def owner_summary(u: UserRecord) -> dict[str, Any]:
    """The ``owner`` object added by ``include=owner``."""
    return {"guid": u.guid, "username": u.username, "first_name": u.username, "last_name": ""}


def content_v1(c: ContentRecord, base_url: str, app_role: str) -> dict[str, Any]:
    """A v1 content object (GET/POST/PATCH ``/v1/content...``)."""
    return {
        "guid": c.guid,
        "name": c.name,
        "title": c.title,
        "description": c.description,
        "access_type": c.access_type,
        "locked": False,
        "locked_message": "",
        "connection_timeout": None,
        "read_timeout": None,
        "init_timeout": None,
        "idle_timeout": None,
        "max_processes": None,
        "min_processes": None,
        "max_conns_per_process": None,
        "load_factor": None,
        "memory_request": None,
        "memory_limit": None,
        "cpu_request": None,
        "cpu_limit": None,
        "amd_gpu_limit": None,
        "nvidia_gpu_limit": None,
        "service_account_name": None,
        "default_image_name": None,
        "created_time": timefmt.v1(c.created_time),
        "last_deployed_time": timefmt.v1(c.last_deployed_time),
        "bundle_id": str(c.bundle_id) if c.bundle_id is not None else None,
        "app_mode": c.app_mode,
        "content_category": c.content_category,
        "parameterized": c.parameterized,
        "cluster_name": c.cluster_name,
        "image_name": None,
        "r_version": None,
        "py_version": None,
        "quarto_version": None,
        "r_environment_management": None,
        "default_r_environment_management": None,
        "py_environment_management": None,
        "default_py_environment_management": None,
        "run_as": None,
        "run_as_current_user": False,
        "owner_guid": c.owner_guid,
        "content_url": f"{base_url}/content/{c.guid}/",
        "dashboard_url": f"{base_url}/connect/#/apps/{c.guid}",
        "app_role": app_role,
        "id": str(c.id),
    }


def application_v0(
    c: ContentRecord, owner: UserRecord, base_url: str, app_role: str
) -> dict[str, Any]:
    """An item of v0 ``/applications`` (integer ids, integer app_mode, flattened owner)."""
    return {
        "id": c.id,
        "guid": c.guid,
        "access_type": c.access_type,
        "connection_timeout": None,
        "read_timeout": None,
        "init_timeout": None,
        "idle_timeout": None,
        "max_processes": None,
        "min_processes": None,
        "max_conns_per_process": None,
        "load_factor": None,
        "url": f"{base_url}/content/{c.guid}/",
        "vanity_url": False,
        "name": c.name,
        "title": c.title,
        "bundle_id": c.bundle_id,
        "app_mode": _V0_APP_MODES.get(c.app_mode, 0),
        "content_category": c.content_category,
        "has_parameters": c.parameterized,
        "created_time": timefmt.v0(c.created_time),
        "last_deployed_time": timefmt.v0(c.last_deployed_time),
        "r_version": None,
        "py_version": None,
        "quarto_version": None,
        "build_status": 2 if c.bundle_id is not None else 0,
        "run_as": None,
        "run_as_current_user": False,
        "description": c.description,
        "app_role": app_role,
        "owner_first_name": owner.username,
        "owner_last_name": "",
        "owner_username": owner.username,
        "owner_guid": owner.guid,
        "owner_email": f"{owner.username}@connect.example",
        "owner_locked": False,
        "is_scheduled": False,
        "git": None,
    }


def bundle_v1(b: BundleRecord, active_id: int | None) -> dict[str, Any]:
    """A v1 bundle object; ``active`` is whether it is the content's deployed bundle."""
    return {
        "id": str(b.id),
        "content_guid": b.content_guid,
        "created_time": timefmt.v1(b.created_time),
        "cluster_name": None,
        "image_name": None,
        "r_version": None,
        "r_environment_management": None,
        "py_version": None,
        "py_environment_management": None,
        "quarto_version": None,
        "active": b.id == active_id,
        "size": b.size,
        "metadata": {
            "source": None,
            "source_repo": None,
            "source_branch": None,
            "source_commit": None,
            "archive_md5": b.archive_md5,
            "archive_sha1": b.archive_sha1,
        },
    }


def task_v1(t: TaskRecord, first: int) -> dict[str, Any]:
    """A v1 task: output lines from ``first`` on; ``last`` is the number of lines so far."""
    return {
        "id": t.id,
        "output": t.output[first:],
        "result": None,
        "finished": t.finished,
        "code": t.code,
        "error": t.error,
        "last": len(t.output),
    }
