"""Pure URL helpers for HTTP boards: origins, safe display, quoting, and confined resolution."""

from __future__ import annotations

from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

from .._safe_path import safe_relative
from ..errors import InvalidMetadata

HTTP_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: characters left as they are when a relative path becomes a URL path ('%' keeps escapes)
_PATH_SAFE = "/%!$&'()*+,;=@~-._"

Origin = tuple[str, str, int]


def origin(url: str) -> Origin:
    """(scheme, host, port) of an http(s) URL, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    return scheme, host, port


def public_url(url: str) -> str:
    """``url`` without user info, query or fragment (these may carry secrets): safe to show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def check_http_url(url: str, what: str = "URL") -> str:
    """Return ``url`` if it is an absolute http(s) URL with a host, else raise ValueError."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in HTTP_SCHEMES or not parts.hostname:
        raise ValueError(f"{what} must be an absolute http:// or https:// URL, not {url!r}.")
    return url


def folder_of(url: str) -> str:
    """The folder URL of ``url`` (up to and including the last '/' of its path), no query."""
    parts = urlsplit(url)
    path = parts.path or "/"
    path = path[: path.rfind("/") + 1]
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def quote_path(path: str) -> str:
    """A relative path made safe as a URL path: spaces, '?', '#', ':' and non-ASCII escaped.

    Existing %XX escapes are kept, so an already-encoded path is not encoded twice.
    """
    return quote(path, safe=_PATH_SAFE)


def basename(url: str) -> str:
    """The last non-empty path segment of ``url``, unescaped ('' if none)."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return unquote(segments[-1]) if segments else ""


def resolve_inside(folder: str, entry: str, *, allow_external: bool = False, what: str) -> str:
    """Resolve ``entry`` (relative path or absolute URL) against ``folder``, confined to it.

    Relative entries must pass :func:`~apins._safe_path.safe_relative` (InvalidMetadata);
    absolute URLs must lie inside ``folder`` (same origin and path, the rest safe) unless
    ``allow_external``; schemes other than http(s) are always refused.
    """
    if not isinstance(entry, str) or not entry.strip():
        raise InvalidMetadata(f"{what}: an empty or non-text entry {entry!r}.")
    entry = entry.strip()
    scheme = urlsplit(entry).scheme.lower()
    if scheme and len(scheme) > 1:  # "c:..." is a Windows drive, handled as a path below
        if scheme not in HTTP_SCHEMES:
            raise InvalidMetadata(f"{what}: {entry!r} uses the scheme {scheme!r}; only http(s).")
        url = entry
        if not urlsplit(url).hostname:
            raise InvalidMetadata(f"{what}: {entry!r} has no host.")
    else:
        url = urljoin(folder, quote_path(safe_relative(entry.removesuffix("/"), what=what)))
        url += "/" if entry.endswith("/") else ""
    if allow_external:
        return url
    path, base = urlsplit(url).path, urlsplit(folder).path
    if origin(url) != origin(folder) or not path.startswith(base):
        raise InvalidMetadata(
            f"{what}: {public_url(url)!r} lies outside the board at {public_url(folder)}; "
            "refusing to follow it. Pass allow_external=True to board_url() if you trust "
            "this board's author."
        )
    safe_relative(path[len(base) :].removesuffix("/"), what=what)
    return url
