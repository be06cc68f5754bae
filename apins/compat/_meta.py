"""pins-python's metadata objects (``Meta``, ``Version``, ``VersionRaw``) built from apins's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ..meta import AnyMeta
from ..meta import MetaV0 as _ApinsMetaV0
from ..versions import VersionInfo

_TIME = "%Y%m%dT%H%M%SZ"


@dataclass
class VersionRaw:
    """A version whose name is not ``<created>-<hash>`` (e.g. a Connect bundle id)."""

    version: str

    def to_dict(self) -> Mapping[str, Any]:
        return asdict(self)


@dataclass
class Version:
    """A version as pins-python has it: ``created`` (naive, UTC wall time) and ``hash``."""

    created: datetime
    hash: str

    @property
    def version(self) -> str:
        return f"{self.created.strftime(_TIME)}-{self.hash[:5]}"

    def to_dict(self) -> Mapping[str, Any]:
        return {"created": self.created, "hash": self.hash, "version": self.version}


AnyVersion = Version | VersionRaw


def version_from_info(info: VersionInfo) -> AnyVersion:
    """The pins-python version object for an apins :class:`~apins.VersionInfo`."""
    if info.created is None or info.hash is None:
        return VersionRaw(info.version)
    made = Version(info.created.replace(tzinfo=None), info.hash)
    return made if made.version == info.version else VersionRaw(info.version)


def version_from_name(name: str) -> AnyVersion:
    return version_from_info(VersionInfo.from_name(name))


@dataclass
class Meta:
    """The metadata of one pin version, with pins-python's fields and types."""

    title: str | None
    description: str | None
    created: str
    pin_hash: str
    file: str | Sequence[str]
    file_size: int | Sequence[int]
    type: str
    api_version: int
    version: AnyVersion
    tags: list[str] | None = None
    name: str | None = None
    user: Mapping[str, Any] = field(default_factory=dict)
    local: Mapping[str, Any] = field(default_factory=dict)
    unknown_fields: dict[str, Any] = field(default_factory=dict, repr=False)

    def __getattr__(self, key: str) -> Any:
        # only called for names that are not fields: data.txt keys pins-python does not model
        unknown = self.__dict__.get("unknown_fields", {})
        if key in unknown:
            return unknown[key]
        raise AttributeError(f"No metadata field not found: {key}")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("unknown_fields", None)
        return out


@dataclass
class MetaV0:
    """Metadata of a pin written by the first pins packages (api_version 0)."""

    file: str | Sequence[str]
    type: str
    name: str | None
    version: AnyVersion
    description: str | None = None
    title: str | None = None
    created: str | None = None
    pin_hash: str | None = None
    file_size: int | None = None
    api_version: int | None = None
    user: Mapping[str, Any] = field(default_factory=dict)
    local: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def to_compat_meta(meta: AnyMeta, name: str) -> Meta | MetaV0:
    """pins-python's view of an apins ``Meta``/``MetaV0`` (``.version`` becomes an object)."""
    version = version_from_name(meta.version or "")
    if isinstance(meta, _ApinsMetaV0):
        return MetaV0(
            file=meta.file,
            type=meta.type,
            name=name,
            version=version,
            description=meta.description,
            local=dict(meta.local),
        )
    sizes = meta.file_size
    return Meta(
        title=meta.title,
        description=meta.description,
        created=meta.created or "",
        pin_hash=meta.pin_hash or "",
        file=meta.file,
        file_size=sizes if sizes is not None else 0,
        type=meta.type if isinstance(meta.type, str) else meta.type[0],
        api_version=meta.api_version,
        version=version,
        tags=meta.tags,
        name=name,
        user=dict(meta.user),
        local=dict(meta.local),
        unknown_fields={**meta.extra, **({"urls": meta.urls} if meta.urls else {})},
    )


__all__ = ["Meta", "MetaV0", "Version", "VersionRaw", "to_compat_meta", "version_from_info"]
