"""OAuth 2 access tokens for Google Cloud Storage, without the Google SDK.

Sources, in the order :func:`resolve_credentials` tries them:

* ``anonymous=True`` or ``token="anon"``: no ``Authorization`` header (public buckets, emulators);
* a token string: an OAuth access token sent as it is;
* a service-account JSON file (path or parsed dict): a JWT signed with the account's RSA key
  (``cryptography``) is exchanged at its ``token_uri`` for a one-hour token;
* an ``authorized_user`` file (``gcloud auth application-default login``): its refresh token
  is exchanged at the token endpoint;
* a ``google.auth`` credentials object (any kind: workload identity, impersonation...),
  refreshed in a worker thread;
* application default credentials: ``GOOGLE_APPLICATION_CREDENTIALS``, then gcloud's file,
  then ``google.auth.default()`` when the optional ``google-auth`` extra is installed, then the
  GCE metadata server.

Tokens live only in these objects' private fields; no repr, log line or error shows them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .._redact import register_secret
from ..errors import StoreAccessError
from ..transfer.retry import StoreUnreachable

if TYPE_CHECKING:
    import aiohttp

SCOPE = "https://www.googleapis.com/auth/devstorage.read_write"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"
METADATA_TOKEN_URL = (
    "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"
)
#: refresh this many seconds before a token expires
EARLY = 120.0


class Credentials(Protocol):
    """Something that yields the ``Authorization`` header for a request."""

    async def headers(self, session: aiohttp.ClientSession) -> dict[str, str]: ...


class Anonymous:
    """No credentials: public buckets and emulators."""

    async def headers(self, session: aiohttp.ClientSession) -> dict[str, str]:
        return {}

    def __repr__(self) -> str:
        return "Anonymous()"


class StaticToken:
    """A ready OAuth access token (it is not refreshed)."""

    def __init__(self, token: str) -> None:
        self._token = token
        register_secret(token)

    async def headers(self, session: aiohttp.ClientSession) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def __repr__(self) -> str:
        return "StaticToken(<hidden>)"


class _Refreshing:
    """A token fetched on demand and cached until shortly before it expires."""

    kind = "credentials"

    def __init__(self) -> None:
        self._token: str | None = None
        self._expires = 0.0
        self._lock: asyncio.Lock | None = None

    async def headers(self, session: aiohttp.ClientSession) -> dict[str, str]:
        if self._token is None or time.time() > self._expires - EARLY:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if self._token is None or time.time() > self._expires - EARLY:
                    self._token, lifetime = await self._fetch(session)
                    register_secret(self._token)
                    self._expires = time.time() + lifetime
        return {"Authorization": f"Bearer {self._token}"}

    async def _fetch(self, session: aiohttp.ClientSession) -> tuple[str, float]:
        raise NotImplementedError

    async def _exchange(
        self, session: aiohttp.ClientSession, url: str, form: Mapping[str, str], **kw: Any
    ) -> tuple[str, float]:
        """POST a token request; return (access_token, lifetime in seconds)."""
        import aiohttp

        try:
            async with session.post(url, data=dict(form), **kw) as resp:
                body = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            # retried like any request; offline, the cache answers instead
            raise StoreUnreachable(
                f"could not reach the token endpoint for {self.kind}: {type(exc).__name__}"
            ) from None
        try:
            answer = json.loads(body)
        except ValueError:
            answer = {}
        if status != 200 or not isinstance(answer, dict) or "access_token" not in answer:
            # the endpoint's "error" field names the problem and never carries a secret
            reason = answer.get("error") if isinstance(answer, dict) else None
            raise StoreAccessError(
                f"the token endpoint refused {self.kind} (HTTP {status}"
                f"{', ' + str(reason) if reason else ''})"
            )
        return str(answer["access_token"]), float(answer.get("expires_in", 3600))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class ServiceAccount(_Refreshing):
    """A service-account key: sign a JWT (RS256) and exchange it for an access token."""

    def __init__(self, info: Mapping[str, Any], scope: str = SCOPE) -> None:
        super().__init__()
        missing = [k for k in ("client_email", "private_key") if not info.get(k)]
        if missing:
            raise StoreAccessError(f"the service-account key lacks {', '.join(missing)}")
        self.email = str(info["client_email"])
        self.kind = f"service account {self.email}"
        self._key_pem = str(info["private_key"])
        register_secret(self._key_pem, *self._key_pem.splitlines())
        self._key_id = str(info.get("private_key_id") or "")
        self.token_uri = str(info.get("token_uri") or DEFAULT_TOKEN_URI)
        self.scope = scope

    def __repr__(self) -> str:
        return f"ServiceAccount({self.email!r})"

    def assertion(self, now: float | None = None) -> str:
        """The signed JWT that asks the token endpoint for an access token."""
        try:
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import padding, rsa
        except ImportError:
            raise ImportError(
                "service-account keys need the 'cryptography' package: pip install 'apins[gcs]'"
            ) from None
        issued = int(now if now is not None else time.time())
        header = {"alg": "RS256", "typ": "JWT"}
        if self._key_id:
            header["kid"] = self._key_id
        claims = {
            "iss": self.email,
            "scope": self.scope,
            "aud": self.token_uri,
            "iat": issued,
            "exp": issued + 3600,
        }
        signing_input = ".".join(
            _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        ).encode()
        try:
            key = serialization.load_pem_private_key(self._key_pem.encode(), password=None)
        except (ValueError, TypeError):
            raise StoreAccessError(
                f"the private key of {self.kind} is not a readable PEM key"
            ) from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise StoreAccessError(f"the private key of {self.kind} is not an RSA key")
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return signing_input.decode() + "." + _b64(signature)

    async def _fetch(self, session: aiohttp.ClientSession) -> tuple[str, float]:
        form = {
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": self.assertion(),
        }
        return await self._exchange(session, self.token_uri, form)


class AuthorizedUser(_Refreshing):
    """A user's refresh token (gcloud's application-default file)."""

    kind = "the user credentials"

    def __init__(self, info: Mapping[str, Any]) -> None:
        super().__init__()
        missing = [k for k in ("client_id", "client_secret", "refresh_token") if not info.get(k)]
        if missing:
            raise StoreAccessError(f"the user credentials lack {', '.join(missing)}")
        self._form = {
            "grant_type": "refresh_token",
            "client_id": str(info["client_id"]),
            "client_secret": str(info["client_secret"]),
            "refresh_token": str(info["refresh_token"]),
        }
        self.token_uri = str(info.get("token_uri") or DEFAULT_TOKEN_URI)
        register_secret(self._form["client_secret"], self._form["refresh_token"])

    def __repr__(self) -> str:
        return "AuthorizedUser(<hidden>)"

    async def _fetch(self, session: aiohttp.ClientSession) -> tuple[str, float]:
        return await self._exchange(session, self.token_uri, self._form)


class MetadataServer(_Refreshing):
    """The GCE / Cloud Run metadata server's token for the attached service account."""

    kind = "the metadata server's service account"

    def __repr__(self) -> str:
        return "MetadataServer()"

    async def _fetch(self, session: aiohttp.ClientSession) -> tuple[str, float]:
        import aiohttp

        try:
            async with session.get(
                METADATA_TOKEN_URL,
                headers={"Metadata-Flavor": "Google"},
                timeout=aiohttp.ClientTimeout(total=5),
            ) as resp:
                body = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            raise StoreAccessError(
                "no Google credentials found: pass token= (a service-account file or an access "
                "token), set GOOGLE_APPLICATION_CREDENTIALS, run `gcloud auth "
                "application-default login`, or use anonymous=True for public buckets"
            ) from None
        answer = json.loads(body) if status == 200 else {}
        if "access_token" not in answer:
            raise StoreAccessError(f"the metadata server gave no token (HTTP {status})")
        return str(answer["access_token"]), float(answer.get("expires_in", 3600))


