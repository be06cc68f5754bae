"""Smoke tests proving the test servers are real and behave as the other tests assume."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from tests.servers import NginxServer, PlainHttpServer, S3Server, find_binary


def _request(
    url: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, http.client.HTTPMessage, bytes]:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.request(method, parts.path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def _error_code(exc: BaseException) -> tuple[str, int]:
    response = getattr(exc, "response", {})
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


# --- S3 servers -----------------------------------------------------------------------


async def test_seaweed_round_trip_with_aiobotocore(seaweed: S3Server) -> None:
    from aiobotocore.session import get_session

    bucket = seaweed.make_bucket()
    async with get_session().create_client("s3", **seaweed.client_kwargs()) as s3:
        await s3.put_object(Bucket=bucket, Key="dir/a.bin", Body=b"0123456789")
        resp = await s3.get_object(Bucket=bucket, Key="dir/a.bin", Range="bytes=2-4")
        async with resp["Body"] as body:
            assert await body.read() == b"234"
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 206


@pytest.mark.parametrize("wrong", ["secret", "access_key"])
async def test_seaweed_rejects_bad_credentials(seaweed: S3Server, wrong: str) -> None:
    from aiobotocore.session import get_session
    from botocore.exceptions import ClientError

    bucket = seaweed.make_bucket()
    kwargs = seaweed.client_kwargs()
    if wrong == "secret":
        kwargs["aws_secret_access_key"] = seaweed.secret_key + "x"
    else:
        kwargs["aws_access_key_id"] = "nobody" + seaweed.access_key
    async with get_session().create_client("s3", **kwargs) as s3:
        with pytest.raises(ClientError) as info:
            await s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    code, status = _error_code(info.value)
    assert code in {"SignatureDoesNotMatch", "InvalidAccessKeyId"}
    assert status == 403


def test_seaweed_rejects_unsigned_request(seaweed: S3Server) -> None:
    bucket = seaweed.make_bucket()
    status, _, _ = _request(f"{seaweed.endpoint_url}/{bucket}/")
    assert status == 403


def test_seaweed_does_not_auto_create_buckets(seaweed: S3Server) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        seaweed.boto3_client().put_object(Bucket="absent-bucket-xyz", Key="k", Body=b"x")
    assert _error_code(info.value)[0] == "NoSuchBucket"


def test_s3_env_reaches_server_from_subprocess(seaweed: S3Server) -> None:
    bucket = seaweed.make_bucket("env")
    code = "import boto3; print([b['Name'] for b in boto3.client('s3').list_buckets()['Buckets']])"
    env = {**os.environ, **seaweed.env()}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert bucket in out.stdout


def test_s3_secret_not_in_repr(seaweed: S3Server) -> None:
    assert seaweed.secret_key not in repr(seaweed)
    assert seaweed.access_key in repr(seaweed)


async def test_moto_answers_and_stores(moto: S3Server) -> None:
    from aiobotocore.session import get_session

    status, _, _ = _request(f"{moto.endpoint_url}/moto-api/")
    assert status == 200
    bucket = moto.make_bucket()
    async with get_session().create_client("s3", **moto.client_kwargs()) as s3:
        await s3.put_object(Bucket=bucket, Key="a.txt", Body=b"hello")
        head = await s3.head_object(Bucket=bucket, Key="a.txt")
    assert head["ContentLength"] == 5


# --- nginx ------------------------------------------------------------------------------


@pytest.fixture
def served_file(nginx: NginxServer, request: pytest.FixtureRequest) -> tuple[str, bytes]:
    """A file under nginx.root with a name unique to this test; returns (URI path, body)."""
    name = f"smoke-{request.node.name}.bin".replace("[", "-").replace("]", "")
    body = bytes(range(256)) * 40
    (nginx.root / name).write_bytes(body)
    return f"/{name}", body


def test_nginx_serves_ranges(nginx: NginxServer, served_file: tuple[str, bytes]) -> None:
    path, body = served_file
    status, headers, data = _request(nginx.url + path, {"Range": "bytes=100-199"})
    assert status == 206
    assert data == body[100:200]
    assert headers["Content-Range"] == f"bytes 100-199/{len(body)}"
    entries = nginx.log_entries(path, min_count=1)
    assert [(e.status, e.range) for e in entries] == [(206, "bytes=100-199")]


def test_nginx_answers_304_for_matching_etag(
    nginx: NginxServer, served_file: tuple[str, bytes]
) -> None:
    path, body = served_file
    status, headers, data = _request(nginx.url + path)
    assert (status, data) == (200, body)
    etag = headers["ETag"]
    status, _, data = _request(nginx.url + path, {"If-None-Match": etag})
    assert (status, data) == (304, b"")
    entries = nginx.log_entries(path, min_count=2)
    assert [(e.status, e.if_none_match) for e in entries] == [(200, None), (304, etag)]


def test_nginx_slow_location_serves_same_folder(
    nginx: NginxServer, served_file: tuple[str, bytes]
) -> None:
    path, body = served_file
    status, _, data = _request(nginx.slow_url + path)
    assert (status, data) == (200, body)
    status, _, data = _request(nginx.slow_url + path, {"Range": "bytes=0-9"})
    assert (status, data) == (206, body[:10])


def test_nginx_missing_file_is_404(nginx: NginxServer) -> None:
    status, _, _ = _request(nginx.url + "/no-such-file.bin")
    assert status == 404


# --- plain http ---------------------------------------------------------------------------


def test_plain_http_ignores_range(plain_http: PlainHttpServer) -> None:
    body = b"0123456789" * 100
    (plain_http.root / "norange.bin").write_bytes(body)
    status, headers, data = _request(plain_http.url + "/norange.bin", {"Range": "bytes=0-9"})
    assert (status, data) == (200, body)
    assert "Content-Range" not in headers
    assert "ETag" not in headers


# --- S3 through the rate-limited nginx proxy ------------------------------------------------


async def test_s3slow_proxy_passes_signed_requests(
    nginx_s3slow: S3Server, nginx_s3proxy: NginxServer, seaweed: S3Server
) -> None:
    from aiobotocore.session import get_session

    assert nginx_s3slow.endpoint_url != seaweed.endpoint_url
    bucket = nginx_s3slow.make_bucket("proxy")
    key = "dir/a b+c ü.bin"
    body = os.urandom(3 * 1024 * 1024)
    async with get_session().create_client("s3", **nginx_s3slow.client_kwargs()) as s3:
        await s3.put_object(Bucket=bucket, Key=key, Body=body)
        resp = await s3.get_object(Bucket=bucket, Key=key)
        async with resp["Body"] as stream:
            assert await stream.read() == body
        listing = await s3.list_objects_v2(Bucket=bucket, Prefix="dir/")
    assert [o["Key"] for o in listing["Contents"]] == [key]
    port = int(nginx_s3slow.endpoint_url.rsplit(":", 1)[1])
    entries = nginx_s3proxy.log_entries(f"/{bucket}", min_count=3)
    assert {(e.method, e.status) for e in entries if e.port == port} >= {("PUT", 200), ("GET", 200)}


async def test_s3slow_proxy_still_checks_signatures(nginx_s3slow: S3Server) -> None:
    from aiobotocore.session import get_session
    from botocore.exceptions import ClientError

    bucket = nginx_s3slow.make_bucket("proxy")
    kwargs = {**nginx_s3slow.client_kwargs(), "aws_secret_access_key": "wrong-secret"}
    async with get_session().create_client("s3", **kwargs) as s3:
        with pytest.raises(ClientError) as info:
            await s3.get_object(Bucket=bucket, Key="k")
    assert _error_code(info.value)[1] == 403


def test_s3slow_path_location_passes_signed_requests(
    nginx_s3proxy: NginxServer, seaweed: S3Server
) -> None:
    via_path = seaweed.via(nginx_s3proxy.url + "/s3slow", kind="seaweedfs-via-path")
    bucket = via_path.make_bucket("path")
    client = via_path.boto3_client()
    client.put_object(Bucket=bucket, Key="dir/plain.txt", Body=b"abc")
    got = client.get_object(Bucket=bucket, Key="dir/plain.txt", Range="bytes=1-")
    assert got["Body"].read() == b"bc"
    entries = nginx_s3proxy.log_entries(f"/s3slow/{bucket}/dir/plain.txt", min_count=2)
    assert [(e.method, e.status) for e in entries] == [("PUT", 200), ("GET", 206)]


# --- environment isolation ------------------------------------------------------------------


def test_environment_is_isolated() -> None:
    assert "AWS_PROFILE" not in os.environ
    assert "AWS_ACCESS_KEY_ID" not in os.environ
    assert "CONNECT_API_KEY" not in os.environ
    cache = Path(os.environ["PINS_CACHE_DIR"])
    assert cache.resolve() != (Path.home() / ".cache").resolve()
    assert not str(cache).startswith(str(Path.home() / ".cache"))


def test_pins_cache_dir_is_fresh(pins_cache_dir: Path) -> None:
    assert os.environ["PINS_CACHE_DIR"] == str(pins_cache_dir)
    assert list(pins_cache_dir.iterdir()) == []


def test_log_entries_parse_escaped_headers(nginx: NginxServer) -> None:
    (nginx.root / "q.json").write_text(json.dumps({"a": 1}))
    status, _, _ = _request(nginx.url + "/q.json", {"If-None-Match": '"abc", W/"d"'})
    assert status == 200
    (entry,) = nginx.log_entries("/q.json", min_count=1)
    assert entry.if_none_match == '"abc", W/"d"'


def test_missing_binary_is_reported() -> None:
    with pytest.raises(FileNotFoundError, match="no-such-server-binary"):
        find_binary("no-such-server-binary")
