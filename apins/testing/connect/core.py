"""The emulator's state and rules: users and keys, lookups, and who may see or change what.

Permissions follow Connect: the owner and collaborators (ACL role "owner") may change content;
they, ACL viewers, administrators and, for ``logged_in``/``all`` content, every signed-in user
may see it; anonymous requests see only ``all`` content, and only through content URLs.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from . import errors, timefmt
from .models import ROLES, BundleRecord, ContentRecord, GroupRecord, State, UserRecord
from .store import Store


@dataclass(frozen=True)
class UserSpec:
    """A user to provision: name, API key and role (publisher unless told otherwise)."""

    username: str
    api_key: str
    role: str = "publisher"

    def __repr__(self) -> str:  # never show the key
        return f"UserSpec(username={self.username!r}, role={self.role!r})"

    @classmethod
    def parse(cls, text: str) -> UserSpec:
        """Parse ``NAME:KEY`` or ``NAME:KEY:ROLE`` (role: viewer, publisher or administrator)."""
        parts = text.split(":")
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise ValueError("a user must be given as NAME:API_KEY or NAME:API_KEY:ROLE")
        role = parts[2] if len(parts) == 3 else "publisher"
        return cls(parts[0], parts[1], role).checked()

    def checked(self) -> UserSpec:
        """Return self if the name and role are acceptable, else raise ValueError."""
        if not self.username or any(ch in self.username for ch in ":/ \t"):
            raise ValueError(f"invalid user name {self.username!r}")
        if not self.api_key:
            raise ValueError(f"user {self.username!r} needs a non-empty API key")
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {self.role!r}")
        return self


def user_specs(users: Mapping[str, str | tuple[str, str]]) -> list[UserSpec]:
    """``{"alice": "key-a", "carol": ("key-c", "viewer")}`` as a list of checked UserSpecs."""
    out = []
    for name, value in users.items():
        key, role = (value, "publisher") if isinstance(value, str) else value
        out.append(UserSpec(name, key, role).checked())
    return out


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_guid(text: str) -> str:
    """The canonical form of a GUID path segment, or ApiError code 3."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise errors.invalid_id(text) from None


def parse_int_id(text: str) -> int:
    """A numeric path id (bundle, permission), or ApiError code 3."""
    if not text.isdigit() or len(text) > 18:
        raise errors.invalid_id(text)
    return int(text)


