"""SigV4 signing of S3 requests without botocore's request pipeline: presigned GET URLs
(reads, listings) and signed headers for writes (PutObject, CopyObject, the multipart calls).

botocore spends about 0.4 ms of CPU on every presigned URL (event hooks, endpoint rules,
request objects); the signature itself is four cached HMACs and one SHA-256. Where a
bucket's URLs live (scheme, host, bucket path, signing region) stays botocore's decision:
:meth:`UrlTemplate.learn` reads it off two URLs botocore presigned once per store, so
addressing style, regional and custom endpoints behave exactly as before.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote, urlsplit

#: characters left as they are in query keys and values (botocore's and AWS's rule)
_QUERY_SAFE = "-._~"
#: ...and in object keys, where '/' separates path segments
_PATH_SAFE = "/~"
_ALGORITHM = "AWS4-HMAC-SHA256"


class Keys:
    """Credentials to sign with; the secret and token never appear in repr."""

    __slots__ = ("access_key", "secret_key", "token")

    def __init__(self, access_key: str, secret_key: str, token: str | None = None) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.token = token

    def __repr__(self) -> str:
        return f"Keys(access_key={self.access_key!r}, secret_key=***)"


@dataclass(frozen=True, slots=True)
class UrlTemplate:
    """How one bucket's URLs are built: ``origin + object_base + "/" + quoted key`` for
    objects, ``origin + list_path + "?list-type=2&..."`` for listings."""

    origin: str
    host: str
    object_base: str
    list_path: str
    #: the signing region (None: the URLs were unsigned)
    region: str | None

    @classmethod
    def learn(cls, object_url: str, probe_key: str, list_url: str) -> UrlTemplate | None:
        """The template behind two botocore presigned URLs: a GetObject of ``probe_key``
        (plain characters only) and a ListObjectsV2 of the same bucket. None when they do
        not have the expected shape (the caller keeps presigning through botocore)."""
        obj, lst = urlsplit(object_url), urlsplit(list_url)
        tail = "/" + probe_key
        if (
            obj.scheme not in ("http", "https")
            or (obj.scheme, obj.netloc) != (lst.scheme, lst.netloc)
            or not obj.path.endswith(tail)
            or obj.username is not None
        ):
            return None
        region: str | None = None
        credential = dict(parse_qsl(obj.query)).get("X-Amz-Credential")
        if credential is not None:  # else unsigned (anonymous) URLs
            scope = credential.split("/")
            if len(scope) != 5 or scope[3] != "s3" or scope[4] != "aws4_request":
                return None
            region = scope[2]
        return cls(
            origin=f"{obj.scheme}://{obj.netloc}",
            host=_host_header(obj.scheme, obj.hostname or "", obj.port),
            object_base=obj.path[: -len(tail)],
            list_path=lst.path or "/",
            region=region,
        )

    def object_path(self, key: str) -> str:
        """The URL path of object ``key`` (the full key, board prefix included)."""
        return f"{self.object_base}/{quote(key, safe=_PATH_SAFE)}"


def _host_header(scheme: str, hostname: str, port: int | None) -> str:
    """The Host value a client sends (and SigV4 signs): the default port left out."""
    host = f"[{hostname}]" if ":" in hostname else hostname
    if port is not None and port != {"http": 80, "https": 443}.get(scheme):
        host = f"{host}:{port}"
    return host


class Presigner:
    """Presigns GETs for one :class:`UrlTemplate`; derived signing keys are cached per day."""

    def __init__(self, template: UrlTemplate) -> None:
        self.template = template
        self._day_key: tuple[str, str, bytes] | None = None  # (secret, yyyymmdd, key)

    def _signing_key(self, secret: str, day: str, region: str) -> bytes:
        cached = self._day_key
        if cached is not None and cached[0] == secret and cached[1] == day:
            return cached[2]
        key = _hmac(f"AWS4{secret}".encode(), day)
        for part in (region, "s3", "aws4_request"):
            key = _hmac(key, part)
        self._day_key = (secret, day, key)
        return key

    def _scope(self, when: datetime | None) -> tuple[str, str]:
        """The request's timestamp and credential scope (``day/region/s3/aws4_request``)."""
        if self.template.region is None:
            raise ValueError("this URL template has no signing region")
        stamp = (when or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
        return stamp, f"{stamp[:8]}/{self.template.region}/s3/aws4_request"

    def _signature(self, secret: str, stamp: str, scope: str, canonical: str) -> str:
        """The SigV4 signature of the canonical request ``canonical``."""
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        to_sign = f"{_ALGORITHM}\n{stamp}\n{scope}\n{digest}"
        day, region = scope.split("/")[:2]
        key = self._signing_key(secret, day, region)
        return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()

    def url(
        self,
        path: str,
        query: Mapping[str, str],
        keys: Keys | None,
        *,
        expires: int = 3600,
        when: datetime | None = None,
    ) -> str:
        """A URL for GET ``path`` (already percent-encoded) with ``query``, signed with
        ``keys`` for ``expires`` seconds from ``when`` (now); unsigned when ``keys`` is None."""
        t = self.template
        pairs = [(quote(k, safe=_QUERY_SAFE), quote(v, safe=_QUERY_SAFE)) for k, v in query.items()]
        if keys is None:
            return _join(t.origin + path, pairs)
        stamp, scope = self._scope(when)
        auth = [
            ("X-Amz-Algorithm", _ALGORITHM),
            ("X-Amz-Credential", quote(f"{keys.access_key}/{scope}", safe=_QUERY_SAFE)),
            ("X-Amz-Date", stamp),
            ("X-Amz-Expires", str(expires)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        if keys.token is not None:
            auth.append(("X-Amz-Security-Token", quote(keys.token, safe=_QUERY_SAFE)))
        signed = pairs + auth
        canonical_query = "&".join(f"{k}={v}" for k, v in sorted(signed))
        canonical = f"GET\n{path}\n{canonical_query}\nhost:{t.host}\n\nhost\nUNSIGNED-PAYLOAD"
        signature = self._signature(keys.secret_key, stamp, scope, canonical)
        return _join(t.origin + path, [*signed, ("X-Amz-Signature", signature)])

    def headers(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        payload_sha256: str,
        keys: Keys,
        *,
        query: str = "",
        when: datetime | None = None,
    ) -> dict[str, str]:
        """``headers`` plus the SigV4 Authorization for ``method path?query`` (``query`` as
        :func:`canonical_query` makes it) with a body whose SHA-256 is ``payload_sha256``
        (or ``UNSIGNED-PAYLOAD``); every given header is signed."""
        t = self.template
        stamp, scope = self._scope(when)
        out = dict(headers)
        out["x-amz-date"] = stamp
        out["x-amz-content-sha256"] = payload_sha256
        if keys.token is not None:
            out["x-amz-security-token"] = keys.token
        pairs = [*out.items(), ("host", t.host)]
        signed = sorted((k.lower(), " ".join(v.split())) for k, v in pairs)
        names = ";".join(k for k, _ in signed)
        lines = "".join(f"{k}:{v}\n" for k, v in signed)
        canonical = f"{method}\n{path}\n{query}\n{lines}\n{names}\n{payload_sha256}"
        signature = self._signature(keys.secret_key, stamp, scope, canonical)
        out["Authorization"] = (
            f"{_ALGORITHM} Credential={keys.access_key}/{scope}, SignedHeaders={names}, "
            f"Signature={signature}"
        )
        return out


def canonical_query(params: Mapping[str, str]) -> str:
    """``params`` as a query string in SigV4's canonical form (percent-encoded, sorted),
    which is also a valid query to send: ``{"uploads": ""}`` gives ``uploads=``."""
    pairs = [(quote(k, safe=_QUERY_SAFE), quote(v, safe=_QUERY_SAFE)) for k, v in params.items()]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def _join(base: str, pairs: list[tuple[str, str]]) -> str:
    return f"{base}?{'&'.join(f'{k}={v}' for k, v in pairs)}" if pairs else base
