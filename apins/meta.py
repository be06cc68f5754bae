"""Pin metadata models: data.txt (api_version 1), legacy v0, and the ``_pins.yaml`` manifest.

Reading goes through :func:`parse_meta`, which tolerates what real boards contain (api_version
``1.0``, ISO ``created``, a missing title, stray keys) and refuses what is unsafe (a ``file``
that escapes its version folder). Keys apins does not know are kept in ``Meta.extra`` and
written back unchanged by :func:`dump_meta`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import msgspec

from . import _yaml
from ._safe_path import safe_relative
from .errors import InvalidMetadata

COMPACT_FORMAT = "%Y%m%dT%H%M%SZ"


class Meta(msgspec.Struct, kw_only=True, omit_defaults=False):
    """The metadata of one pin version (data.txt, api_version 1)."""

    file: str | list[str]
    file_size: int | list[int] | None = None
    pin_hash: str | None = None
    type: str | list[str] = "file"
    title: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    urls: list[str] | None = None
    created: str | None = None
    api_version: int = 1
    #: user metadata (``metadata=`` on write)
    user: dict[str, Any] = msgspec.field(default_factory=dict)
    #: keys of data.txt apins does not know, kept as read and written back unchanged
    extra: dict[str, Any] = msgspec.field(default_factory=dict)
    # runtime fields, never written to data.txt
    name: str | None = None
    version: str | None = None
    #: local paths / urls filled in by the board that read this version
    local: dict[str, Any] = msgspec.field(default_factory=dict)

    @property
    def files(self) -> list[str]:
        """``file`` as a list."""
        return [self.file] if isinstance(self.file, str) else list(self.file)

    @property
    def file_sizes(self) -> list[int | None]:
        sizes = self.file_size
        if sizes is None:
            return [None] * len(self.files)
        return [sizes] if isinstance(sizes, int) else list(sizes)

    @property
    def types(self) -> list[str]:
        return [self.type] if isinstance(self.type, str) else list(self.type)

    @property
    def created_datetime(self) -> datetime | None:
        return parse_created(self.created) if self.created else None

    @property
    def total_size(self) -> int:
        return sum(s for s in self.file_sizes if s)


class MetaV0(msgspec.Struct, kw_only=True):
    """Legacy (api_version 0) metadata: read only (spec §2.4)."""

    file: str | list[str]
    type: str
    description: str | None = None
    original_fields: dict[str, Any] = msgspec.field(default_factory=dict)
    name: str | None = None
    version: str | None = None
    local: dict[str, Any] = msgspec.field(default_factory=dict)
    api_version: int = 0
    title: str | None = None
    pin_hash: str | None = None
    created: str | None = None
    user: dict[str, Any] = msgspec.field(default_factory=dict)

    @property
    def files(self) -> list[str]:
        return [self.file] if isinstance(self.file, str) else list(self.file)

    @property
    def types(self) -> list[str]:
        return [self.type]

    @property
    def created_datetime(self) -> datetime | None:
        return None

    @property
    def total_size(self) -> int:
        return 0


AnyMeta = Meta | MetaV0

_KNOWN = (
    "file",
    "file_size",
    "pin_hash",
    "type",
    "title",
    "description",
    "tags",
    "urls",
    "created",
    "api_version",
    "user",
)


def check_file_name(name: Any, *, what: str = "data.txt 'file' entry") -> str:
    """A data file name from data.txt must stay inside its version folder."""
    return safe_relative(name, what=what)


def parse_created(value: str) -> datetime:
    """Parse ``created`` (compact ``YYYYMMDDTHHMMSSZ`` or ISO 8601) as an aware UTC datetime."""
    v = value.strip()
    try:
        if re.fullmatch(r"\d{8}T\d{6}Z?", v):
            return datetime.strptime(v.rstrip("Z"), "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc)
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidMetadata(f"Cannot parse the creation time {value!r}.") from None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def format_created(dt: datetime) -> str:
    """Render ``dt`` in UTC as ``YYYYMMDDTHHMMSSZ`` (naive datetimes are taken as UTC)."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc)
    return dt.strftime(COMPACT_FORMAT)


