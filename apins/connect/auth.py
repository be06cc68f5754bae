"""Where board_connect finds its server and key, as R's ``board_connect(auth=)``.

* ``"manual"``: both ``server_url`` and ``api_key`` must be given.
* ``"envvar"``: ``CONNECT_SERVER`` and ``CONNECT_API_KEY`` (what Connect sets for content).
* ``"rsconnect"``: a server stored by rsconnect-python's ``rsconnect add`` (its
  ``servers.json``), chosen by ``server_url`` (its URL or its nickname), else the only one.
* ``"auto"`` (default): the explicit arguments, else the environment variables, else a server
  stored by rsconnect-python.

The key never appears in an error message.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import PinsError

AUTH_MODES = ("auto", "manual", "envvar", "rsconnect")


def rsconnect_config_dir(platform: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """rsconnect-python's configuration folder (where ``rsconnect add`` keeps servers.json)."""
    platform = platform or sys.platform
    env = os.environ if env is None else env
    home = env.get("HOME") or str(Path.home())
    base = home
    if platform.startswith("linux"):
        base = env.get("XDG_CONFIG_HOME") or home
    elif platform == "darwin":
        base = str(Path(home, "Library", "Application Support"))
    elif platform == "win32":
        base = env.get("APPDATA") or home
    name = ".rsconnect-python" if base == home else "rsconnect-python"
    return Path(base, name)


def stored_servers(config_dir: Path | None = None) -> list[dict[str, Any]]:
    """The servers rsconnect-python stored (each with name, url and api_key); [] if none."""
    path = (config_dir or rsconnect_config_dir()) / "servers.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as e:
        raise PinsError(f"Cannot read rsconnect-python's server list {str(path)!r}: {e}") from None
    if not isinstance(doc, dict):
        raise PinsError(f"rsconnect-python's server list {str(path)!r} is not a JSON object.")
    return [
        v
        for v in doc.values()
        if isinstance(v, dict) and isinstance(v.get("url"), str) and v.get("api_key")
    ]


def _same_url(a: str, b: str) -> bool:
    def norm(u: str) -> str:
        u = u.strip().rstrip("/")
        return u[: -len("/__api__")] if u.endswith("/__api__") else u

    return norm(a).lower() == norm(b).lower()


def from_rsconnect(server: str | None) -> tuple[str, str]:
    """(url, key) of the stored server whose URL or nickname is ``server`` (or the only one)."""
    servers = stored_servers()
    where = rsconnect_config_dir() / "servers.json"
    if not servers:
        raise PinsError(
            f"No Connect server is stored by rsconnect-python ({str(where)!r}); add one with "
            "`rsconnect add --server URL --api-key KEY --name NAME`, or pass server_url= and "
            "api_key=."
        )
    if server:
        found = [s for s in servers if s.get("name") == server or _same_url(s["url"], server)]
    elif len(servers) == 1:
        found = servers
    else:
        found = [s for s in servers if s.get("default")]
    names = ", ".join(sorted(str(s.get("name")) for s in servers))
    if len(found) != 1:
        what = f"none is called or has the URL {server!r}" if server else "choose one"
        raise PinsError(
            f"rsconnect-python stores several Connect servers ({names}); {what}: pass "
            "server_url= with a stored server's URL or name."
            if server is None or not found
            else f"Several stored rsconnect-python servers match {server!r} ({names})."
        )
    chosen = found[0]
    return str(chosen["url"]), str(chosen["api_key"])


def resolve(server_url: str | None, api_key: str | None, auth: str) -> tuple[str, str | None]:
    """(server URL, API key or None) for board_connect under ``auth``."""
    if auth not in AUTH_MODES:
        raise PinsError(f"auth must be one of {', '.join(AUTH_MODES)}, not {auth!r}.")
    env_server = os.environ.get("CONNECT_SERVER") or None
    env_key = os.environ.get("CONNECT_API_KEY") or None
    if auth == "manual":
        missing = [n for n, v in (("server_url", server_url), ("api_key", api_key)) if not v]
        if missing:
            wanted = " and ".join(f"{n}=" for n in missing)
            raise PinsError(f"board_connect(auth='manual') needs {wanted}.")
        assert server_url is not None
        return server_url, api_key
    if auth == "envvar":
        missing = [n for n, v in (("CONNECT_SERVER", env_server), ("CONNECT_API_KEY", env_key))
                   if not v]  # fmt: skip
        if missing:
            raise PinsError(
                f"board_connect(auth='envvar') needs the environment variable(s) "
                f"{' and '.join(missing)}."
            )
        assert env_server is not None
        return env_server, env_key
    if auth == "rsconnect":
        return from_rsconnect(server_url)
    # auto
    if server_url:
        if api_key is not None:
            return server_url, api_key
        if env_key and (env_server is None or _same_url(env_server, server_url)):
            return server_url, env_key
        stored = [s for s in stored_servers() if _same_url(s["url"], server_url)
                  or s.get("name") == server_url]  # fmt: skip
        if len(stored) == 1:
            return str(stored[0]["url"]), str(stored[0]["api_key"])
        return server_url, None  # CONNECT_API_KEY belongs to another server: not sent
    if env_server:
        return env_server, api_key if api_key is not None else env_key
    if stored_servers():
        return from_rsconnect(None)
    raise PinsError(
        "board_connect needs the server address: pass server_url=, set CONNECT_SERVER, or "
        "store a server with rsconnect-python (`rsconnect add`)."
    )
