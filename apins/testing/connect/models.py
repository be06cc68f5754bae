"""Records the emulator keeps (msgspec Structs), persisted as one JSON state document."""

from __future__ import annotations

import msgspec

ROLES = ("viewer", "publisher", "administrator")
ACCESS_TYPES = ("acl", "logged_in", "all")


class UserRecord(msgspec.Struct, kw_only=True):
    """A Connect user; ``key_sha256`` hashes its API key (the key itself is never stored)."""

    guid: str
    username: str
    user_role: str
    key_sha256: str | None
    created_time: str
    updated_time: str
    active_time: str | None = None


class ContentRecord(msgspec.Struct, kw_only=True):
    """A content item; ``bundle_id`` is the active (deployed) bundle or None before any deploy."""

    guid: str
    id: int
    name: str
    title: str | None
    description: str
    access_type: str
    owner_guid: str
    created_time: str
    last_deployed_time: str
    bundle_id: int | None = None
    app_mode: str = "unknown"
    content_category: str = ""
    parameterized: bool = False
    cluster_name: str | None = None


class BundleRecord(msgspec.Struct, kw_only=True):
    """An uploaded bundle archive; ``deployed`` is True once a deploy extracted it."""

    id: int
    content_guid: str
    created_time: str
    size: int
    archive_md5: str
    archive_sha1: str
    deployed: bool = False
    primary_html: str | None = None


class PermissionRecord(msgspec.Struct, kw_only=True):
    """An ACL entry: ``role`` is "viewer" or "owner" (a collaborator)."""

    id: int
    content_guid: str
    principal_guid: str
    role: str
    principal_type: str = "user"


class GroupRecord(msgspec.Struct, kw_only=True):
    """A group of users (provisioned at start; Connect's groups API is read-only here)."""

    guid: str
    name: str
    created_time: str
    members: list[str] = msgspec.field(default_factory=list)


class TaskRecord(msgspec.Struct, kw_only=True):
    """A background task (a deploy) with its output so far."""

    id: str
    user_guid: str
    output: list[str] = msgspec.field(default_factory=list)
    finished: bool = False
    code: int = 0
    error: str = ""


class State(msgspec.Struct, kw_only=True):
    """Everything the emulator persists, keyed by guid / id."""

    users: dict[str, UserRecord] = msgspec.field(default_factory=dict)
    content: dict[str, ContentRecord] = msgspec.field(default_factory=dict)
    bundles: dict[int, BundleRecord] = msgspec.field(default_factory=dict)
    permissions: dict[int, PermissionRecord] = msgspec.field(default_factory=dict)
    groups: dict[str, GroupRecord] = msgspec.field(default_factory=dict)
    tasks: dict[str, TaskRecord] = msgspec.field(default_factory=dict)
    next_content_id: int = 1
    next_bundle_id: int = 1
    next_permission_id: int = 1
