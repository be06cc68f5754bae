"""Start and stop a real nginx serving a folder (plus a rate-limited copy and an S3 proxy)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ._proc import (
    LOOPBACK,
    find_binary,
    free_ports,
    http_answers,
    spawn,
    start_with_retries,
    stop,
    wait_until,
)

#: Per-connection rate of the WAN-like locations (nginx `limit_rate` syntax).
SLOW_RATE = "25m"

_FIELDS = ("port", "method", "uri", "status", "bytes", "range", "if_none_match", "if_range")
_LOG_FORMAT = "\\t".join(
    (
        "$server_port",
        "$request_method",
        "$request_uri",
        "$status",
        "$body_bytes_sent",
        "$http_range",
        "$http_if_none_match",
        "$http_if_range",
    )
)
_HEX_ESCAPE = re.compile(r"\\x([0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class LogEntry:
    """One access-log line. Absent headers are None."""

    port: int
    method: str
    uri: str
    status: int
    bytes_sent: int
    range: str | None
    if_none_match: str | None
    if_range: str | None


def _unescape(value: str) -> str | None:
    if value == "-":
        return None
    return _HEX_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)


def parse_log_line(line: str) -> LogEntry:
    """Parse a line written with this module's log format."""
    parts = line.rstrip("\n").split("\t")
    if len(parts) != len(_FIELDS):
        raise ValueError(f"unexpected access log line: {line!r}")
    port, method, uri, status, sent, rng, inm, ifr = parts
    return LogEntry(
        port=int(port),
        method=method,
        uri=_unescape(uri) or "",
        status=int(status),
        bytes_sent=int(sent),
        range=_unescape(rng),
        if_none_match=_unescape(inm),
        if_range=_unescape(ifr),
    )


def _s3_proxy_block(upstream: str) -> str:
    """Settings shared by the S3 proxy server and the /s3slow/ location."""
    return f"""
            limit_rate {SLOW_RATE};
            client_max_body_size 0;
            proxy_pass_request_headers on;
            proxy_set_header Host $http_host;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_request_buffering off;
            proxy_buffering on;
            proxy_buffers 32 64k;
            proxy_busy_buffers_size 256k;
            proxy_max_temp_file_size 0;
            proxy_read_timeout 300s;
            proxy_send_timeout 300s;
            proxy_pass {upstream}"""


def _config(prefix: Path, root: Path, port: int, s3_port: int | None, upstream: str | None) -> str:
    user = "user root;\n" if os.geteuid() == 0 else ""
    tmp = prefix / "tmp"
    s3_server = ""
    s3_location = ""
    if upstream is not None and s3_port is not None:
        s3_server = f"""
    server {{
        listen {LOOPBACK}:{s3_port};
        location / {{{_s3_proxy_block(upstream)};
        }}
    }}"""
        by_path = _s3_proxy_block(upstream + "$s3slow_rest")
        s3_location = f"""
        location /s3slow/ {{
            proxy_set_header X-Forwarded-Prefix /s3slow;{by_path};
        }}"""
    return f"""{user}worker_processes 2;
daemon off;
pid {prefix}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 512; }}
http {{
    log_format apins "{_LOG_FORMAT}";
    # The raw (still percent-encoded) URI after /s3slow, so S3 signatures survive the proxy.
    map $request_uri $s3slow_rest {{
        "~^/s3slow(?<rest>/.*)$" $rest;
        default /;
    }}
    access_log {prefix}/logs/access.log apins;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{
        text/plain txt;
        text/csv csv;
        text/yaml yaml;
        application/json json;
        text/html html;
    }}
    default_type application/octet-stream;
    sendfile on;
    etag on;
    keepalive_requests 10000;
    server {{
        listen {LOOPBACK}:{port};
        root {root};
        location /slow/ {{
            alias {root}/;
            limit_rate {SLOW_RATE};
        }}{s3_location}
    }}{s3_server}
}}
"""


