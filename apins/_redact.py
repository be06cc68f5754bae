"""Keep secrets out of logs, reprs, exception texts and CLI output.

* :func:`redact_url` masks signed-URL secrets (SigV4 and SigV2 signatures, credentials and
  session tokens, Azure SAS ``sig``, GCS signatures, ``access_token``/``key``/``token``
  parameters) and the user info of a URL.
* :func:`redact_headers` masks credential headers (``Authorization``, ``Key``, cookies,
  ``X-Amz-Security-Token``, ``x-ms-*`` auth, API-key headers).
* :func:`redact_text` scrubs free text: URLs and ``name=value`` query pairs, header pairs as
  client libraries print them (``'Authorization': b'...'``, ``x-amz-security-token:...``),
  ``Signature=``/``Credential=`` fields, and every secret value registered with
  :func:`register_secret` (stores register the keys and tokens they are given or find).
* :func:`install` makes every log record of apins and of the client libraries it drives
  (botocore, aiobotocore, aiohttp, urllib3...) pass through :func:`redact_record` when it is
  created, whatever handler later receives it; :class:`RedactingFilter` does the same as a
  ``logging.Filter`` for handlers of your own.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import traceback
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

__all__ = [
    "MASK",
    "RedactingFilter",
    "header_secrets",
    "install",
    "redact_exception_text",
    "redact_headers",
    "redact_record",
    "redact_text",
    "redact_url",
    "register_secret",
    "shield",
]

#: what replaces a secret
MASK = "***"

#: query parameters whose values are secrets (compared lower-case)
SECRET_PARAMS = frozenset(
    {
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "signature",  # SigV2 presigned URLs
        "awsaccesskeyid",
        "x-goog-signature",
        "x-goog-credential",
        "sig",  # Azure SAS
        "access_token",
        "id_token",
        "refresh_token",
        "token",
        "key",
        "api_key",
        "apikey",
        "api-key",
        "password",
        "secret",
        "client_secret",
        "code",
    }
)

#: header names whose values are secrets (compared lower-case)
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "key",
        "cookie",
        "set-cookie",
        "x-amz-security-token",
        "x-amz-server-side-encryption-customer-key",
        "x-amz-copy-source-server-side-encryption-customer-key",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "x-ms-copy-source-authorization",
        "x-ms-encryption-key",
        "x-goog-encryption-key",
        "x-goog-copy-source-encryption-key",
    }
)

#: loggers whose records are scrubbed as they are created (and all their children)
REDACTED_LOGGERS = (
    "apins",
    "botocore",
    "aiobotocore",
    "boto3",
    "s3transfer",
    "aiohttp",
    "urllib3",
    "requests",
    "azure",
    "google",
    "gcloud",
    "fsspec",
    "s3fs",
    "asyncio",
)

#: registered secret values shorter than this are not scrubbed from free text
MIN_SECRET_LEN = 6

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_secret_re: re.Pattern[str] | None = None

#: environment variables that hold credentials (registered by :func:`register_env_secrets`)
SECRET_ENV_VARS = (
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "CONNECT_API_KEY",
    "AZURE_STORAGE_KEY",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_CLIENT_SECRET",
    "GOOGLE_OAUTH_ACCESS_TOKEN",
)


def register_secret(*values: str | None) -> None:
    """Scrub these exact values (and their percent-encoded forms) from all redacted text."""
    global _secret_re
    new = {v for v in values if v and len(v) >= MIN_SECRET_LEN}
    if not new:
        return
    with _secrets_lock:
        before = len(_secrets)
        for v in new:
            _secrets.update({v, quote(v, safe=""), quote_plus(v, safe="")})
        if len(_secrets) != before:
            ordered = sorted(_secrets, key=len, reverse=True)  # longest first
            _secret_re = re.compile("|".join(re.escape(s) for s in ordered))


def register_env_secrets(environ: Mapping[str, str] | None = None) -> None:
    """Register the credentials found in the environment (see :data:`SECRET_ENV_VARS`)."""
    env = os.environ if environ is None else environ
    register_secret(*(env.get(name) for name in SECRET_ENV_VARS))


_PARAM_NAMES = "|".join(re.escape(p) for p in sorted(SECRET_PARAMS, key=len, reverse=True))
# name=value in a query string or fragment (after ? & ; #)
_QUERY_PAIR = re.compile(rf"(?i)([?&;#](?:{_PARAM_NAMES})=)[^&;#\s'\"<>]+")
# the signed-URL parameters are unmistakable: masked wherever they stand
_STRONG_PAIR = re.compile(
    r"(?i)\b(X-(?:Amz|Goog)-(?:Signature|Credential|Security-Token)=)[^&;#\s'\"<>]+"
)
# in free text a bare "Key" is mostly an S3 object key: the API key itself is registered
_TEXT_HEADERS = sorted(SECRET_HEADERS - {"key"}, key=len, reverse=True)
_HEADER_NAMES = "|".join(re.escape(h) for h in _TEXT_HEADERS)
# 'Authorization': b'...'  or  "key": "..."  (dict and header reprs)
_QUOTED_HEADER = re.compile(
    rf"(?i)(['\"](?:{_HEADER_NAMES})['\"]\s*[:=,]\s*\(?\s*b?)(['\"])(?:\\.|(?!\2).)*\2"
)
# Authorization: ...  /  x-amz-security-token:...  (HTTP heads, canonical requests), to line end
_PLAIN_HEADER = re.compile(rf"(?im)(^|[\s{{,;])((?:{_HEADER_NAMES})\s*:[ \t]*)[^\r\n'\"]+")
# fields inside an Authorization value or a signer's debug output (SigV4, SAS)
_SIG_FIELD = re.compile(r"(?i)\b(Signature|Credential|sig)(\s*[:=]\s*)([^,&\s'\"<>]{8,})")
# an Authorization value in prose: the scheme as sent, then a credential with a digit in it
_AUTH_SCHEME = re.compile(
    r"\b(Bearer|bearer|Basic|Key|SharedKey|SharedKeyLite|Token|token)\s+"
    r"(?=[^\s'\"]*[0-9])([A-Za-z0-9._~+/=:\-]{12,})"
)
# user info in any URL
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/@\s'\"<>]+@")


def redact_url(url: str) -> str:
    """``url`` with secret query values and any user info replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rpartition("@")[2]
    query = _redact_query(parts.query)
    fragment = _redact_query(parts.fragment)  # OAuth implicit flows put tokens there
    return _scrub_secrets(urlunsplit((parts.scheme, netloc, parts.path, query, fragment)))


