"""What a mirror did (or, with ``dry_run``, would do): the MirrorReport."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..errors import PinNotFound, PinsError, VersionNotFound


class VersionRef(NamedTuple):
    """One version of one pin, named as on the source (``version`` is None for a whole pin)."""

    pin: str
    version: str | None


@dataclass(frozen=True, slots=True)
class MirrorFailure:
    """A pin or version that could not be mirrored, and why."""

    pin: str
    version: str | None
    error: BaseException

    @property
    def message(self) -> str:
        """``ErrorType: message`` (never a traceback)."""
        return f"{type(self.error).__name__}: {self.error}"

    @property
    def not_found(self) -> bool:
        """True when the failure is a missing pin or version on the source."""
        return isinstance(self.error, PinNotFound | VersionNotFound)


@dataclass(slots=True)
class MirrorReport:
    """The outcome of :func:`apins.mirror`.

    ``copied``: versions copied (or that would be, with ``dry_run``); ``skipped``: versions the
    target already had with the same hash; ``deleted``: target versions removed (or that would
    be) by ``delete=True``; ``failed``: what went wrong, per pin or version; ``bytes``: bytes of
    the data files copied (planned, with ``dry_run``).
    """

    dry_run: bool = False
    copied: list[VersionRef] = field(default_factory=list)
    skipped: list[VersionRef] = field(default_factory=list)
    deleted: list[VersionRef] = field(default_factory=list)
    failed: list[MirrorFailure] = field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0
    #: files copied server-side (no bytes through the client)
    server_side_files: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failed

    def summary(self) -> str:
        """One line for people: counts and bytes."""
        verb = "would copy" if self.dry_run else "copied"
        gone = "would delete" if self.dry_run else "deleted"
        return (
            f"{verb} {len(self.copied)} version(s) ({_human(self.bytes)}), skipped "
            f"{len(self.skipped)}, {gone} {len(self.deleted)}, failed {len(self.failed)}"
            + (f" in {self.seconds:.1f} s" if self.seconds and not self.dry_run else "")
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""

        def refs(items: list[VersionRef]) -> list[dict[str, str | None]]:
            return [{"pin": r.pin, "version": r.version} for r in items]

        return {
            "dry_run": self.dry_run,
            "copied": refs(self.copied),
            "skipped": refs(self.skipped),
            "deleted": refs(self.deleted),
            "failed": [
                {"pin": f.pin, "version": f.version, "error": f.message} for f in self.failed
            ],
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "server_side_files": self.server_side_files,
        }


def merge_reports(reports: list[MirrorReport], seconds: float = 0.0) -> MirrorReport:
    """One report for several shards of one mirror (lists joined and sorted, counts summed)."""
    merged = MirrorReport(dry_run=any(r.dry_run for r in reports), seconds=seconds)
    for r in reports:
        merged.copied += r.copied
        merged.skipped += r.skipped
        merged.deleted += r.deleted
        merged.failed += r.failed
        merged.bytes += r.bytes
        merged.server_side_files += r.server_side_files
    for refs in (merged.copied, merged.skipped, merged.deleted):
        refs.sort(key=lambda r: (r.pin, r.version or ""))
    return merged


class MirrorFailed(PinsError):
    """Raised by ``mirror(..., stop_on_error=True)`` at the first failure; holds the report."""

    def __init__(self, failure: MirrorFailure, report: MirrorReport) -> None:
        where = failure.pin + (f"@{failure.version}" if failure.version else "")
        super().__init__(f"mirroring {where} failed: {failure.message}")
        self.failure = failure
        self.report = report


class MirrorRefused(PinsError):
    """``mirror(..., delete=True)`` would empty the target because the source lists no pins."""


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover
