"""apins's own SigV4 presigner (apins.stores._sigv4): byte for byte botocore's URLs for the
same inputs, and real GETs and listings with it on SeaweedFS (which checks signatures) and
moto."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from apins.errors import StoreAccessError
from apins.settings import TransferSettings
from apins.stores._sigv4 import Keys, Presigner, UrlTemplate, canonical_query
from apins.stores.base import PreconditionFailed
from apins.stores.s3 import S3Store
from tests.servers import NginxServer, S3Server

KEYS = [
    "plain.txt",
    "dir/sub/file.parquet",
    "with space/and+plus/é~x*y(z)!'@:;,=&$?#%.bin",
    "日本語/データ.csv",
    "a//double/slash",
    "trailing/",
]
LIST_PARAMS: list[dict[str, str]] = [
    {"Prefix": ""},
    {"Prefix": "team/pins/", "Delimiter": "/"},
    {"Prefix": "a b/+é", "Delimiter": "/", "ContinuationToken": "x+y/z=="},
]
CONFIGS: list[tuple[str | None, str, str | None]] = [
    ("http://127.0.0.1:8333", "us-east-1", "path"),
    ("https://s3.example.org", "eu-west-1", "path"),
    ("https://s3.example.org:8443/", "eu-central-1", "path"),
    ("https://s3.example.org:443", "eu-central-1", "path"),  # default port: not signed
    (None, "eu-west-1", None),  # AWS: virtual-hosted style
    (None, "us-east-1", "path"),
]


def _client(endpoint: str | None, region: str, style: str | None, token: str | None) -> Any:
    config = Config(signature_version="s3v4", s3={"addressing_style": style} if style else {})
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name=region, aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalr/XUtnFEMI+K7MDENG=bPxRfiCY", aws_session_token=token,
        config=config,
    )  # fmt: skip


def _template(client: Any, bucket: str) -> UrlTemplate:
    obj = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "probe"})
    listing = client.generate_presigned_url("list_objects_v2", Params={"Bucket": bucket})
    template = UrlTemplate.learn(obj, "probe", listing)
    assert template is not None
    return template


def _when(url: str) -> datetime:
    stamp = dict(parse_qsl(urlsplit(url).query))["X-Amz-Date"]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)


def _list_query(params: dict[str, str]) -> dict[str, str]:
    query = {"list-type": "2", "prefix": params["Prefix"]}
    if "Delimiter" in params:
        query["delimiter"] = params["Delimiter"]
    if "ContinuationToken" in params:
        query["continuation-token"] = params["ContinuationToken"]
    query["encoding-type"] = "url"
    return query


@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzE+token/with=chars"])
@pytest.mark.parametrize(("endpoint", "region", "style"), CONFIGS)
def test_presigned_urls_equal_botocores(
    endpoint: str | None, region: str, style: str | None, token: str | None
) -> None:
    client = _client(endpoint, region, style, token)
    bucket = "my-bucket"
    presigner = Presigner(_template(client, bucket))
    keys = Keys("AKIDEXAMPLE", "wJalr/XUtnFEMI+K7MDENG=bPxRfiCY", token)
    for key in KEYS:
        theirs = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
        path = presigner.template.object_path(key)
        assert presigner.url(path, {}, keys, when=_when(theirs)) == theirs, key
    for params in LIST_PARAMS:
        theirs = client.generate_presigned_url(
            "list_objects_v2", Params={"Bucket": bucket, **params}
        )
        ours = presigner.url(
            presigner.template.list_path, _list_query(params), keys, when=_when(theirs)
        )
        assert ours == theirs, params


def test_signing_key_follows_the_day_and_the_secret() -> None:
    client = _client("http://127.0.0.1:8333", "us-east-1", "path", None)
    presigner = Presigner(_template(client, "b"))
    path = presigner.template.object_path("k")
    day1 = datetime(2026, 1, 1, 23, 59, 59, tzinfo=timezone.utc)
    day2 = datetime(2026, 1, 2, 0, 0, 0, tzinfo=timezone.utc)
    a = presigner.url(path, {}, Keys("AK", "secret-one"), when=day1)
    b = presigner.url(path, {}, Keys("AK", "secret-one"), when=day2)
    c = presigner.url(path, {}, Keys("AK", "secret-two"), when=day2)
    fresh = Presigner(presigner.template)  # no cached signing key
    assert fresh.url(path, {}, Keys("AK", "secret-one"), when=day2) == b
    assert Presigner(presigner.template).url(path, {}, Keys("AK", "secret-two"), when=day2) == c
    assert len({a, b, c}) == 3


def test_unsigned_template_signs_nothing() -> None:
    client = boto3.client(
        "s3", endpoint_url="http://127.0.0.1:8333", region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"}),
    )  # fmt: skip
    template = _template(client, "pub")
    assert template.region is None
    presigner = Presigner(template)
    url = presigner.url(template.object_path("a b.txt"), {}, None)
    params = {"Bucket": "pub", "Key": "a b.txt"}
    assert url == client.generate_presigned_url("get_object", Params=params)
    with pytest.raises(ValueError, match="signing region"):
        presigner.url(template.object_path("x"), {}, Keys("AK", "SK"))


def test_unexpected_url_shapes_are_not_learnt() -> None:
    listing = "http://h/b?list-type=2"
    signed = "X-Amz-Credential=AK%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
    assert UrlTemplate.learn(f"http://h/b/other?{signed}", "probe", listing) is None
    assert UrlTemplate.learn(f"ftp://h/b/probe?{signed}", "probe", listing) is None
    assert UrlTemplate.learn(f"http://h/b/probe?{signed}", "probe", "http://other/b") is None
    bad_scope = signed.replace("s3", "sts")
    assert UrlTemplate.learn(f"http://h/b/probe?{bad_scope}", "probe", listing) is None


def test_keys_repr_hides_the_secret() -> None:
    keys = Keys("AKIDEXAMPLE", "very-secret-value", "token-value")
    assert "very-secret-value" not in repr(keys) and "token-value" not in repr(keys)


@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzE+token/with=chars"])
@pytest.mark.parametrize(("endpoint", "region", "style"), CONFIGS)
def test_signed_write_headers_equal_botocores(
    endpoint: str | None,
    region: str,
    style: str | None,
    token: str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PutObject (with Content-MD5) and CopyObject headers signed like botocore's SigV4."""
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    client = _client(endpoint, region, style, token)
    presigner = Presigner(_template(client, "my-bucket"))
    keys = Keys("AKIDEXAMPLE", "wJalr/XUtnFEMI+K7MDENG=bPxRfiCY", token)
    when = datetime(2026, 11, 29, 23, 59, 58, tzinfo=timezone.utc)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: when.replace(tzinfo=None))
    auth = botocore.auth.S3SigV4Auth(
        Credentials("AKIDEXAMPLE", "wJalr/XUtnFEMI+K7MDENG=bPxRfiCY", token), "s3", region
    )
    writes = [
        ({"Content-MD5": "XUFAKrxLKna5cZ2REBfFkg=="}, b"hello"),
        ({"x-amz-copy-source": "b/a%20b/c.bin", "x-amz-copy-source-if-match": '"e1"'}, b""),
    ]
    for key in KEYS:
        path = presigner.template.object_path(key)
        for headers, body in writes:
            sha = hashlib.sha256(body).hexdigest()
            ours = presigner.headers("PUT", path, headers, sha, keys, when=when)
            theirs = AWSRequest(
                "PUT", presigner.template.origin + path, headers=dict(headers), data=body
            )
            theirs.headers["X-Amz-Content-SHA256"] = sha
            auth.add_auth(theirs)
            assert ours["Authorization"] == theirs.headers["Authorization"], key
        # the multipart calls: a query, and UploadPart's file body as UNSIGNED-PAYLOAD
        calls: list[tuple[str, dict[str, str], bytes | None]] = [
            ("PUT", {"partNumber": "7", "uploadId": "2~a b/c+d=="}, None),
            ("POST", {"uploads": ""}, b""),
            ("POST", {"uploadId": "x/y z"}, b"<Complete/>"),
        ]
        for method, params, body in calls:
            query = canonical_query(params)
            payload = "UNSIGNED-PAYLOAD" if body is None else hashlib.sha256(body).hexdigest()
            md5 = {"Content-MD5": "XUFAKrxLKna5cZ2REBfFkg=="}
            ours = presigner.headers(method, path, md5, payload, keys, query=query, when=when)
            url = f"{presigner.template.origin}{path}?{query}"
            theirs = AWSRequest(method, url, headers=dict(md5), data=body or b"")
            theirs.context["client_config"] = Config(
                s3={"payload_signing_enabled": body is not None}
            )
            auth.add_auth(theirs)
            assert theirs.headers["X-Amz-Content-SHA256"] == payload
            assert ours["Authorization"] == theirs.headers["Authorization"], (key, params)


# -- real servers ----------------------------------------------------------------------------


@pytest.fixture(params=["seaweed", "moto"])
def server(request: pytest.FixtureRequest) -> S3Server:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def _store(server: S3Server, bucket: str, prefix: str = "", **kw: Any) -> S3Store:
    creds: dict[str, Any] = {"access_key": server.access_key, "secret_key": server.secret_key}
    creds.update(kw)
    return S3Store(bucket, prefix, endpoint_url=server.endpoint_url, region=server.region,
                   settings=TransferSettings(), **creds)  # fmt: skip


async def _read(store: S3Store, key: str) -> bytes:
    stream = await store.open_read(key)
    try:
        return b"".join([c async for c in stream.chunks(1 << 16)])
    finally:
        await stream.aclose()


async def test_reads_and_listings_with_own_signatures(server: S3Server) -> None:
    bucket = server.make_bucket()
    s3 = server.boto3_client()
    # SeaweedFS folds "//" in keys into "/" (a filer path): not a case for real servers
    real = [k for k in KEYS if not k.endswith("/") and "//" not in k]
    bodies = {f"pre fix/{k}": f"body of {k}".encode() for k in real}
    for k, body in bodies.items():
        s3.put_object(Bucket=bucket, Key=k, Body=body)
    store = _store(server, bucket, "pre fix")
    try:
        for k, body in bodies.items():
            assert await _read(store, k.removeprefix("pre fix/")) == body
        assert isinstance(store._signer, Presigner)  # botocore presigned the probes only
        listed = {o.key for o in await store.list("")}
        assert listed == {k.removeprefix("pre fix/") for k in bodies}
        assert set(await store.list_dirs("")) == {"dir", "with space", "日本語"}
        # a range read and a conditional read go through the same signed URL
        stream = await store.open_read("plain.txt", start=5, end=7)
        try:
            assert b"".join([c async for c in stream.chunks(1024)]) == b"of"
        finally:
            await stream.aclose()
    finally:
        await store.aclose()


async def test_writes_and_copies_with_own_signatures(server: S3Server) -> None:
    """put_bytes and copy_from sign their own requests: botocore sends none of them."""
    bucket = server.make_bucket()
    real = [k for k in KEYS if not k.endswith("/") and "//" not in k]
    store = _store(server, bucket, "pre fix")
    try:
        for k in real:
            put = await store.put_bytes(f"a/{k}", f"body of {k}".encode())
            info = (await store.list(f"a/{k}"))[0]
            assert put.etag == info.etag
            copied = await store.copy_from(store, f"a/{k}", f"b/{k}", info=info)
            assert copied is not None and copied.etag == info.etag
            assert await _read(store, f"b/{k}") == f"body of {k}".encode()
        assert isinstance(store._signer, Presigner)
        n = len(real)
        assert (store.request_counts["PutObject"], store.request_counts["CopyObject"]) == (n, n)
        client = await store._get_client()
        sent: list[str] = []
        client.meta.events.register("before-send.s3", lambda **kw: sent.append("x"))
        await store.put_bytes("c", b"x")
        await store.copy_from(store, "c", "d", info=(await store.list("c"))[0])
        assert sent == []
        if server.kind == "seaweedfs":  # moto ignores x-amz-copy-source-if-match
            # a changed source fails its copy (If-Match on the listed ETag)
            stale = (await store.list("c"))[0]
            await store.put_bytes("c", b"changed")
            with pytest.raises(PreconditionFailed):
                await store.copy_from(store, "c", "e", info=stale)
    finally:
        await store.aclose()


async def test_listing_pages_follow_continuation_tokens(server: S3Server) -> None:
    bucket = server.make_bucket()
    s3 = server.boto3_client()
    keys = [f"p/k{i:04d}+x" for i in range(1005)]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b""), keys))
    store = _store(server, bucket)
    try:
        assert sorted(o.key for o in await store.list("p/")) == keys
        assert store.request_counts["ListObjectsV2"] == 2
    finally:
        await store.aclose()


async def test_a_wrong_secret_is_refused(seaweed: S3Server) -> None:
    bucket = seaweed.make_bucket()
    seaweed.boto3_client().put_object(Bucket=bucket, Key="k", Body=b"x")
    store = _store(seaweed, bucket, secret_key=seaweed.secret_key + "x")
    try:
        with pytest.raises(StoreAccessError):
            await _read(store, "k")
        assert isinstance(store._signer, Presigner)
    finally:
        await store.aclose()


async def test_credentials_from_the_environment(
    seaweed: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = seaweed.make_bucket()
    seaweed.boto3_client().put_object(Bucket=bucket, Key="k", Body=b"from env")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", seaweed.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", seaweed.secret_key)
    store = S3Store(bucket, endpoint_url=seaweed.endpoint_url, region=seaweed.region)
    try:
        assert await _read(store, "k") == b"from env"
        assert isinstance(store._signer, Presigner)
    finally:
        await store.aclose()


async def test_no_credentials_is_a_clear_error(
    seaweed: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    store = S3Store(seaweed.make_bucket(), endpoint_url=seaweed.endpoint_url, region="us-east-1")
    try:
        with pytest.raises(StoreAccessError, match="No usable AWS credentials"):
            await store.list("")
    finally:
        await store.aclose()


async def test_warm_read_is_one_request_at_the_proxy(
    seaweed: S3Server, nginx_s3proxy: NginxServer, nginx_s3slow: S3Server, tmp_path: Path
) -> None:
    """Counted by the nginx proxy in front of SeaweedFS, not by the client."""
    bucket = seaweed.make_bucket()
    board = seaweed.board(
        f"{bucket}/pins", endpoint_url=nginx_s3slow.endpoint_url, cache=tmp_path / "c"
    )
    async with board:
        await board.pin_write({"a": 1}, "small", type="json")
        assert await board.pin_read("small") == {"a": 1}  # cold: fills the cache
        start = nginx_s3proxy.mark(f"/{bucket}")
        for _ in range(3):
            assert await board.pin_read("small") == {"a": 1}
        seen = nginx_s3proxy.entries_since(f"/{bucket}", start)
    assert [(e.method, e.uri.split("?")[0], e.status) for e in seen] == [
        ("GET", f"/{bucket}", 200)
    ] * 3