class GoogleAuth(_Refreshing):
    """A ``google.auth.credentials.Credentials`` object, refreshed in a worker thread."""

    kind = "the google-auth credentials"

    def __init__(self, creds: Any) -> None:
        super().__init__()
        self._creds = creds

    def __repr__(self) -> str:
        return f"GoogleAuth({type(self._creds).__name__})"

    async def _fetch(self, session: aiohttp.ClientSession) -> tuple[str, float]:
        import anyio

        creds = self._creds

        def refresh() -> None:
            from google.auth.transport.requests import Request

            creds.refresh(Request())

        if not getattr(creds, "valid", False) or not getattr(creds, "token", None):
            try:
                await anyio.to_thread.run_sync(refresh)
            except ImportError:
                raise
            except Exception as exc:  # google-auth raises many types; never show their text
                raise StoreAccessError(
                    f"refreshing {self.kind} failed: {type(exc).__name__}"
                ) from None
        expiry = getattr(creds, "expiry", None)
        lifetime = 3600.0
        if expiry is not None:
            lifetime = max(0.0, expiry.timestamp() - time.time()) if expiry.tzinfo else 3000.0
        return str(creds.token), lifetime


def from_info(info: Mapping[str, Any]) -> Credentials:
    """Credentials from a parsed JSON key file."""
    kind = info.get("type")
    if kind == "service_account":
        return ServiceAccount(info)
    if kind == "authorized_user":
        return AuthorizedUser(info)
    return _google_auth_from_info(info, kind)