@dataclass
class NginxServer:
    """A running nginx on 127.0.0.1.

    `url` serves `root` at `/`; `slow_url` serves the same folder at `/slow/` with
    a per-connection `limit_rate` of 25 MB/s. With an S3 upstream, `s3_proxy_url`
    is a whole-server rate-limited proxy to it (Host passed through, so SigV4
    signatures still verify) and `url + "/s3slow"` is the same proxy under a path.
    """

    url: str
    root: Path
    slow_url: str
    s3_proxy_url: str | None = None
    prefix: Path | None = field(default=None, repr=False)
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _owns_root: bool = field(default=False, repr=False)

    @property
    def access_log(self) -> Path:
        """Path of the access log (one line per finished request)."""
        if self.prefix is None:
            raise RuntimeError("this NginxServer has no prefix directory")
        return self.prefix / "logs" / "access.log"

    def log_lines(self) -> list[str]:
        """All access-log lines so far (tab-separated: port, method, URI, status,
        body bytes, Range, If-None-Match, If-Range; '-' for an absent header)."""
        try:
            return self.access_log.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []

    def log_entries(
        self, uri_prefix: str = "", *, min_count: int = 0, timeout: float = 5.0
    ) -> list[LogEntry]:
        """Parsed log entries whose URI starts with `uri_prefix`.

        nginx writes a line just after it sends the response, so a client can see
        the response first; with `min_count` this waits (bounded by `timeout`)
        until at least that many matching entries are in the log.
        """
        deadline = time.monotonic() + timeout
        while True:
            entries = [parse_log_line(x) for x in self.log_lines() if x]
            matching = [e for e in entries if e.uri.startswith(uri_prefix)]
            if len(matching) >= min_count or time.monotonic() > deadline:
                return matching
            time.sleep(0.01)

    def mark(self, uri_prefix: str) -> int:
        """Send a marker request under `uri_prefix` and wait until nginx has logged it.

        Requests made before it were answered before it, so they are logged by then: the
        result is the number of entries under `uri_prefix` up to and including the marker.
        """
        uri = f"{uri_prefix.rstrip('/')}/.log-mark-{uuid.uuid4().hex}"
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(self.url + uri, timeout=10).read()
        deadline = time.monotonic() + 10
        while True:
            entries = self.log_entries(uri_prefix)
            for i, e in enumerate(entries):
                if e.uri == uri:
                    return i + 1
            if time.monotonic() > deadline:
                raise TimeoutError(f"nginx never logged the marker {uri}")
            time.sleep(0.01)

    def entries_since(self, uri_prefix: str, start: int) -> list[LogEntry]:
        """Entries under `uri_prefix` logged after index `start` (a :meth:`mark` result),
        complete up to now (a new marker closes the range and is left out)."""
        end = self.mark(uri_prefix)
        return self.log_entries(uri_prefix)[start : end - 1]

    def stop(self) -> None:
        """Stop nginx (master and workers) and remove its prefix directory."""
        if self._proc is not None:
            stop(self._proc)
            self._proc = None
        if self.prefix is not None:
            shutil.rmtree(self.prefix, ignore_errors=True)
            self.prefix = None
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> NginxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _start_once(nginx: str, root: Path, s3_upstream: str | None, timeout: float) -> NginxServer:
    prefix = Path(tempfile.mkdtemp(prefix="apins-nginx-"))
    (prefix / "logs").mkdir()
    (prefix / "tmp").mkdir()
    port, s3_port = free_ports(2)
    conf = prefix / "nginx.conf"
    conf.write_text(_config(prefix, root, port, s3_port if s3_upstream else None, s3_upstream))
    log_path = prefix / "logs" / "nginx.out"
    cmd = [nginx, "-p", str(prefix), "-c", str(conf), "-e", "stderr"]
    proc = spawn(cmd, log_path, cwd=prefix)
    url = f"http://{LOOPBACK}:{port}"
    server = NginxServer(
        url=url,
        root=root,
        slow_url=f"{url}/slow",
        s3_proxy_url=f"http://{LOOPBACK}:{s3_port}" if s3_upstream else None,
        prefix=prefix,
        _proc=proc,
    )
    try:
        wait_until(lambda: http_answers(url + "/"), proc, log_path, "nginx", timeout)
    except BaseException:
        server.stop()
        raise
    return server


def start_nginx(
    root: Path | str | None = None,
    s3_upstream: str | None = None,
    timeout: float = 15.0,
    attempts: int = 3,
) -> NginxServer:
    """Start nginx in the foreground on a free loopback port, serving `root` at `/`.

    `root` defaults to a fresh temp folder (removed on stop). `s3_upstream` (an
    http URL such as a SeaweedFS endpoint) adds the rate-limited S3 proxy.
    Raises FileNotFoundError when nginx is missing, ServerStartError otherwise.
    """
    nginx = find_binary("nginx", "/usr/sbin/nginx")
    owns_root = root is None
    root_path = Path(tempfile.mkdtemp(prefix="apins-www-")) if root is None else Path(root)
    root_path = root_path.resolve()
    try:
        server = start_with_retries(
            lambda: _start_once(nginx, root_path, s3_upstream, timeout), attempts
        )
    except BaseException:
        if owns_root:
            shutil.rmtree(root_path, ignore_errors=True)
        raise
    server._owns_root = owns_root
    return server
