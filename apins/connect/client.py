"""The async Connect API client: authentication, safe redirects, error mapping, pagination.

Promises:

* every request to the server's own origin carries ``Authorization: Key <key>``; a redirect to
  another origin (scheme, host or port) is followed **without** it, so the key never reaches
  another host;
* the key never appears in ``repr``, log records or exception text;
* failed answers become :mod:`apins.connect.errors` exceptions keeping the server's message;
* idempotent reads are retried on transient failures (connection errors, 5xx, 429).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio

from .._redact import shield
from ..errors import ConnectError, PinsError
from ..settings import TransferSettings
from ..transfer.reqlog import request_tracing
from ..transfer.retry import TransientError, transient_for_status, with_retries
from .errors import ConnectTaskFailed, error_from_response, parse_error_body

if TYPE_CHECKING:
    import aiohttp
    from yarl import URL

log = logging.getLogger("apins.connect")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
Json = Any


def normalize_server_url(url: str) -> str:
    """``https://host/path`` without a trailing ``/`` or ``__api__`` (as R normalises it)."""
    u = url.strip()
    if not u.startswith(("http://", "https://")):
        raise PinsError(f"A Connect server URL must start with http:// or https://, not {u!r}.")
    u = u.rstrip("/")
    if u.endswith("/__api__"):
        u = u[: -len("/__api__")].rstrip("/")
    return u


def _origin(url: URL) -> tuple[str, str, int | None]:
    return (url.scheme.lower(), (url.host or "").lower(), url.port)


