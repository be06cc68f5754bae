"""Azure Blob credentials: connection strings, Shared Key signing, SAS tokens, bearer tokens.

Requests are signed here and sent on apins's own aiohttp session (see :mod:`apins.stores.azure`):
Shared Key is one HMAC-SHA256 over a canonical form of the request. No secret ever appears in a
``repr``, a log line or an error message; only the account name and the endpoint do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from .._redact import register_secret, shield
from ..errors import StoreAccessError

#: the Blob service REST version every request names (supports copy-source authorization)
API_VERSION = "2023-11-03"
#: OAuth scope of Azure Storage
STORAGE_SCOPE = "https://storage.azure.com/.default"
#: the account name and key every Azure storage emulator accepts (public, documented)
DEV_ACCOUNT = "devstoreaccount1"
_DEV_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
#: headers whose values take a fixed slot in the Shared Key string-to-sign, in order
_SIGNED_SLOTS = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)


class Signer(Protocol):
    """Adds authorization to one request (headers and/or query), just before it is sent."""

    @property
    def kind(self) -> str:
        """What a 403 message may say about this credential (never the secret)."""
        ...

    async def authorize(self, method: str, url: str, headers: dict[str, str]) -> str:
        """Return the URL to send (a SAS adds its query) and set auth headers in place."""
        ...

    async def source_auth(self, url: str, headers: dict[str, str]) -> str:
        """Authorize ``url`` as the *source* of a server-side copy: return the URL to name
        in ``x-ms-copy-source`` and set any ``x-ms-copy-source-authorization`` header."""
        ...


@dataclass(frozen=True)
class SharedKey:
    """An account name and key: each request carries an HMAC of its canonical form."""

    account: str
    key: bytes = field(repr=False)
    kind: str = "account key"

    @classmethod
    def from_base64(cls, account: str, key: str) -> SharedKey:
        shield(key)
        try:
            raw = base64.b64decode(key, validate=True)
        except ValueError:
            raise StoreAccessError(
                f"the account key for {account!r} is not valid base64 (key not shown)"
            ) from None
        return cls(account, raw)

    def __repr__(self) -> str:
        return f"SharedKey(account={self.account!r}, key=<hidden>)"

    def signature(self, method: str, url: str, headers: Mapping[str, str]) -> str:
        """The ``Authorization`` header value for this request."""
        lower = {k.lower(): v for k, v in headers.items()}
        slots = [lower.get(name, "") for name in _SIGNED_SLOTS]
        if slots[2] == "0":  # an empty body's length is signed as the empty string
            slots[2] = ""
        ms = sorted((k, v.strip()) for k, v in lower.items() if k.startswith("x-ms-"))
        canon_headers = "".join(f"{k}:{v}\n" for k, v in ms)
        parts = urlsplit(url)
        resource = f"/{self.account}{parts.path or '/'}"
        query: dict[str, list[str]] = {}
        for k, v in parse_qsl(parts.query, keep_blank_values=True):
            query.setdefault(k.lower(), []).append(v)
        for k in sorted(query):
            resource += f"\n{k}:{','.join(sorted(query[k]))}"
        to_sign = "\n".join([method.upper(), *slots]) + "\n" + canon_headers + resource
        digest = hmac.new(self.key, to_sign.encode("utf-8"), hashlib.sha256).digest()
        return f"SharedKey {self.account}:{base64.b64encode(digest).decode()}"

    async def authorize(self, method: str, url: str, headers: dict[str, str]) -> str:
        headers["Authorization"] = self.signature(method, url, headers)
        return url

    async def source_auth(self, url: str, headers: dict[str, str]) -> str:
        # a copy source in the same account is authorized by the copy request's own key
        return url


@dataclass(frozen=True)
class Sas:
    """A shared access signature: a query string added to every URL."""

    token: str = field(repr=False)
    kind: str = "SAS token"

    def __post_init__(self) -> None:
        shield(self.token)

    def __repr__(self) -> str:
        return "Sas(<hidden>)"

    def _with(self, url: str) -> str:
        return url + ("&" if "?" in url else "?") + self.token

    async def authorize(self, method: str, url: str, headers: dict[str, str]) -> str:
        return self._with(url)

    async def source_auth(self, url: str, headers: dict[str, str]) -> str:
        return self._with(url)


class TokenSource(Protocol):
    """Anything with azure-core's ``get_token(*scopes)`` (sync or async), e.g. azure-identity."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


class Bearer:
    """An OAuth token credential: tokens are fetched on demand and reused until near expiry."""

    kind = "token credential"

    def __init__(self, credential: TokenSource) -> None:
        shield()
        self._credential = credential
        self._token: str | None = None
        self._expires = 0.0

    def __repr__(self) -> str:
        return f"Bearer({type(self._credential).__name__})"

    async def token(self) -> str:
        if self._token is None or time.time() > self._expires - 300:
            get = self._credential.get_token
            if inspect.iscoroutinefunction(get):
                got = await get(STORAGE_SCOPE)
            else:
                import anyio

                got = await anyio.to_thread.run_sync(get, STORAGE_SCOPE)
                if inspect.isawaitable(got):
                    got = await got
            self._token = str(got.token)
            register_secret(self._token)
            self._expires = float(got.expires_on)
        return self._token

    async def authorize(self, method: str, url: str, headers: dict[str, str]) -> str:
        headers["Authorization"] = f"Bearer {await self.token()}"
        return url

    async def source_auth(self, url: str, headers: dict[str, str]) -> str:
        headers["x-ms-copy-source-authorization"] = f"Bearer {await self.token()}"
        return url

    async def aclose(self) -> None:
        close = getattr(self._credential, "close", None)
        if close is not None and inspect.iscoroutinefunction(close):
            await close()