def _google_auth_from_info(info: Mapping[str, Any], kind: Any) -> Credentials:
    try:
        import google.auth
    except ImportError:
        raise StoreAccessError(
            f"credentials of type {kind!r} need google-auth: pip install 'apins[gcs]'"
        ) from None
    load = google.auth.load_credentials_from_dict
    creds, _ = load(dict(info), scopes=[SCOPE])  # type: ignore[no-untyped-call,unused-ignore]
    return GoogleAuth(creds)


def from_file(path: str | os.PathLike[str]) -> Credentials:
    """Credentials from a JSON key file (service account, authorized user, external account)."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise StoreAccessError(
            f"cannot read the Google credentials file {os.fspath(path)!r}: {exc.strerror}"
        ) from None
    try:
        info = json.loads(text)
    except ValueError:
        raise StoreAccessError(
            f"the Google credentials file {os.fspath(path)!r} is not JSON"
        ) from None
    if not isinstance(info, dict):
        raise StoreAccessError(f"the Google credentials file {os.fspath(path)!r} is not a key")
    return from_info(info)


def _gcloud_adc_file() -> Path:
    config = os.environ.get("CLOUDSDK_CONFIG")
    if config:
        return Path(config) / "application_default_credentials.json"
    if os.name == "nt":  # pragma: no cover
        return Path(os.environ.get("APPDATA", "")) / "gcloud/application_default_credentials.json"
    return Path.home() / ".config/gcloud/application_default_credentials.json"


def application_default() -> Credentials:
    """Application default credentials, found without I/O beyond reading local files."""
    env = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if env:
        return from_file(env)
    gcloud = _gcloud_adc_file()
    if gcloud.is_file():
        return from_file(gcloud)
    try:
        import google.auth
    except ImportError:
        return MetadataServer()
    try:
        creds, _ = google.auth.default(scopes=[SCOPE])
    except Exception:
        return MetadataServer()
    return GoogleAuth(creds)


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # too long for a file name, a NUL byte...
        return False


def resolve_credentials(token: Any, *, anonymous: bool, emulated: bool) -> Credentials:
    """Pick the credentials for ``board_gcs(token=..., anonymous=...)``.

    With an emulator (``STORAGE_EMULATOR_HOST`` or ``endpoint_url``) and no token, requests go
    unauthenticated, as Google's own clients do.
    """
    if anonymous or token in ("anon", "anonymous"):
        return Anonymous()
    if token is None:
        return Anonymous() if emulated else application_default()
    if isinstance(token, Mapping):
        return from_info(token)
    if isinstance(token, os.PathLike):
        return from_file(token)
    if isinstance(token, str):
        if token == "google_default":
            return application_default()
        if token == "cloud":
            return MetadataServer()
        # a path only when it names a file or a JSON key: an access token may contain '/'
        if token.endswith(".json") or _is_file(token):
            return from_file(token)
        return StaticToken(token)
    if hasattr(token, "refresh") and hasattr(token, "token"):
        return GoogleAuth(token)
    raise TypeError(
        "token must be a path to a JSON key file, a parsed key (dict), an access token "
        f"string, a google.auth credentials object, 'anon' or None; not {type(token).__name__}"
    )