class ConnectClient:
    """One server, one API key; an aiohttp session opened on first use."""

    def __init__(
        self,
        server_url: str,
        api_key: str | None,
        *,
        settings: TransferSettings | None = None,
        page_size: int = 1000,
    ) -> None:
        from yarl import URL

        self.server_url = normalize_server_url(server_url)
        self._base = URL(self.server_url)
        self.__key = api_key or None
        shield(self.__key)
        self.settings = settings or TransferSettings()
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.page_size = page_size
        self._session: aiohttp.ClientSession | None = None
        self._me: dict[str, Any] | None = None
        self._me_lock: anyio.Lock | None = None

    def __repr__(self) -> str:
        return f"ConnectClient({self.server_url!r})"

    @property
    def has_key(self) -> bool:
        return self.__key is not None

    @property
    def secret(self) -> str | None:
        """The key, only to scrub it from text (never log or show this)."""
        return self.__key

    # -- session and raw requests ------------------------------------------------------------

    def _get_session(self) -> aiohttp.ClientSession:
        import aiohttp

        from ..stores.http import no_blind_retry

        if self._session is None or self._session.closed:
            s = self.settings
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=s.max_connections),
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=s.connect_timeout, sock_read=s.read_timeout
                ),
                # files must arrive byte for byte (their hashes are checked)
                auto_decompress=False,
                headers={"Accept-Encoding": "identity"},
                trace_configs=request_tracing(),
            )
            no_blind_retry(self._session)
        return self._session

    def url(self, path: str) -> URL:
        """``<server>/<path>`` (path relative to the server, e.g. ``__api__/v1/user``)."""
        return self._base.with_path(self._base.path.rstrip("/") + "/" + path.lstrip("/"))

    def api_url(self, path: str) -> URL:
        return self.url("__api__/" + path.lstrip("/"))

    def _auth_headers(self, url: URL) -> dict[str, str]:
        if self.__key is not None and _origin(url) == _origin(self._base):
            return {"Authorization": f"Key {self.__key}"}
        return {}

    @asynccontextmanager
    async def request(
        self,
        method: str,
        url: URL,
        *,
        what: str,
        params: Mapping[str, str | int] | None = None,
        json_body: Json = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        ok_statuses: frozenset[int] = frozenset(),
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send one request, following redirects safely; yield the final response.

        A status >= 400 (unless in ``ok_statuses``) raises the mapped Connect error; 5xx,
        408 and 429 and connection failures raise TransientError (retry them with
        :func:`with_retries` when the request is idempotent).
        """
        import aiohttp
        from yarl import URL

        from ..stores.http import transport_error

        session = self._get_session()
        current = url
        query: Mapping[str, str | int] | None = params
        for _hop in range(MAX_REDIRECTS + 1):
            hdrs = dict(headers or {})
            hdrs.update(self._auth_headers(current))
            try:
                resp = await session.request(
                    method,
                    current,
                    params=query,
                    json=json_body,
                    data=data,
                    headers=hdrs,
                    allow_redirects=False,
                )
            except aiohttp.ClientResponseError as e:
                raise ConnectError(f"{what}: {e.message}", status=e.status) from None
            except aiohttp.ClientSSLError as e:
                # not transient: trying again cannot change what the server speaks
                raise ConnectError(f"{what}: {tls_hint(current, e)}") from None
            except (aiohttp.ClientError, TimeoutError) as e:
                raise transport_error(e, f"{what}: {type(e).__name__}: {e}") from None
            if resp.status in REDIRECT_STATUSES and "Location" in resp.headers:
                target = resp.url.join(URL(resp.headers["Location"]))
                resp.release()
                if resp.status == 303 or (resp.status in (301, 302) and method == "POST"):
                    method, json_body, data = "GET", None, None
                elif data is not None and not isinstance(data, (bytes, str)):
                    raise ConnectError(
                        f"{what}: the server redirected an upload to {target.with_query(None)}; "
                        "use that address as server_url.",
                        status=resp.status,
                    )
                if _origin(target) != _origin(self._base):
                    log.info("Following a redirect off the Connect server (no API key sent).")
                current, query = target, None
                continue
            try:
                if resp.status >= 400 and resp.status not in ok_statuses:
                    text = await _read_text(resp)
                    transient = transient_for_status(
                        resp.status,
                        f"{what}: Posit Connect answered HTTP {resp.status}: "
                        f"{_scrub(text[:300], self.__key)}",
                        resp.headers,
                    )
                    if transient is not None:
                        raise transient
                    raise error_from_response(
                        resp.status, text, what=what, secret=self.__key, keyed=bool(self.__key)
                    )
                yield resp
            finally:
                resp.release()
            return
        raise ConnectError(f"{what}: too many redirects (more than {MAX_REDIRECTS}).")

    # -- JSON API --------------------------------------------------------------------------

    async def _json_once(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str | int] | None = None,
        json_body: Json = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Json:
        async with self.request(
            method,
            self.api_url(path),
            what=what,
            params=params,
            json_body=json_body,
            data=data,
            headers=headers,
        ) as resp:
            text = await _read_text(resp)
            status = resp.status
        if not text.strip():
            return None
        try:
            doc = json.loads(text)
        except ValueError:
            raise ConnectError(
                f"{what}: the server did not answer JSON (HTTP {status}): {text[:200]!r}. "
                "Is server_url the address of a Posit Connect server?",
                status=status,
            ) from None
        # Connect may report an error with a 2xx status: a body with a non-zero code
        code, err = parse_error_body(text)
        if (
            isinstance(doc, dict)
            and code
            and err is not None
            and set(doc)
            <= {
                "code",
                "error",
                "payload",
            }
        ):
            raise error_from_response(status, text, what=what, secret=self.__key)
        return doc

    async def get_json(
        self, path: str, *, what: str, params: Mapping[str, str | int] | None = None
    ) -> Json:
        """GET an API path (retried on transient failures) and decode its JSON body."""
        return await with_retries(
            lambda: self._json_once("GET", path, what=what, params=params),
            settings=self.settings,
            what=what,
        )

    async def send_json(
        self,
        method: str,
        path: str,
        body: Json,
        *,
        what: str,
        applied: Callable[[], Awaitable[Json | None]] | None = None,
    ) -> Json:
        """POST/PATCH a JSON body. Without ``applied`` it is sent once (it changes the
        server); with it, a failed attempt is retried only after ``applied()`` found that it
        did not take effect (see :func:`apins.transfer.retry.with_retries`)."""
        if applied is None:
            return await _once(self._json_once(method, path, what=what, json_body=body), what)
        return await with_retries(
            lambda: self._json_once(method, path, what=what, json_body=body),
            settings=self.settings,
            what=what,
            applied=applied,
        )

    async def delete(self, path: str, *, what: str) -> None:
        """DELETE an API path; success is an empty answer."""
        await _once(self._json_once("DELETE", path, what=what), what)

    async def upload(
        self,
        path: str,
        body_factory: Callable[[], AsyncIterator[bytes]],
        *,
        what: str,
        applied: Callable[[], Awaitable[Json | None]] | None = None,
    ) -> Json:
        """POST a streamed body (a fresh stream per attempt) and decode the JSON answer;
        ``applied()`` finds an upload whose answer was lost (then it is not sent again)."""
        return await with_retries(
            lambda: self._json_once(
                "POST",
                path,
                what=what,
                data=body_factory(),
                headers={"Content-Type": "application/gzip"},
            ),
            settings=self.settings,
            what=what,
            applied=applied,
        )

    # -- helpers over the API -------------------------------------------------------------

    async def me(self) -> dict[str, Any]:
        """The current user (``GET v1/user``), fetched once per client."""
        if self._me is None:
            if self._me_lock is None:
                self._me_lock = anyio.Lock()
            async with self._me_lock:
                if self._me is None:
                    doc = await self.get_json("v1/user", what="Looking up the current user")
                    if not isinstance(doc, dict) or not isinstance(doc.get("username"), str):
                        raise ConnectError("The server's v1/user answer has no username.")
                    self._me = doc
        return self._me

    async def username(self) -> str:
        return str((await self.me())["username"])

    async def user_guid(self, username: str) -> str | None:
        """The GUID of user ``username`` (``v1/users?prefix=``, every page), or None."""
        return await self._guid_by_name("v1/users", "username", username, f"user {username!r}")

    async def group_guid(self, name: str) -> str | None:
        """The GUID of group ``name`` (``v1/groups?prefix=``, every page), or None."""
        return await self._guid_by_name("v1/groups", "name", name, f"group {name!r}")

    async def _guid_by_name(self, path: str, field: str, name: str, label: str) -> str | None:
        page = 1
        while True:
            doc = await self.get_json(
                path,
                what=f"Looking up {label}",
                params={"prefix": name, "page_number": page, "page_size": 500},
            )
            results = doc.get("results") if isinstance(doc, dict) else None
            if not results:
                return None
            for item in results:
                if isinstance(item, dict) and item.get(field) == name:
                    return str(item["guid"])
            page += 1

    async def list_pin_apps(self) -> list[dict[str, Any]]:
        """Every pin content item the user can see (v0 ``applications``, all pages)."""
        out: list[dict[str, Any]] = []
        start = 0
        while True:
            doc = await self.get_json(
                "applications",
                what="Listing pins",
                params={"filter": "content_type:pin", "count": self.page_size, "start": start},
            )
            apps = doc.get("applications") if isinstance(doc, dict) else None
            if not apps:
                break
            out.extend(a for a in apps if isinstance(a, dict))
            start += len(apps)
            total = doc.get("total")
            if isinstance(total, int) and start >= total:
                break
        return out

    async def list_bundles(self, guid: str) -> list[dict[str, Any]]:
        """Every bundle of a content item (a plain list, or every page of a paged answer)."""
        path = f"v1/content/{guid}/bundles"
        what = "Listing the versions (bundles) of a pin"
        doc = await self.get_json(path, what=what)
        if isinstance(doc, list):
            return [b for b in doc if isinstance(b, dict)]
        out: list[dict[str, Any]] = []
        page = 1
        while isinstance(doc, dict) and doc.get("results"):
            out.extend(b for b in doc["results"] if isinstance(b, dict))
            page += 1
            doc = await self.get_json(
                path, what=what, params={"page_number": page, "page_size": self.page_size}
            )
        return out

    async def follow_task(self, task_id: str, *, what: str) -> dict[str, Any]:
        """Poll ``v1/tasks/<id>`` (long-waiting) until it finishes; raise if its code is not 0."""
        first = 0
        idle = 0
        while True:
            task = await self.get_json(
                f"v1/tasks/{task_id}", what=what, params={"first": first, "wait": 1}
            )
            if not isinstance(task, dict):
                raise ConnectError(f"{what}: unexpected task answer {task!r}")
            for line in task.get("output") or []:
                log.debug("connect task %s: %s", task_id, line)
            if task.get("finished"):
                code = task.get("code") or 0
                if code != 0:
                    err = task.get("error") or "no error message"
                    raise ConnectTaskFailed(
                        f"{what}: the deploy task failed (code {code}): {err}", code=code
                    )
                return task
            last = task.get("last")
            if isinstance(last, int) and last > first:
                first, idle = last, 0
            else:  # the server did not wait for output: back off a little
                idle += 1
                await anyio.sleep(min(0.05 * 2**idle, 1.0))

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


def tls_hint(url: URL, exc: Exception) -> str:
    """Why a TLS connection failed, and what to do about it."""
    where = f"{url.host}:{url.port}"
    if "WRONG_VERSION_NUMBER" in str(exc):
        return (
            f"the server at {where} does not speak TLS (https). If it serves plain HTTP, use "
            f"server_url='http://{where}' (CLI: connect+http://{where})."
        )
    return f"the TLS connection to {where} failed: {exc}"


async def _read_text(resp: aiohttp.ClientResponse) -> str:
    raw = await resp.read()
    return raw.decode("utf-8", errors="replace")


async def _once(coro: Any, what: str) -> Any:
    """Await a non-idempotent request once; a transient failure becomes a TransferError."""
    from ..errors import TransferError

    try:
        return await coro
    except TransientError as e:
        raise TransferError(str(e)) from None