class Anonymous:
    """No credential: public containers only."""

    kind = "no credential"

    async def authorize(self, method: str, url: str, headers: dict[str, str]) -> str:
        return url

    async def source_auth(self, url: str, headers: dict[str, str]) -> str:
        return url


@dataclass(frozen=True)
class Account:
    """Where an account's blob service lives and how to sign for it."""

    #: the blob endpoint without query or trailing '/', e.g. ``https://acct.blob.core.windows.net``
    url: str
    name: str
    signer: Signer = field(repr=False)


def account_name_from_url(url: str) -> str:
    """The account of a blob endpoint: the first host label, or the first path segment for
    emulators and other path-style endpoints (``http://127.0.0.1:10000/devstoreaccount1``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    segments = [s for s in parts.path.split("/") if s]
    if ".blob." in host:
        return host.split(".", 1)[0]
    if segments:
        return unquote(segments[0])
    return host.split(".", 1)[0]


def parse_connection_string(text: str) -> dict[str, str]:
    """``Key=Value;...`` pairs (values may contain '='), keys as written."""
    shield(text)
    out: dict[str, str] = {}
    for piece in text.strip().split(";"):
        if not piece.strip():
            continue
        key, sep, value = piece.partition("=")
        if not sep:
            raise StoreAccessError(
                "the Azure connection string is malformed: expected Key=Value pairs "
                "separated by ';' (its content is not shown)"
            )
        out[key.strip()] = value.strip()
    return out


def from_connection_string(text: str) -> Account:
    """The account a connection string names (account key, SAS or the emulator)."""
    fields = {k.lower(): v for k, v in parse_connection_string(text).items()}
    if fields.get("usedevelopmentstorage", "").lower() == "true":
        url = "http://127.0.0.1:10000/" + DEV_ACCOUNT
        return Account(url, DEV_ACCOUNT, SharedKey.from_base64(DEV_ACCOUNT, _DEV_KEY))
    name = fields.get("accountname")
    endpoint = fields.get("blobendpoint")
    if not endpoint:
        if not name:
            raise StoreAccessError(
                "the Azure connection string names neither BlobEndpoint nor AccountName"
            )
        protocol = fields.get("defaultendpointsprotocol", "https")
        suffix = fields.get("endpointsuffix", "core.windows.net")
        endpoint = f"{protocol}://{name}.blob.{suffix}"
    endpoint = endpoint.rstrip("/")
    name = name or account_name_from_url(endpoint)
    signer: Signer
    if fields.get("accountkey"):
        signer = SharedKey.from_base64(name, fields["accountkey"])
    elif fields.get("sharedaccesssignature"):
        signer = Sas(fields["sharedaccesssignature"].lstrip("?"))
    else:
        signer = Anonymous()
    return Account(endpoint, name, signer)


def from_account_url(url: str, credential: Any) -> Account:
    """An account from its URL (a SAS in its query is used) and an optional credential.

    ``credential``: None (the SAS in the URL, else azure-identity's default chain, which needs
    ``apins[azure]``), a SAS token string, an account key string, a mapping with
    ``account_name``/``account_key``, azure-core's named-key or SAS credentials, or any object
    with ``get_token``.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("account_url must be an http(s) URL of the blob service endpoint")
    endpoint = f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")
    name = account_name_from_url(endpoint)
    signer: Signer
    if credential is None and "sig=" in parts.query:
        signer = Sas(parts.query)
    elif credential is None:
        signer = default_credential()
    elif isinstance(credential, str):
        if "sig=" in credential:
            signer = Sas(credential.lstrip("?"))
        else:
            signer = SharedKey.from_base64(name, credential)
    elif isinstance(credential, Mapping):
        name = str(credential.get("account_name") or name)
        signer = SharedKey.from_base64(name, str(credential["account_key"]))
    elif hasattr(credential, "named_key"):  # azure.core.credentials.AzureNamedKeyCredential
        key_name, key = credential.named_key
        name = str(key_name)
        signer = SharedKey.from_base64(name, str(key))
    elif hasattr(credential, "signature"):  # azure.core.credentials.AzureSasCredential
        signer = Sas(str(credential.signature).lstrip("?"))
    elif hasattr(credential, "get_token"):
        signer = Bearer(credential)
    else:
        raise TypeError(
            f"unsupported Azure credential of type {type(credential).__name__}: pass a SAS "
            "token, an account key, {'account_name', 'account_key'} or a token credential"
        )
    return Account(endpoint, name, signer)


def default_credential() -> Signer:
    """azure-identity's DefaultAzureCredential (async); a clear error when it is not installed
    (anonymous requests would fail later as a puzzling 'not found' or 'forbidden')."""
    try:
        from azure.identity.aio import DefaultAzureCredential
    except ImportError:
        raise StoreAccessError(
            "an Azure account URL without a credential uses azure-identity's default "
            "credential chain, which is not installed: pip install 'apins[azure]', or pass "
            "credential= (an account key, a SAS token or a token credential); for a public "
            "container use connection_string='BlobEndpoint=<account URL>'"
        ) from None
    return Bearer(DefaultAzureCredential())
