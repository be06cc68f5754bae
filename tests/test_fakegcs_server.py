"""What the GCS tests rely on fake-gcs-server for, and what it ignores (docs/gcs.md)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.servers import GCSServer, start_fakegcs


def _status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as r:
            r.read()
            return int(r.status)
    except urllib.error.HTTPError as e:
        return e.code


def test_generation_reads_are_honoured_preconditions_are_not(fakegcs: GCSServer) -> None:
    bucket = fakegcs.make_bucket()
    fakegcs.put_object(bucket, "d/a.bin", b"first")
    with urllib.request.urlopen(fakegcs.object_url(bucket, "d/a.bin")) as r:
        old = json.loads(r.read())["generation"]
    fakegcs.put_object(bucket, "d/a.bin", b"second!")
    media = fakegcs.object_url(bucket, "d/a.bin") + "?alt=media"
    assert _status(f"{media}&generation={old}") == 404  # apins pins reads with this
    assert _status(media, {"Range": "bytes=1-3"}) == 206
    # ignored by the emulator (so not relied upon): a wrong ifGenerationMatch still reads
    assert _status(f"{media}&ifGenerationMatch={old}") == 200


def test_server_stops_and_its_port_closes() -> None:
    server = start_fakegcs()
    url = server.url
    assert _status(f"{url}/storage/v1/b") == 200
    server.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{url}/storage/v1/b", timeout=5)