class Core:
    """In-memory state (mutated only on the event loop) plus the store that persists it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.state: State = store.load()
        self._by_key: dict[str, str] = {}
        self._reindex_keys()

    # users ----------------------------------------------------------------------------------

    def provision(self, specs: list[UserSpec]) -> None:
        """Create the given users, or update the key and role of ones that already exist."""
        stamp = timefmt.now()
        by_name = {u.username: u for u in self.state.users.values()}
        for spec in specs:
            user = by_name.get(spec.username)
            if user is None:
                user = UserRecord(
                    guid=str(uuid.uuid4()),
                    username=spec.username,
                    user_role=spec.role,
                    key_sha256=_key_hash(spec.api_key),
                    created_time=stamp,
                    updated_time=stamp,
                )
                self.state.users[user.guid] = user
            else:
                user.key_sha256 = _key_hash(spec.api_key)
                if user.user_role != spec.role:
                    user.user_role = spec.role
                    user.updated_time = stamp
        self._reindex_keys()

    def _reindex_keys(self) -> None:
        self._by_key = {
            u.key_sha256: u.guid for u in self.state.users.values() if u.key_sha256 is not None
        }

    def user_for_key(self, key: str) -> UserRecord | None:
        """The user owning API key ``key`` (compared by hash), or None."""
        digest = _key_hash(key)
        for known, guid in self._by_key.items():
            if hmac.compare_digest(known, digest):
                return self.state.users[guid]
        return None

    def user_by_name(self, username: str) -> UserRecord | None:
        """The user called ``username``, or None."""
        for u in self.state.users.values():
            if u.username == username:
                return u
        return None

    # content and access ----------------------------------------------------------------------

    def acl_role(self, user: UserRecord, content: ContentRecord) -> str | None:
        """The user's ACL role on ``content`` ("owner"/"viewer"), own or through a group."""
        groups = {g.guid for g in self.state.groups.values() if user.guid in g.members}
        roles = {
            p.role
            for p in self.state.permissions.values()
            if p.content_guid == content.guid
            and (p.principal_guid == user.guid or p.principal_guid in groups)
        }
        if "owner" in roles:
            return "owner"
        return "viewer" if roles else None

    def provision_groups(self, groups: Mapping[str, list[str]]) -> None:
        """Create or refresh groups: ``{"analysts": ["bob", "carol"]}`` (members by user name)."""
        by_name = {g.name: g for g in self.state.groups.values()}
        for name, members in groups.items():
            guids = []
            for member in members:
                user = self.user_by_name(member)
                if user is None:
                    raise ValueError(f"group {name!r} names an unknown user {member!r}")
                guids.append(user.guid)
            group = by_name.get(name)
            if group is None:
                group = GroupRecord(guid=str(uuid.uuid4()), name=name, created_time=timefmt.now())
                self.state.groups[group.guid] = group
            group.members = guids

    def can_edit(self, user: UserRecord | None, content: ContentRecord) -> bool:
        """Owner, collaborator (ACL "owner") or administrator."""
        if user is None:
            return False
        if user.user_role == "administrator" or user.guid == content.owner_guid:
            return True
        return user.user_role != "viewer" and self.acl_role(user, content) == "owner"

    def can_view(self, user: UserRecord | None, content: ContentRecord) -> bool:
        """Whether ``user`` (None = anonymous) may see ``content`` and its files."""
        if content.access_type == "all":
            return True
        if user is None:
            return False
        if content.access_type == "logged_in" or self.can_edit(user, content):
            return True
        return self.acl_role(user, content) is not None

    def app_role(self, user: UserRecord | None, content: ContentRecord) -> str:
        """Connect's ``app_role``: owner, editor, viewer or none."""
        if user is None:
            return "none"
        if user.guid == content.owner_guid:
            return "owner"
        if self.can_edit(user, content):
            return "editor"
        return "viewer" if self.can_view(user, content) else "none"

    def content_for(self, guid_text: str, user: UserRecord | None, *, edit: bool) -> ContentRecord:
        """Resolve a content GUID path segment, enforcing view (and, if ``edit``, change) rights."""
        guid = parse_guid(guid_text)
        content = self.state.content.get(guid)
        if content is None:
            raise errors.not_found()
        if not self.can_view(user, content):
            raise errors.no_access()
        if edit and not self.can_edit(user, content):
            raise errors.no_permission()
        return content

    def bundle_of(self, content: ContentRecord, id_text: str) -> BundleRecord:
        """Bundle ``id_text`` of ``content`` (code 3 if not numeric, code 4 if not there)."""
        bundle = self.state.bundles.get(parse_int_id(id_text))
        if bundle is None or bundle.content_guid != content.guid:
            raise errors.not_found()
        return bundle

    def bundles_of(self, content: ContentRecord) -> list[BundleRecord]:
        """The bundles of ``content``, newest first."""
        found = [b for b in self.state.bundles.values() if b.content_guid == content.guid]
        return sorted(found, key=lambda b: b.id, reverse=True)

    def name_taken(self, owner_guid: str, name: str, *, except_guid: str | None = None) -> bool:
        """Whether ``owner_guid`` already owns other content called ``name``."""
        return any(
            c.owner_guid == owner_guid and c.name == name and c.guid != except_guid
            for c in self.state.content.values()
        )

    async def save(self) -> None:
        """Persist the current state."""
        await self.store.save(self.state)
