"""Bundle checks and extraction, as a deploy does them (blocking code: run it in a thread).

A deployable bundle is a gzip tar whose members stay inside the bundle folder (no absolute paths,
no ``..``, no links or devices), with a ``manifest.json`` at its root naming ``metadata.appmode``
and, for static content, a ``metadata.primary_html``. As on real Connect, the primary document
need not be in the archive (pins-python deploys pin folders without ``index.html``); the content
root then answers 404. ``files`` may be
a list (pins-R, pins-python; pins-python also lists directories) or an object keyed by path
(rsconnect); every entry must exist in the archive as a file or a directory. The locale key may be
``locale`` (R) or ``local`` (pins-python); neither is required.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path, PurePosixPath
from typing import Any

import msgspec


class BundleInvalid(Exception):
    """The bundle cannot be deployed; the message is the task's ``error`` text."""


class Manifest(msgspec.Struct, frozen=True):
    """What a deploy learns from manifest.json."""

    appmode: str
    content_category: str
    primary_html: str | None
    has_parameters: bool


def _member_name(member: tarfile.TarInfo) -> str | None:
    """The member's normalised relative path ("" for the root entry), or raise if it escapes."""
    raw = member.name.replace("\\", "/")
    path = PurePosixPath(raw)
    if path.is_absolute() or ".." in path.parts:
        raise BundleInvalid(f"Bundle entry escapes the bundle folder: {member.name!r}")
    name = "/".join(p for p in path.parts if p not in ("", "."))
    if not (member.isfile() or member.isdir()):
        raise BundleInvalid(f"Bundle entry is not a regular file or folder: {member.name!r}")
    return name


def extract(archive: Path, dest: Path) -> Manifest:
    """Check ``archive`` and extract it into ``dest`` (replaced if present); return its manifest.

    Raises BundleInvalid with a Connect-like message when the bundle cannot be deployed.
    """
    tmp = dest.with_name(dest.name + ".extracting")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        files, dirs = _extract_to(archive, tmp)
        manifest = _read_manifest(tmp, files, dirs)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return manifest


def _extract_to(archive: Path, tmp: Path) -> tuple[set[str], set[str]]:
    files: set[str] = set()
    dirs: set[str] = set()
    try:
        tar = tarfile.open(archive, mode="r:gz")  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, OSError) as e:
        msg = f"Unable to extract the bundle: it is not a gzip tar archive ({e})."
        raise BundleInvalid(msg) from None
    with tar:
        tmp.mkdir(parents=True)
        try:
            for member in tar:
                name = _member_name(member)
                if not name:
                    continue
                target = tmp / name
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    dirs.add(name)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(member)
                assert src is not None
                with src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                files.add(name)
        except (tarfile.TarError, EOFError, OSError) as e:
            raise BundleInvalid(f"Unable to extract the bundle: {e}") from None
    for f in files:
        parts = f.split("/")
        dirs.update("/".join(parts[:i]) for i in range(1, len(parts)))
    return files, dirs


def _read_manifest(root: Path, files: set[str], dirs: set[str]) -> Manifest:
    if "manifest.json" not in files:
        raise BundleInvalid("The bundle does not contain a manifest.json file.")
    try:
        doc: Any = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise BundleInvalid(f"The bundle's manifest.json is not valid JSON: {e}") from None
    if not isinstance(doc, dict):
        raise BundleInvalid("The bundle's manifest.json must hold a JSON object.")
    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        raise BundleInvalid("The bundle's manifest.json has no 'metadata' object.")
    appmode = meta.get("appmode")
    if not isinstance(appmode, str) or not appmode:
        raise BundleInvalid("The bundle's manifest.json has no metadata.appmode.")
    if appmode != "static":
        raise BundleInvalid(
            f"Cannot deploy app mode {appmode!r}: this emulator only runs static content."
        )
    listed = doc.get("files")
    entries: list[str]
    if isinstance(listed, (dict, list)):
        entries = [str(k) for k in listed]
    elif listed is None:
        entries = []
    else:
        raise BundleInvalid("The bundle's manifest.json 'files' must be a list or an object.")
    for entry in entries:
        norm = entry.replace("\\", "/").strip("/")
        if norm and norm != "manifest.json" and norm not in files and norm not in dirs:
            raise BundleInvalid(f"The manifest lists {entry!r}, which is not in the bundle.")
    primary = meta.get("primary_html")
    if not isinstance(primary, str) or not primary:
        raise BundleInvalid("Static content needs metadata.primary_html in manifest.json.")
    category = meta.get("content_category")
    return Manifest(
        appmode=appmode,
        content_category=category if isinstance(category, str) else "",
        primary_html=primary,
        has_parameters=bool(meta.get("has_parameters", False)),
    )