def _redact_query(query: str) -> str:
    if not query:
        return query
    out = []
    for pair in query.split("&"):
        name, eq, _ = pair.partition("=")
        if eq and name.lower() in SECRET_PARAMS:
            out.append(f"{name}={MASK}")
        else:
            out.append(pair)
    return "&".join(out)


def redact_headers(headers: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A copy of ``headers`` with the values of credential headers replaced by ``***``."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {k: (MASK if _is_secret_header(k) else v) for k, v in items}


def header_secrets(headers: Mapping[str, str]) -> list[str]:
    """The secret values among ``headers``: whole values and the credential after a scheme
    (``Bearer abc`` gives ``Bearer abc`` and ``abc``), for :func:`register_secret`."""
    out: list[str] = []
    for name, value in headers.items():
        if _is_secret_header(name):
            out.append(value)
            _, _, cred = value.partition(" ")
            if cred.strip():
                out.append(cred.strip())
    return out


def _is_secret_header(name: str) -> bool:
    low = name.lower()
    return low in SECRET_HEADERS or (low.startswith("x-ms-") and "auth" in low)


def _scrub_secrets(text: str) -> str:
    pattern = _secret_re
    return pattern.sub(MASK, text) if pattern is not None else text


def redact_text(text: str) -> str:
    """``text`` with every secret this module recognises replaced by ``***``."""
    if not text:
        return text
    text = _scrub_secrets(text)
    text = _USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    text = _QUERY_PAIR.sub(lambda m: m.group(1) + MASK, text)
    text = _STRONG_PAIR.sub(lambda m: m.group(1) + MASK, text)
    text = _QUOTED_HEADER.sub(lambda m: m.group(1) + m.group(2) + MASK + m.group(2), text)
    text = _PLAIN_HEADER.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
    text = _AUTH_SCHEME.sub(lambda m: m.group(1) + " " + MASK, text)
    return _SIG_FIELD.sub(lambda m: m.group(1) + m.group(2) + MASK, text)


def redact_exception_text(exc: BaseException) -> str:
    """The formatted traceback of ``exc`` (its whole cause/context chain), redacted."""
    return redact_text("".join(traceback.format_exception(exc)))


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Scrub one log record in place: its message (args merged in), traceback and stack."""
    if getattr(record, "_apins_redacted", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep what can be shown
        message = f"{record.msg!s} {record.args!r}"
    record.msg = redact_text(message)
    record.args = ()
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        record.exc_text = redact_exception_text(record.exc_info[1]).rstrip("\n")
    elif record.exc_text:
        record.exc_text = redact_text(record.exc_text)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)
    record._apins_redacted = True
    return record


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs every record it sees (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def _should_redact(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in REDACTED_LOGGERS)


def install() -> None:
    """Scrub every record of the :data:`REDACTED_LOGGERS` as it is created (idempotent).

    It wraps the current log record factory once; if someone replaces the factory later,
    calling this again wraps the new one.
    """
    current = logging.getLogRecordFactory()
    if getattr(current, "_apins_redacting", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        if _should_redact(record.name):
            redact_record(record)
        return record

    factory._apins_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def shield(*secrets: str | None) -> None:
    """What every store calls on creation: :func:`install`, then register ``secrets`` and the
    credentials found in the environment."""
    install()
    register_env_secrets()
    register_secret(*secrets)
