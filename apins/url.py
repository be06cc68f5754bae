"""board_url: read a board published as static files over HTTP(S) (nginx, S3 website, CDN).

    board = apins.board_url("https://example.org/board/")          # reads _pins.yaml
    board = apins.board_url({"mtcars": "https://example.org/board/mtcars/20240101T000000Z-abcde/"})

Read-only: every write verb raises ReadOnlyBoard.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from .backends.url import PinSource, UrlBackend, source_for
from .board import Board
from .cache import Cache
from .names import validate_pin_name
from .settings import TransferSettings
from .stores._urls import check_http_url, folder_of, public_url
from .stores.http import HTTPStore
from .transfer.progress import Progress

if TYPE_CHECKING:
    from .formats import Output

UrlSpec = str | Mapping[str, str | Sequence[str]]


def _manifest_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.path.endswith("/") or not parts.path:
        path = (parts.path or "/") + "_pins.yaml"
        return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def _cache_for(cache: Cache | str | os.PathLike[str] | bool | None) -> Cache | None:
    from .constructors import _cache_for as pick

    return pick(cache)


def _describe(spec: UrlSpec, headers: Mapping[str, str] | None, **extra: Any) -> str:
    if isinstance(spec, str):
        first = repr(public_url(spec))
    else:
        shown = {
            k: public_url(v) if isinstance(v, str) else [public_url(u) for u in v]
            for k, v in spec.items()
        }
        first = repr(shown)
    args = [first]
    if headers:
        args.append("headers={" + ", ".join(f"{k!r}: '***'" for k in headers) + "}")
    args += [f"{k}={v!r}" for k, v in extra.items() if v not in (None, False)]
    return f"board_url({', '.join(args)})"


def board_url(
    url: UrlSpec,
    *,
    headers: Mapping[str, str] | None = None,
    cache: Cache | str | os.PathLike[str] | bool | None = None,
    allow_pickle_read: bool | None = None,
    settings: TransferSettings | None = None,
    max_age: float | None = None,
    allow_external: bool = False,
    output: Output | None = None,
    progress: Progress = False,
) -> Board:
    """A read-only board served over HTTP(S).

    ``url`` is either the URL of a ``_pins.yaml`` manifest (a URL ending in ``/`` gets
    ``_pins.yaml`` appended; every version it lists is a version, the last one the latest,
    as in R's board_url), or a dict ``{pin: url}`` as in pins-python: a URL ending in ``/`` is
    a pin folder holding data.txt (one version), any other URL a single raw file (read it with
    pin_download), and a list of folder URLs gives a pin's versions, oldest first.

    ``headers`` (e.g. ``{"Authorization": "Bearer ..."}``) go only to the board's own origin,
    never to another host, even on a redirect. Manifest entries must lie inside the
    manifest's folder unless ``allow_external=True``. The manifest and mutable data.txt files
    are revalidated with a conditional request on each use, or not at all for ``max_age``
    seconds after the last check. ``cache=False`` disables the local cache.
    """
    settings = settings or TransferSettings()
    if headers is not None and not isinstance(headers, Mapping):
        raise TypeError("headers= must be a mapping of header names to values.")
    if max_age is not None and max_age < 0:
        raise ValueError("max_age= must be a number of seconds >= 0 (or None).")
    desc = _describe(
        url, headers, allow_pickle_read=allow_pickle_read, max_age=max_age,
        allow_external=allow_external,
    )  # fmt: skip
    if isinstance(url, str):
        manifest = _manifest_url(check_http_url(url, "board_url()'s url"))
        folder = folder_of(manifest)
        store = HTTPStore(
            folder, identity="url:" + public_url(folder), headers=headers,
            trusted_origins=[manifest], settings=settings,
        )  # fmt: skip
        backend = UrlBackend(
            store, manifest_url=manifest, cache=_cache_for(cache), settings=settings,
            max_age=max_age, allow_external=allow_external, description=desc,
        )  # fmt: skip
    elif isinstance(url, Mapping):
        pins = _pins_from_dict(url)
        all_urls = [u for src in pins.values() for u in src.urls]
        identity = "url:" + json.dumps(
            {k: [public_url(u) for u in v.urls] for k, v in sorted(pins.items())},
            separators=(",", ":"),
        )
        store = HTTPStore(
            None, identity=identity, headers=headers, trusted_origins=all_urls, settings=settings
        )
        backend = UrlBackend(
            store, pins=pins, cache=_cache_for(cache), settings=settings, max_age=max_age,
            allow_external=allow_external, description=desc,
        )  # fmt: skip
    else:
        raise TypeError(
            "board_url() takes a manifest URL (str) or a dict {pin name: URL or [URLs]}, "
            f"not {type(url).__name__}."
        )
    return Board(
        backend,
        allow_pickle_read=allow_pickle_read,
        meta_concurrency=settings.meta_concurrency,
        output=output,
        progress=progress,
    )


def _pins_from_dict(spec: Mapping[str, str | Sequence[str]]) -> dict[str, PinSource]:
    if not spec:
        raise ValueError("board_url() needs at least one pin in its dict.")
    out: dict[str, PinSource] = {}
    for name, value in spec.items():
        validate_pin_name(name)
        if isinstance(value, (str, os.PathLike)) or not isinstance(value, Sequence):
            if not isinstance(value, str):
                raise TypeError(f"The URL of pin {name!r} must be a string or a list of strings.")
            check_http_url(value, f"The URL of pin {name!r}")
        else:
            for u in value:
                if not isinstance(u, str):
                    raise TypeError(f"The URLs of pin {name!r} must be strings.")
                check_http_url(u, f"A version URL of pin {name!r}")
        out[name] = source_for(value)
    return out


__all__ = ["board_url"]
