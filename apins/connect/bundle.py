"""The Connect bundle of a pin version, as a gzip tar stream produced on the fly (spec §8.4).

The archive holds the data files, ``data.txt``, ``index.html`` and ``manifest.json`` at its
root. :func:`bundle_stream` reads the files from disk chunk by chunk and yields compressed
bytes, so memory stays at about one chunk whatever the files' size; it can be iterated again
for a retried upload.
"""

from __future__ import annotations

import json
import os
import tarfile
import time
import zlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.to_thread

from .._safe_path import safe_relative
from ..errors import PinsError
from ..stores.base import ProgressCallback, ProgressEvent

BLOCK = 512
#: fast compression: pin data files are usually compressed already, Connect does not care
GZIP_LEVEL = 1


@dataclass(frozen=True, slots=True)
class Entry:
    """One archive member: a file on disk (``path``) or small bytes (``data``)."""

    arcname: str
    path: Path | None = None
    data: bytes | None = None

    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        return os.stat(self.path).st_size


def manifest_json(files: Sequence[str]) -> bytes:
    """manifest.json for static pin content (R's layout, key ``locale``)."""
    doc = {
        "version": 1,
        "locale": "en_US",
        "platform": "3.5.1",
        "metadata": {
            "appmode": "static",
            "primary_rmd": None,
            "primary_html": "index.html",
            "content_category": "pin",
            "has_parameters": False,
        },
        "packages": None,
        "files": list(files),
        "users": None,
    }
    return json.dumps(doc).encode("utf-8")


def bundle_entries(
    files: Sequence[tuple[str, Path]], data_txt: bytes, index_html: bytes
) -> list[Entry]:
    """Data files, data.txt, index.html, then manifest.json listing all of them."""
    names = [n for n, _ in files]
    for n in names:
        safe_relative(n, what="a pin file name")
        if n in ("data.txt", "index.html", "manifest.json") or "/" in n or n.startswith("."):
            raise PinsError(f"A pin file cannot be called {n!r} on Connect (reserved or unsafe).")
    entries = [Entry(n, path=p) for n, p in files]
    entries.append(Entry("data.txt", data=data_txt))
    entries.append(Entry("index.html", data=index_html))
    entries.append(Entry("manifest.json", data=manifest_json([*names, "data.txt", "index.html"])))
    return entries


def _header(name: str, size: int, mtime: float) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = 0o644
    info.type = tarfile.REGTYPE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info.tobuf(format=tarfile.PAX_FORMAT, encoding="utf-8", errors="strict")


async def bundle_stream(
    entries: Sequence[Entry],
    *,
    chunk_size: int = 1 << 20,
    progress: ProgressCallback | None = None,
    key: str = "bundle",
) -> AsyncIterator[bytes]:
    """Yield the gzip-compressed tar of ``entries``; report uncompressed bytes to ``progress``.

    Raises PinsError if a file changes size while it is being packed.
    """
    sizes = [e.size() for e in entries]
    total = sum(sizes)
    done = 0
    comp = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    now = time.time()

    def report(finished: bool = False) -> None:
        if progress is not None:
            progress(ProgressEvent(key, done, total, "upload", finished))

    async def squeeze(raw: bytes) -> bytes:
        if len(raw) < 64 * 1024:
            return comp.compress(raw)
        return await anyio.to_thread.run_sync(comp.compress, raw)

    for entry, size in zip(entries, sizes, strict=True):
        out = await squeeze(_header(entry.arcname, size, now))
        if out:
            yield out
        if entry.data is not None:
            out = await squeeze(entry.data)
            done += size
        else:
            assert entry.path is not None
            sent = 0
            async with await anyio.open_file(entry.path, "rb") as f:
                while sent < size:
                    chunk = await f.read(min(chunk_size, size - sent))
                    if not chunk:
                        break
                    sent += len(chunk)
                    done += len(chunk)
                    out = await squeeze(chunk)
                    if out:
                        yield out
                    report()
                if sent != size or await f.read(1):
                    raise PinsError(f"{entry.path} changed while it was being uploaded.")
            out = b""
        pad = (-size) % BLOCK
        out += comp.compress(b"\0" * pad)
        if out:
            yield out
    yield comp.compress(b"\0" * (2 * BLOCK)) + comp.flush()
    report(finished=True)
