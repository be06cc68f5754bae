"""apins's own log records, on named loggers: each request (method, redacted URL, status,
bytes, ms), each retry (reason, wait), cache hits/misses/revalidations, each hash check and
each version written. Real servers: moto behind the fault proxy, nginx, a folder board."""

from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path

import pyarrow as pa
import pytest

import apins
from apins import HashMismatch
from apins.settings import TransferSettings
from tests.faultproxy import FaultProxy
from tests.servers import NginxServer, S3Server

FAST = TransferSettings(retries=2, backoff_base=0.01, backoff_max=0.02)
TABLE = pa.table({"n": [1, 2, 3], "s": ["a", "b", "c"]})
REQUEST = re.compile(r"(GET|HEAD|PUT|POST|DELETE) (\S+) -> (\d{3}|\w+), (\d+|\?) bytes, [\d.]+ ms")


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="apins")
    return caplog


def messages(
    caplog: pytest.LogCaptureFixture, logger: str, level: int = logging.DEBUG
) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger and r.levelno == level]


async def test_s3_requests_retries_cache_and_hash_checks_are_logged(
    moto: S3Server, logs: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    bucket = moto.make_bucket()
    async with FaultProxy(moto.endpoint_url) as proxy:
        board = apins.board_s3(
            f"{bucket}/pins", endpoint_url=proxy.url, access_key=moto.access_key,
            secret_key=moto.secret_key, session_token="tok-" + uuid.uuid4().hex,
            cache=tmp_path / "c", settings=FAST,
        )  # fmt: skip
        async with board:
            meta = await board.pin_write(TABLE, "t", type="csv")
            proxy.cut_once(lambda r: r.method == "GET" and r.path.split("?")[0].endswith(".csv"), 5)
            await board.pin_read("t")
            await board.pin_read("t")  # from the cache

    written = messages(logs, "apins.board", logging.INFO)
    assert written == [
        f"Wrote version {meta.version} of pin 't' (1 file, {meta.file_size} bytes) on {board!r}"
    ]
    # writes, signed by apins: method, URL, status, bytes sent, time
    put = [m for m in messages(logs, "apins.http") if m.startswith("PUT ")]
    assert any(
        f"/{bucket}/pins/t/{meta.version}/t.csv -> 200, {meta.file_size} bytes, " in m for m in put
    ), put
    # presigned reads: method, URL without secrets, status, bytes
    gets = [REQUEST.fullmatch(m) for m in messages(logs, "apins.http")]
    assert gets and all(gets), messages(logs, "apins.http")
    csv_gets = [
        g for g in gets if g and g.group(1) == "GET" and g.group(2).split("?")[0].endswith("/t.csv")
    ]
    # the cut GET and the resumed ranged GET of the rest; the second read is a cache hit
    assert [(g.group(1), g.group(3), g.group(4)) for g in csv_gets] == [
        ("GET", "200", str(meta.file_size)),
        ("GET", "206", str(int(meta.file_size) - 5)),  # type: ignore[call-overload]
    ]
    assert all("X-Amz-Signature=***" in g.group(2) for g in csv_gets)
    assert all("X-Amz-Security-Token=***" in g.group(2) for g in csv_gets)
    assert not re.search(r"X-Amz-(Signature|Credential|Security-Token)=(?!\*\*\*)", logs.text)
    # the retry after the cut: which attempt, what, how long the wait, why
    retries = [m for m in messages(logs, "apins.transfer") if m.startswith("retry ")]
    assert len(retries) == 1
    assert re.fullmatch(r"retry 1/2 of downloading t/\S+/t\.csv in \d+ ms: TransientError: .+",
                        retries[0]), retries  # fmt: skip
    # cache: misses on the first read, hits on the second
    cache = messages(logs, "apins.cache")
    assert any(
        m.startswith("cache miss: ") and m.endswith(f"t/{meta.version}/t.csv") for m in cache
    )
    assert any(m.startswith("cache hit: ") and m.endswith(f"t/{meta.version}/t.csv") for m in cache)
    assert messages(logs, "apins.hash") == ["hash check of pin 't' (t.csv): ok"]


async def test_url_board_revalidation_is_logged(
    nginx: NginxServer, logs: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    folder = nginx.root / f"b-{uuid.uuid4().hex[:10]}"
    async with apins.board_folder(folder) as b:
        await b.pin_write(TABLE, "t", type="csv")
        await b.write_board_manifest()
    url = f"{nginx.url}/{folder.name}/"
    async with apins.board_url(url, cache=tmp_path / "c") as b:
        await b.pin_list()
        await b.pin_list()
    cache = messages(logs, "apins.cache")
    manifest = f"{url}_pins.yaml"
    assert f"cache revalidated {manifest}: not modified" in cache
    assert any(m.startswith(f"cache stored {manifest} (ETag ") for m in cache)
    requests = [REQUEST.fullmatch(m) for m in messages(logs, "apins.http")]
    assert [(r.group(1), r.group(2), r.group(3)) for r in requests if r] == [
        ("GET", manifest, "200"),
        ("GET", manifest, "304"),
    ]


async def test_hash_mismatch_is_logged(logs: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    async with apins.board_folder(tmp_path / "b") as b:
        meta = await b.pin_write(TABLE, "t", type="csv")
        data = tmp_path / "b" / "t" / meta.version / "t.csv"
        data.chmod(0o644)
        data.write_text("n,s\n9,z\n")
        with pytest.raises(HashMismatch):
            await b.pin_read("t")
    assert messages(logs, "apins.hash") == ["hash check of pin 't' (t.csv): MISMATCH"]


def test_docs_logging_code_blocks_run(tmp_path: Path) -> None:
    """Every python block of docs/logging.md runs as written; the session block logs what
    its comments say."""
    import subprocess

    from tests._helpers import PYTHON, subprocess_env

    text = (Path(__file__).parent.parent / "docs" / "logging.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```$", text, re.M | re.S)
    assert len(blocks) >= 4
    outputs = []
    for block in blocks:
        proc = subprocess.run(
            [PYTHON, "-c", block], capture_output=True, text=True, env=subprocess_env(),
            cwd=tmp_path, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc.stdout + proc.stderr)
    session = next(o for o, b in zip(outputs, blocks, strict=True) if "pin_write" in b)
    assert "apins.board INFO Wrote version" in session
    assert "apins.hash DEBUG hash check of pin 'example' (example.json): ok" in session
    shown = next(o for o, b in zip(outputs, blocks, strict=True) if "redact_url(" in b)
    assert "X-Amz-Signature=***" in shown and "s3cret" not in shown
