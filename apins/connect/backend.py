"""ConnectBackend: pins as Posit Connect content items, versions as bundles (spec §8).

* A pin ``owner/name`` is the content item called ``name`` owned by ``owner``; a bare name is
  the current user's. Name → GUID is looked up once per board and remembered.
* A version is a bundle id; the latest version is the content's active bundle.
* Files are read from ``<server>/content/<guid>/_rev<bundle>/<file>`` through the transfer
  engine into the cache, keyed by (server, guid, bundle id): bundles never change.
* A write uploads a streamed bundle, deploys it and follows the task; a bundle whose deploy
  failed is deleted again, so it never shows up as a version. A bundle never deployed (its
  writer was killed between upload and deploy) serves no files: it is no version, and the
  sweep deletes it after a grace period (:mod:`apins.connect.orphans`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from .._one_error import collapsed
from .._write_options import write_access_type
from ..backends.path import SWEEP_GRACE, PathBackend
from ..cache import Cache
from ..errors import (
    ConnectError,
    InvalidMetadata,
    PinNotFound,
    PinsError,
    StoreAccessError,
    VersionNotFound,
)
from ..meta import AnyMeta, Meta, dump_meta, parse_meta
from ..settings import TransferSettings
from ..stores.base import ProgressCallback
from ..stores.http import HTTPStore
from ..versions import VersionInfo
from . import access, orphans, reconcile
from .bundle import bundle_entries, bundle_stream
from .client import ConnectClient
from .errors import ConnectActiveBundle, ConnectNameTaken, ConnectNotFound
from .legacy_content import HEAD_LIMIT, is_legacy, legacy_error, warn_skipped
from .names import parse_pin_name
from .preview import preview_for, render_index

log = logging.getLogger("apins.connect")

#: owner of bare names during a write through ConnectBoard (see apins.connect.board)

_PIN_MODES = frozenset({None, "", "unknown", "static"})
_PIN_CATEGORIES = frozenset({None, "", "pin"})


def _rev(version: str) -> str:
    return f"_rev{version}"


def _check_version(name: str, version: str) -> str:
    if not isinstance(version, str) or not version.isdigit():
        raise VersionNotFound(
            f"Pin {name!r} has no version {version!r}: Connect versions are bundle ids (digits)."
        )
    return version


class ConnectBackend:
    """Pins on one Connect server, seen as one user (the API key's owner)."""

    read_only = False
    local = False

    def __init__(
        self,
        client: ConnectClient,
        *,
        cache: Cache | None = None,
        settings: TransferSettings | None = None,
        description: str | None = None,
    ) -> None:
        self.client = client
        self.settings = settings or client.settings
        self.identity = f"connect:{client.server_url}"
        self.cache = cache
        # bundle files are plain immutable objects: reuse the path backend's verified,
        # cached reads over the content URLs (pin = content guid, version = "_rev<id>")
        content = HTTPStore(
            client.server_url.rstrip("/") + "/content/",
            identity=self.identity,
            headers={"Authorization": f"Key {client.secret}"} if client.has_key else None,
            settings=self.settings,
        )  # the key goes to the server's own origin only, never across a redirect
        self._files = PathBackend(content, cache=cache, settings=self.settings)
        self._description = description or f"board_connect(server_url={client.server_url!r})"
        self._guids: dict[tuple[str, str], str] = {}
        #: (guid, bundle id) of bundles known to be served (deployed bundles never change)
        self._served: set[tuple[str, str]] = set()
        #: pins this board object has swept before writing (once per pin)
        self._swept: set[str] = set()

    def __repr__(self) -> str:
        return f"<ConnectBackend {self.client.server_url}>"

    def describe(self) -> str:
        return self._description

    # -- names and content lookup --------------------------------------------------------------

    async def _resolve(self, name: str) -> tuple[str, str]:
        """``(owner, name)``; a bare name belongs to the current user."""
        p = parse_pin_name(name)
        owner = p.owner or await self.client.username()
        return owner, p.name

    async def resolve_write_name(self, name: str) -> tuple[str, str]:
        """``("owner/name", "name")``: the pin's full name and its data files' stem."""
        owner, short = await self._resolve(name)
        return f"{owner}/{short}", short

    async def _find(self, owner: str, name: str) -> dict[str, Any] | None:
        """The content item ``owner/name`` if the user can see it (one request, usually)."""
        items = await self.client.get_json(
            "v1/content",
            what=f"Looking up pin {owner}/{name}",
            params={"name": name, "include": "owner"},
        )
        if not isinstance(items, list):
            raise ConnectError(f"Looking up pin {owner}/{name}: unexpected answer {items!r:.200}")
        same = [c for c in items if isinstance(c, dict) and c.get("name") == name]
        if all(isinstance(c.get("owner"), dict) for c in same):
            found = [c for c in same if c["owner"].get("username") == owner]
        else:  # a server that ignores include=owner: compare owner GUIDs
            guid = await self.client.user_guid(owner)
            found = [c for c in same if guid is not None and c.get("owner_guid") == guid]
        if len(found) > 1:
            raise ConnectError(f"Several content items are called {owner}/{name}.")
        return found[0] if found else None

    async def _content(self, name: str) -> tuple[str, str, dict[str, Any]]:
        """``(owner, name, content JSON)``; raises PinNotFound. One request when known."""
        owner, short = await self._resolve(name)
        guid = self._guids.get((owner, short))
        if guid is not None:
            try:
                c = await self.client.get_json(
                    f"v1/content/{guid}", what=f"Looking up pin {owner}/{short}"
                )
            except ConnectNotFound:
                c = None
            if isinstance(c, dict) and c.get("name") == short:
                return owner, short, c
            self._guids.pop((owner, short), None)
        found = await self._find(owner, short)
        if found is None:
            raise PinNotFound(
                f"Pin {owner}/{short} does not exist on {self.client.server_url} "
                "(or you are not allowed to see it)."
            )
        self._guids[(owner, short)] = str(found["guid"])
        return owner, short, found

    async def _guid(self, name: str) -> tuple[str, str]:
        """``(owner/name, guid)`` without a request when the GUID is already known."""
        owner, short = await self._resolve(name)
        guid = self._guids.get((owner, short))
        if guid is None:
            _, _, c = await self._content(name)
            guid = str(c["guid"])
        return f"{owner}/{short}", guid

    # -- listing -------------------------------------------------------------------------------

    async def list_pins(self) -> list[str]:
        """Every visible pin; content of the first Python pins package is left out (one
        small read of each active data.txt tells, cached; only the head of a large one)."""
        apps = await self.client.list_pin_apps()
        names = set()
        deployed: list[tuple[str, str, str]] = []
        for a in apps:
            owner, short = a.get("owner_username"), a.get("name")
            if isinstance(owner, str) and isinstance(short, str):
                names.add(f"{owner}/{short}")
                if a.get("guid"):
                    self._guids[(owner, short)] = str(a["guid"])
                    if a.get("bundle_id") is not None:
                        deployed.append((f"{owner}/{short}", str(a["guid"]), str(a["bundle_id"])))
        legacy = [full for full, head in await self._heads(deployed) if is_legacy(head)]
        warn_skipped(legacy, "pin list")
        return sorted(names.difference(legacy))

    async def _head(self, guid: str, bundle: str) -> bytes:
        """data.txt of a bundle, or its first bytes when large (see legacy_content);
        empty when the bundle has none or it cannot be read (nothing to tell then)."""
        if not bundle.isdigit():
            return b""
        try:
            return await self._files.read_meta_head(guid, _rev(bundle), HEAD_LIMIT)
        except (VersionNotFound, StoreAccessError):
            return b""

    async def _heads(self, items: Sequence[tuple[str, str, str]]) -> list[tuple[str, bytes]]:
        """``(owner/name, data.txt head)`` of each ``(owner/name, guid, bundle)``, concurrently."""
        out: list[tuple[str, bytes]] = [("", b"")] * len(items)
        limit = anyio.Semaphore(self.settings.meta_concurrency)

        async def one(i: int) -> None:
            full, guid, bundle = items[i]
            async with limit:
                out[i] = (full, await self._head(guid, bundle))

        with collapsed():
            async with anyio.create_task_group() as tg:
                for i in range(len(items)):
                    tg.start_soon(one, i)
        return out

    async def pin_exists(self, name: str) -> bool:
        try:
            _, _, c = await self._content(name)
        except PinNotFound:
            return False
        return c.get("bundle_id") is not None

    async def list_versions(self, name: str) -> list[VersionInfo]:
        owner, short, c = await self._content(name)
        if c.get("bundle_id") is not None and is_legacy(
            await self._head(str(c["guid"]), str(c["bundle_id"]))
        ):
            raise legacy_error(f"{owner}/{short}")
        return await self._versions_of(owner, short, c)

    async def _versions_of(self, owner: str, short: str, c: dict[str, Any]) -> list[VersionInfo]:
        """The bundles of content ``c`` as versions, oldest first (one request)."""
        active = None if c.get("bundle_id") is None else str(c["bundle_id"])
        bundles = await self.client.list_bundles(str(c["guid"]))
        out = []
        for b in bundles:
            bid = str(b.get("id", ""))
            if not bid.isdigit():
                continue
            size = b.get("size")
            out.append(
                VersionInfo(
                    bid,
                    created=orphans.created_at(b),
                    active=bool(b.get("active")) or bid == active,
                    size=size if isinstance(size, int) else None,
                )
            )
        out = await self._served_only(str(c["guid"]), out)
        if not out:
            raise PinNotFound(f"Pin {owner}/{short} has no versions yet.")
        return sorted(out, key=lambda v: int(v.version))

    async def _served_only(self, guid: str, versions: list[VersionInfo]) -> list[VersionInfo]:
        """The versions whose bundle is served: the active one and every inactive bundle that
        was deployed once. A bundle uploaded but never deployed (a writer killed between
        upload and deploy) is no version. Each inactive bundle is checked once per board
        object (one small GET of its data.txt, cached like any data.txt)."""
        keep = [v.active for v in versions]
        limit = anyio.Semaphore(self.settings.meta_concurrency)

        async def check(i: int) -> None:
            async with limit:
                keep[i] = await self._is_served(guid, versions[i].version)

        with collapsed():
            async with anyio.create_task_group() as tg:
                for i, v in enumerate(versions):
                    if not v.active:
                        tg.start_soon(check, i)
        return [v for v, k in zip(versions, keep, strict=True) if k]

    async def _is_served(self, guid: str, bundle: str) -> bool:
        """Whether bundle ``bundle``'s data.txt is served (it was deployed)."""
        if (guid, bundle) in self._served:
            return True
        try:
            await self._files.read_meta_raw(guid, _rev(bundle))
        except VersionNotFound:
            log.debug("Bundle %s of content %s serves no data.txt: not a version.", bundle, guid)
            return False
        self._served.add((guid, bundle))
        return True

    async def sweep(self, grace: float, name: str | None = None) -> list[str]:
        """Delete the bundles that were uploaded but never deployed, created ``grace``
        seconds ago or earlier, of pin ``name`` or of every pin the user can see. Returns
        ``"owner/name/<bundle id>"`` for each one deleted."""
        if grace < 0:
            raise ValueError(f"grace must not be negative; got {grace!r}")
        if name is not None:
            owner, short, c = await self._content(name)
            pins = [(f"{owner}/{short}", c)]
        else:
            pins = [
                (f"{a['owner_username']}/{a['name']}", a)
                for a in await self.client.list_pin_apps()
                if a.get("guid") and a.get("owner_username") and a.get("name")
            ]
        removed: list[str] = []
        for full, c in pins:
            try:
                removed += await orphans.sweep_pin(self.client, self._is_served, full, c, grace)
            except StoreAccessError as e:  # another user's pin this user may only read
                log.info("Not sweeping pin %s: %s", full, e)
        return removed

    async def poll_versions(self, name: str, newest: str | None) -> list[VersionInfo] | None:
        """For pin_watch: one GET of the content item (its active bundle); only when that
        changed since ``newest``, one listing of its bundles, up to the active one."""
        owner, short, c = await self._content(name)
        bid = c.get("bundle_id")
        if bid is None:
            raise PinNotFound(f"Pin {owner}/{short} has no deployed version yet.")
        active = str(bid)
        if active == newest:
            return None
        versions = await self._versions_of(owner, short, c)
        if not active.isdigit():
            return [v for v in versions if v.version == active]
        return [v for v in versions if int(v.version) <= int(active)]

    async def latest_version(self, name: str) -> VersionInfo:
        owner, short, c = await self._content(name)
        bid = c.get("bundle_id")
        if bid is None:
            raise PinNotFound(f"Pin {owner}/{short} has no deployed version yet.")
        return VersionInfo(str(bid), active=True)

    async def search_pins(self, search: str | None) -> list[AnyMeta]:
        """Metadata of every visible pin whose name or title matches ``search`` (a regex)."""
        try:
            rx = re.compile(search) if search else None
        except re.error as e:
            raise PinsError(
                f"pin_search: {search!r} is not a valid regular expression: {e}"
            ) from None
        chosen: list[tuple[str, str, str]] = []
        for a in await self.client.list_pin_apps():
            owner, short, bid = a.get("owner_username"), a.get("name"), a.get("bundle_id")
            if not isinstance(owner, str) or not isinstance(short, str) or bid is None:
                continue
            full = f"{owner}/{short}"
            if rx is not None and not (rx.search(full) or rx.search(str(a.get("title") or ""))):
                continue
            self._guids[(owner, short)] = str(a["guid"])
            chosen.append((full, str(a["guid"]), str(bid)))
        out: list[AnyMeta | None] = [None] * len(chosen)
        legacy: list[str] = []
        limit = anyio.Semaphore(self.settings.meta_concurrency)

        async def one(i: int) -> None:
            full, guid, bid = chosen[i]
            async with limit:
                try:
                    head = await self._head(guid, bid)
                    if is_legacy(head):
                        legacy.append(full)
                        return
                    whole = head if 0 < len(head) <= HEAD_LIMIT else None
                    out[i] = await self._meta_of(full, guid, bid, raw=whole)
                except PinsError as e:
                    log.warning("Skipping pin %s in the search: %s", full, e)

        with collapsed():
            async with anyio.create_task_group() as tg:
                for i in range(len(chosen)):
                    tg.start_soon(one, i)
        warn_skipped(legacy, "search")
        return [m for m in out if m is not None]

    # -- reading -------------------------------------------------------------------------------

    def local_info(self, full: str, version: str) -> dict[str, Any]:
        """``meta.local`` of a version: content GUID, bundle id and its content URL."""
        owner, _, short = full.partition("/")
        guid = self._guids.get((owner, short), "")
        return {
            "content_id": guid,
            "version": version,
            "url": f"{self.client.server_url}/content/{guid}/{_rev(version)}/",
        }

    async def _meta_of(
        self, full: str, guid: str, version: str, raw: bytes | None = None
    ) -> AnyMeta:
        """The metadata of bundle ``version``; ``raw``: its data.txt, when already read."""
        if raw is None:
            try:
                raw = await self._files.read_meta_raw(guid, _rev(version))
            except VersionNotFound:
                raise VersionNotFound(f"Pin {full} has no version {version}.") from None
        try:
            meta = parse_meta(raw, name=full, version=version)
        except InvalidMetadata as e:
            if is_legacy(raw):
                raise legacy_error(full) from e
            raise
        meta.name = full
        meta.version = version
        owner, _, short = full.partition("/")
        self._guids.setdefault((owner, short), guid)
        meta.local = self.local_info(full, version)
        return meta

    async def read_meta(self, name: str, version: str) -> AnyMeta:
        _check_version(name, version)
        owner, short = await self._resolve(name)
        known = (owner, short) in self._guids
        full, guid = await self._guid(name)
        try:
            return await self._meta_of(full, guid, version)
        except VersionNotFound:
            if not known:
                raise
        # the remembered GUID may be stale (pin deleted and written again): look up again
        self._guids.pop((owner, short), None)
        full, guid = await self._guid(name)
        return await self._meta_of(full, guid, version)

    async def read_meta_raw(self, name: str, version: str) -> bytes:
        """The exact bytes of a version's data.txt (cached, bundles never change)."""
        _check_version(name, version)
        full, guid = await self._guid(name)
        try:
            return await self._files.read_meta_raw(guid, _rev(version))
        except VersionNotFound:
            raise VersionNotFound(f"Pin {full} has no version {version}.") from None

    async def fetch_files(
        self,
        name: str,
        version: str,
        meta: AnyMeta,
        *,
        progress: ProgressCallback | None = None,
        private: bool = False,
    ) -> list[Path]:
        _check_version(name, version)
        full, guid = await self._guid(name)
        try:
            return await self._files.fetch_files(
                guid, _rev(version), meta, progress=progress, private=private
            )
        except VersionNotFound:
            raise VersionNotFound(
                f"Version {version} of pin {full} is missing one of its files {meta.files}."
            ) from None

    # -- writing -------------------------------------------------------------------------------

    async def _create(self, owner: str, short: str, meta: Meta) -> dict[str, Any]:
        body = {
            "name": short,
            "access_type": write_access_type.get() or "acl",
            "title": meta.title or short,
            "description": meta.description or "",
        }
        try:
            c = await self.client.send_json(
                "POST", "v1/content", body, what=f"Creating pin {owner}/{short}"
            )
        except ConnectNameTaken as e:
            raise ConnectNameTaken(await self._taken_message(owner, short, e), status=e.status,
                                   code=e.code) from None  # fmt: skip
        if not isinstance(c, dict) or "guid" not in c:
            raise ConnectError(f"Creating pin {owner}/{short}: unexpected answer {c!r:.200}")
        return c

    async def _taken_message(self, owner: str, short: str, err: ConnectError) -> str:
        try:
            items = await self.client.get_json(
                "v1/content", what="Looking up a taken name", params={"name": short,
                                                                     "include": "owner"},
            )  # fmt: skip
        except PinsError:
            items = []
        others = sorted(
            {
                str(c["owner"].get("username"))
                for c in items or []
                if isinstance(c, dict)
                and isinstance(c.get("owner"), dict)
                and c["owner"].get("username") != owner
            }
        )
        if others:
            return (
                f"Cannot create pin {owner}/{short}: the name {short!r} already belongs to "
                f"content of another user ({', '.join(others)}) and this server needs unique "
                f"names. Choose another name. ({err})"
            )
        return (
            f"Cannot create pin {owner}/{short}: Connect says the name is taken, perhaps by "
            f"content you cannot see. Choose another name. ({err})"
        )

    @staticmethod
    def _check_is_pin(full: str, c: dict[str, Any]) -> None:
        mode, category = c.get("app_mode"), c.get("content_category")
        if mode not in _PIN_MODES or category not in _PIN_CATEGORIES:
            raise PinsError(
                f"{full} is Connect content of another kind (app_mode {mode!r}, category "
                f"{category!r}), not a pin; refusing to replace it. Choose another pin name."
            )

    async def store_version(
        self,
        name: str,
        meta: Meta,
        files: Sequence[tuple[str, Path]],
        *,
        replace: VersionInfo | None = None,
        progress: ProgressCallback | None = None,
        raw_meta: bytes | None = None,
    ) -> str:
        """Upload, deploy and wait for a bundle of ``files`` + data.txt; return its id.

        ``raw_meta`` (mirroring) is used as data.txt byte for byte.
        """
        owner, short = await self._resolve(name)
        full = f"{owner}/{short}"
        me = await self.client.username()
        try:
            _, _, content = await self._content(full)
        except PinNotFound:
            content = None
        created = content is None
        if content is None:
            if owner != me:
                raise StoreAccessError(
                    f"You are connected as {me!r}, but you are trying to create a new pin "
                    f"{full!r} for another user ({owner!r}). Write it as '{me}/{short}', or ask "
                    f"{owner} to create it and add you as a collaborator."
                )
            content = await self._create(owner, short, meta)
            self._guids[(owner, short)] = str(content["guid"])
        else:
            self._check_is_pin(full, content)
            await self._sweep_before_write(full, content)
        guid = str(content["guid"])
        try:
            data_txt = raw_meta if raw_meta is not None else dump_meta(meta)
            bid = await self._publish(full, guid, meta, data_txt, files, progress)
        except BaseException:
            if created:
                await self._quietly(f"v1/content/{guid}", f"Removing the new pin {full}")
                self._guids.pop((owner, short), None)
            raise
        try:
            await self.client.send_json(
                "PATCH", f"v1/content/{guid}",
                {"title": meta.title or short, "description": meta.description or ""},
                what=f"Updating the title of pin {full}",
            )  # fmt: skip
        except PinsError as e:
            log.warning("Version %s of pin %s is published, but its title was not set: %s",
                        bid, full, e)  # fmt: skip
        if replace is not None and replace.version != bid:
            log.info("Replacing version %s of pin %s with %s.", replace.version, full, bid)
            try:
                await self.delete_version(full, replace.version)
            except PinsError as e:
                log.warning("Version %s of pin %s is published, but the old version %s was not "
                            "deleted: %s", bid, full, replace.version, e)  # fmt: skip
        return bid

    async def _sweep_before_write(self, full: str, content: dict[str, Any]) -> None:
        """The automatic sweep: orphan bundles of this pin older than the grace period,
        once per pin per board object."""
        if full in self._swept:
            return
        self._swept.add(full)
        try:
            await orphans.sweep_pin(self.client, self._is_served, full, content, SWEEP_GRACE)
        except PinsError as e:
            log.warning("Could not sweep leftovers of pin %s: %s", full, e)

    async def _publish(
        self,
        full: str,
        guid: str,
        meta: Meta,
        data_txt: bytes,
        files: Sequence[tuple[str, Path]],
        progress: ProgressCallback | None,
    ) -> str:
        """Upload the bundle, deploy it and wait; return the bundle id (deleted on failure)."""
        preview = await anyio.to_thread.run_sync(preview_for, meta, files)
        page = render_index(meta, full, server_url=self.client.server_url, preview=preview)
        entries = await anyio.to_thread.run_sync(bundle_entries, list(files), data_txt, page)
        chunk = self.settings.chunk_size
        sent = reconcile.SentBodies()
        bundle = await self.client.upload(
            f"v1/content/{guid}/bundles",
            lambda: sent.wrap(bundle_stream(entries, chunk_size=chunk, progress=progress,
                                            key=f"{full} bundle")),
            what=f"Uploading a new version of pin {full}",
            applied=lambda: reconcile.find_uploaded(self.client, guid, sent),
        )  # fmt: skip
        if not isinstance(bundle, dict) or "id" not in bundle:
            raise ConnectError(f"Uploading pin {full}: unexpected answer {bundle!r:.200}")
        bid = str(bundle["id"])
        try:
            task = await self.client.send_json(
                "POST", f"v1/content/{guid}/deploy", {"bundle_id": bid},
                what=f"Deploying version {bid} of pin {full}",
                applied=lambda: reconcile.deployed(self.client, guid, bid),
            )  # fmt: skip
            if not isinstance(task, dict) or "task_id" not in task:
                raise ConnectError(f"Deploying pin {full}: unexpected answer {task!r:.200}")
            if task["task_id"] is not None:  # None: deployed already (the answer was lost)
                await self.client.follow_task(
                    str(task["task_id"]), what=f"Deploying version {bid} of pin {full}"
                )
        except BaseException:
            await self._quietly(
                f"v1/content/{guid}/bundles/{bid}", f"Removing the failed version {bid} of {full}"
            )
            raise
        return bid

    async def _quietly(self, path: str, what: str) -> None:
        """Best-effort cleanup DELETE, shielded from cancellation; failures are logged."""
        with anyio.CancelScope(shield=True):
            try:
                await self.client.delete(path, what=what)
            except PinsError as e:
                log.warning("%s failed: %s", what, e)

    async def delete_version(self, name: str, version: str) -> None:
        _check_version(name, version)
        owner, short, c = await self._content(name)
        full = f"{owner}/{short}"
        try:
            await self.client.delete(
                f"v1/content/{c['guid']}/bundles/{version}",
                what=f"Deleting version {version} of pin {full}",
            )
        except ConnectNotFound:
            raise VersionNotFound(f"Pin {full} has no version {version}.") from None
        except ConnectActiveBundle as e:
            raise ConnectActiveBundle(
                f"Cannot delete version {version} of pin {full}: it is the pin's active "
                "(latest) version, which Connect does not delete. Write a newer version first, "
                f"or delete the whole pin with pin_delete. ({e})",
                status=e.status,
                code=e.code,
            ) from None

    async def delete_pin(self, name: str) -> None:
        owner, short, c = await self._content(name)
        await self.client.delete(f"v1/content/{c['guid']}", what=f"Deleting pin {owner}/{short}")
        self._guids.pop((owner, short), None)

    async def write_manifest(self) -> dict[str, list[str]]:
        raise PinsError(
            "Connect boards have no _pins.yaml manifest: pins are listed through the Connect "
            "API. write_board_manifest applies to folder, S3 and other path boards."
        )

    # -- access and addresses --------------------------------------------------------------

    async def set_access(self, name: str, access_type: str) -> None:
        """Set pin ``name``'s access_type (acl, logged_in or all) unless it already has it."""
        owner, short, c = await self._content(name)
        if c.get("access_type") != access_type:
            await self.client.send_json(
                "PATCH", f"v1/content/{c['guid']}", {"access_type": access_type},
                what=f"Setting the access of pin {owner}/{short} to {access_type!r}",
            )  # fmt: skip

    async def share(
        self, name: str, *, users: Sequence[str], groups: Sequence[str], role: str
    ) -> None:
        """Give Connect users/groups ``role`` (viewer or owner) on pin ``name``."""
        owner, short, c = await self._content(name)
        who = await access.principals(self.client, users, groups)
        await access.share(self.client, str(c["guid"]), f"{owner}/{short}", who, role)

    async def unshare(self, name: str, *, users: Sequence[str], groups: Sequence[str]) -> None:
        """Remove the ACL entries of these users/groups on pin ``name``."""
        owner, short, c = await self._content(name)
        who = await access.principals(self.client, users, groups)
        await access.unshare(self.client, str(c["guid"]), f"{owner}/{short}", who)

    async def pin_url(self, name: str, version: str | None) -> str:
        """The content URL of pin ``name`` (of bundle ``version``: its ``_rev`` URL)."""
        owner, short, c = await self._content(name)
        base = str(c.get("content_url") or f"{self.client.server_url}/content/{c['guid']}/")
        if not base.endswith("/"):
            base += "/"
        if version is None:
            return base
        versions = await self._versions_of(owner, short, c)
        if version not in {v.version for v in versions}:
            raise VersionNotFound(f"Pin {owner}/{short} has no version {version}.")
        return f"{base}{_rev(version)}/"

    async def browse_url(self, name: str, version: str | None) -> str:
        """The pin's page in Connect's dashboard; for one ``version``, its ``_rev`` content
        URL (the dashboard has no page per bundle)."""
        if version is not None:
            return await self.pin_url(name, version)
        _, _, c = await self._content(name)
        return str(c.get("dashboard_url") or f"{self.client.server_url}/connect/#/apps/{c['guid']}")

    async def aclose(self) -> None:
        await self._files.aclose()
        await self.client.aclose()