def _as_int(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise InvalidMetadata(f"data.txt field {field!r} must be a number, not {value!r}")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise InvalidMetadata(f"data.txt field {field!r} must be a number, not {value!r}")


def parse_meta(
    raw: bytes | str | Mapping[str, Any], *, name: str | None = None, version: str | None = None
) -> AnyMeta:
    """Parse data.txt content into Meta (api_version 1) or MetaV0 (no api_version).

    Any failure is :class:`InvalidMetadata`, naming the pin and version when given.
    """
    try:
        return _parse_meta(raw, name)
    except Exception as e:
        parts = [f"pin {name!r}"] if name is not None else []
        parts += [f"version {version!r}"] if version is not None else []
        text = str(e) if isinstance(e, InvalidMetadata) else f"data.txt: {type(e).__name__}: {e}"
        if not parts and isinstance(e, InvalidMetadata):
            raise
        if not parts:
            raise InvalidMetadata(text) from e
        where = " ".join(parts)
        raise InvalidMetadata(f"{where[0].upper()}{where[1:]}: {text}") from e


def _parse_meta(raw: bytes | str | Mapping[str, Any], name: str | None) -> AnyMeta:
    data = _yaml.load(raw, what="data.txt") if not isinstance(raw, Mapping) else dict(raw)
    if not isinstance(data, dict):
        raise InvalidMetadata("data.txt must hold a YAML mapping of metadata fields.")
    api = data.get("api_version")
    if api is None:
        return _parse_v0(data, name)
    api_version = _as_int(api, "api_version")
    if api_version > 1:
        raise InvalidMetadata(
            f"This pin uses metadata api_version {api_version}; apins reads versions 0 and 1. "
            "Upgrade apins to read it."
        )
    if "file" not in data:
        raise InvalidMetadata("data.txt has no 'file' field.")
    files = data["file"]
    files_list = files if isinstance(files, list) else [files]
    for f in files_list:
        check_file_name(f)
    sizes = data.get("file_size")
    if isinstance(sizes, list):
        sizes = [_as_int(s, "file_size") if s is not None else 0 for s in sizes]
    elif sizes is not None:
        sizes = _as_int(sizes, "file_size")
    created = data.get("created")
    if isinstance(created, datetime):
        created = format_created(created)
    elif created is not None:
        created = str(created)
    ptype = data.get("type", "file")
    user = data.get("user") or {}
    if not isinstance(user, dict):
        raise InvalidMetadata("data.txt field 'user' must be a mapping.")
    fields = {
        "file": files,
        "file_size": sizes,
        "pin_hash": None if data.get("pin_hash") is None else str(data["pin_hash"]),
        "type": ptype,
        "title": _opt_str(data.get("title")),
        "description": _opt_str(data.get("description")),
        "tags": _str_list(data.get("tags"), "tags"),
        "urls": _str_list(data.get("urls"), "urls"),
        "created": created,
        "api_version": api_version,
        "user": user,
        "extra": {k: v for k, v in data.items() if k not in _KNOWN},
        "name": name,
    }
    try:
        return msgspec.convert(fields, Meta)
    except msgspec.ValidationError as e:
        raise InvalidMetadata(f"data.txt has a field of the wrong type: {e}") from None


def _opt_str(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, (dict, list)):
        raise InvalidMetadata(f"Expected text in data.txt, got {type(v).__name__}")
    return str(v)


def _str_list(v: Any, field: str) -> list[str] | None:
    if v is None:
        return None
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        return [str(x) for x in v]
    raise InvalidMetadata(f"data.txt field {field!r} must be a list of strings.")


def _parse_v0(data: dict[str, Any], name: str | None) -> MetaV0:
    path = data.get("path", data.get("file"))
    if path is None:
        raise InvalidMetadata("Legacy (v0) data.txt has no 'path' field.")
    files = path if isinstance(path, list) else [path]
    for f in files:
        check_file_name(f)
    return MetaV0(
        file=path,
        type=str(data.get("type", "default")),
        description=_opt_str(data.get("description")),
        original_fields=data,
        name=name,
    )


def meta_to_dict(meta: Meta) -> dict[str, Any]:
    """The data.txt mapping in R's key order, unknown keys kept after the known ones."""
    out: dict[str, Any] = {
        "file": meta.file,
        "file_size": meta.file_size,
        "pin_hash": meta.pin_hash,
        "type": meta.type,
        "title": meta.title,
        "description": meta.description,
        "tags": meta.tags,
        "urls": meta.urls,
        "created": meta.created,
        "api_version": meta.api_version,
        "user": meta.user,
    }
    for k, v in meta.extra.items():
        out.setdefault(k, v)
    return out


def dump_meta(meta: Meta) -> bytes:
    """Serialise as data.txt bytes readable by pins-python (PyYAML) and R (yaml)."""
    return _yaml.dump(meta_to_dict(meta)).encode("utf-8")


# -- _pins.yaml --------------------------------------------------------------------------

Manifest = dict[str, list[str]]


def parse_manifest(raw: bytes | str) -> Manifest:
    """Parse ``_pins.yaml``: pin name → relative version paths (``"<pin>/<version>/"``)."""
    data = _yaml.load(raw, what="_pins.yaml")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidMetadata("_pins.yaml must map pin names to lists of version paths.")
    shaped = {str(k): (v if isinstance(v, list) else [v]) for k, v in data.items()}
    try:
        return msgspec.convert(shaped, Manifest)
    except msgspec.ValidationError as e:
        raise InvalidMetadata(f"_pins.yaml must map pin names to lists of paths: {e}") from None


def dump_manifest(manifest: Mapping[str, list[str]]) -> bytes:
    """Serialise ``_pins.yaml`` as R writes it (every value a sequence)."""
    return _yaml.dump({k: list(v) for k, v in manifest.items()}).encode("utf-8")
