"""No secret leaves apins: every logger is captured at DEBUG (botocore, aiobotocore, aiohttp,
urllib3 included) while S3 (moto with a session token, SeaweedFS refusing), URL (nginx with an
Authorization header) and Connect (emulator) boards work and fail (403, 5xx, a cut response).
The credentials the wire really carried are read back from a proxy and must appear nowhere:
not in records, tracebacks, exception chains, reprs or CLI output."""

from __future__ import annotations

import logging
import re
import subprocess
import traceback
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import pyarrow as pa
import pytest
from aiohttp import web

import apins
from apins import PinsError
from apins.settings import TransferSettings
from apins.testing.connect import ConnectEmulator
from tests._helpers import subprocess_env
from tests.connect_support import tiny_server
from tests.faultproxy import FaultProxy, RequestRecord
from tests.servers import NginxServer, S3Server

FAST = TransferSettings(retries=2, backoff_base=0.01, backoff_max=0.02, read_timeout=10.0)
TABLE = pa.table({"n": [1, 2, 3], "s": ["a", "b", "c"]})


class Capture(logging.Handler):
    """Every record of every logger, formatted with its traceback, plus its raw parts."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.names: set[str] = set()
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.names.add(record.name)
        self.texts.append(self.format(record))
        self.texts.append(f"{record.msg!r} {record.args!r}")

    def text(self) -> str:
        return "\n".join(self.texts)


@pytest.fixture
def captured() -> Iterator[Capture]:
    """A DEBUG handler on the root logger with every known logger enabled at DEBUG."""
    root = logging.getLogger()
    handler = Capture()
    saved = {}
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            saved[name] = (logger.level, logger.disabled)
            logger.setLevel(logging.NOTSET)
            logger.disabled = False
    old_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        for name, (level, disabled) in saved.items():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            logger.disabled = disabled


def chain_texts(exc: BaseException) -> str:
    """str, repr and args of an exception and of everything in its cause/context chain and
    groups, plus the formatted traceback."""
    out: list[str] = ["".join(traceback.format_exception(exc))]
    todo, seen = [exc], set()
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        out += [str(e), repr(e), repr(e.args), repr(getattr(e, "__notes__", ""))]
        todo += [x for x in (e.__cause__, e.__context__) if x is not None]
        todo += list(getattr(e, "exceptions", ()))
    return "\n".join(out)


def reprs(obj: object, depth: int = 3) -> list[str]:
    """repr and str of ``obj`` and of the apins objects it holds (a few levels deep)."""
    out = [repr(obj), str(obj)]
    if depth:
        for value in getattr(obj, "__dict__", {}).values():
            if type(value).__module__.startswith("apins."):
                out += reprs(value, depth - 1)
    return out


def wire_secrets(requests: list[RequestRecord]) -> set[str]:
    """Credentials the requests carried: Authorization values (and their signature and
    credential fields), session-token headers, and signed-URL query values."""
    found: set[str] = set()
    for r in requests:
        for name in ("authorization", "x-amz-security-token", "key"):
            value = r.headers.get(name)
            if value:
                found.add(value)
                found.update(re.findall(r"(?:Signature|Credential)=([^,\s]+)", value))
                found.add(value.partition(" ")[2])
        for k, v in parse_qsl(urlsplit(r.path).query):
            if k.lower() in ("x-amz-signature", "x-amz-credential", "x-amz-security-token"):
                found.add(v)
    return {s for s in found if len(s) >= 8}


def assert_clean(text: str, secrets: set[str]) -> None:
    spellings = {f for s in secrets for f in (s, quote(s, safe=""), quote_plus(s, safe=""))}
    leaks = sorted(s for s in spellings if s in text)
    assert not leaks, f"secrets leaked: {[s[:12] + '...' for s in leaks]}"
    # signed-URL fields never show a value, whoever signed them
    assert not re.search(r"(?i)X-Amz-(Signature|Credential|Security-Token)=(?!\*\*\*)\w", text)


def new_secret(what: str) -> str:
    return f"{what}-{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}/+="


# -- S3 ---------------------------------------------------------------------------------------


async def test_s3_with_session_token_leaks_nothing(
    moto: S3Server, captured: Capture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, secret = new_secret("session-token"), new_secret("aws-secret")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA" + uuid.uuid4().hex[:16].upper())
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    bucket = moto.make_bucket()
    errors: list[BaseException] = []
    async with FaultProxy(moto.endpoint_url) as proxy:
        board = apins.board_s3(
            f"{bucket}/pins", endpoint_url=proxy.url, cache=tmp_path / "c", settings=FAST
        )
        async with board:
            await board.pin_write(TABLE, "t", type="parquet", metadata={"k": 1})
            await board.pin_write(TABLE.slice(0, 2), "t", type="csv")
            proxy.cut_once(lambda r: r.method == "GET" and "/t/" in r.path, 10)
            assert (await board.pin_read("t")).num_rows == 2
            assert proxy.cuts, "the proxy cut a response"
            assert await board.pin_list() == ["t"]
            await board.pin_versions("t")
            for bad in ("nope", "t"):
                try:
                    await board.pin_read(bad, version="20990101T000000Z-00000")
                except PinsError as e:
                    errors.append(e)
            texts = reprs(board)
    secrets = {token, secret} | wire_secrets(proxy.requests)
    assert any(token in s or quote(token, safe="") in s for s in secrets)
    assert len(errors) == 2
    assert_clean(captured.text(), secrets)
    assert_clean("\n".join(texts + [chain_texts(e) for e in errors]), secrets)
    assert {"botocore.endpoint", "apins.http"} <= captured.names  # really captured at DEBUG


async def test_s3_refused_and_failing_servers_leak_nothing(
    seaweed: S3Server, captured: Capture, tmp_path: Path
) -> None:
    """SeaweedFS refuses a wrong secret (403); a server answering 503 is retried, then fails."""
    wrong, token = new_secret("wrong-secret"), new_secret("session-token")
    errors: list[BaseException] = []
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        board = apins.board_s3(
            f"{seaweed.make_bucket()}/pins", endpoint_url=proxy.url, access_key=seaweed.access_key,
            secret_key=wrong, session_token=token, cache=False, settings=FAST,
        )  # fmt: skip
        async with board:
            for call in (board.pin_list(), board.pin_write(TABLE, "t", type="csv")):
                with pytest.raises(PinsError) as info:
                    await call
                errors.append(info.value)

    async def unavailable(request: web.Request) -> web.Response:
        body = "<Error><Code>ServiceUnavailable</Code><Message>busy</Message></Error>"
        return web.Response(status=503, text=body)

    async with tiny_server(unavailable) as url:
        board = apins.board_s3(
            "b/pins", endpoint_url=url, access_key="AKIAFAKE", secret_key=wrong,
            session_token=token, cache=False, settings=FAST,
        )  # fmt: skip
        async with board:
            for call in (board.pin_read("t"), board.pin_write(TABLE, "t", type="csv")):
                with pytest.raises(PinsError) as info:
                    await call
                errors.append(info.value)
    secrets = {wrong, token} | wire_secrets(proxy.requests)
    assert any(token in s or quote(token, safe="") in s for s in wire_secrets(proxy.requests))
    assert_clean(captured.text(), secrets)
    assert_clean("\n".join(chain_texts(e) for e in errors), secrets)


# -- URL --------------------------------------------------------------------------------------


async def test_url_board_with_authorization_header_leaks_nothing(
    nginx: NginxServer, captured: Capture, tmp_path: Path
) -> None:
    bearer = new_secret("bearer")
    folder = nginx.root / f"b-{uuid.uuid4().hex[:10]}"
    async with apins.board_folder(folder) as b:
        await b.pin_write(TABLE, "t", type="csv")
        await b.write_board_manifest()
    errors: list[BaseException] = []
    async with FaultProxy(nginx.url) as proxy:
        url = f"{proxy.url}/{folder.name}/"
        headers = {"Authorization": f"Bearer {bearer}"}
        async with apins.board_url(url, headers=headers, cache=tmp_path / "c", settings=FAST) as b:
            proxy.cut_once(lambda r: r.path.endswith(".csv"), 5)
            assert (await b.pin_read("t")).num_rows == 3
            assert proxy.cuts
            with pytest.raises(PinsError) as info:
                await b.pin_read("missing")
            errors.append(info.value)
            texts = reprs(b)

    async def failing(request: web.Request) -> web.Response:
        return web.Response(status=403 if request.path.endswith("yaml") else 500)

    async with tiny_server(failing) as url:
        for path in ("/denied/", "/d/t/"):
            board = apins.board_url(url + path if path.endswith("/") else {"t": url + path},
                                    headers={"Authorization": f"Bearer {bearer}"}, cache=False,
                                    settings=FAST)  # fmt: skip
            async with board:
                with pytest.raises(PinsError) as info:
                    await board.pin_read("t")
                errors.append(info.value)
    secrets = {bearer} | wire_secrets(proxy.requests)
    assert bearer in secrets and len(secrets) > 1
    assert_clean(captured.text(), secrets)
    assert_clean("\n".join(texts + [chain_texts(e) for e in errors]), secrets)


# -- Connect ----------------------------------------------------------------------------------


@pytest.fixture
async def connect(tmp_path: Path) -> AsyncIterator[tuple[ConnectEmulator, str, str]]:
    alice, bob = new_secret("alice-key"), new_secret("bob-key")
    users: dict[str, str | tuple[str, str]] = {"alice": alice, "bob": bob}
    async with ConnectEmulator(root=tmp_path / "connect", users=users) as server:
        yield server, alice, bob


async def test_connect_board_leaks_nothing(
    connect: tuple[ConnectEmulator, str, str], captured: Capture, tmp_path: Path
) -> None:
    server, alice, bob = connect
    wrong = new_secret("wrong-key")
    errors: list[BaseException] = []
    async with apins.board_connect(server.url, alice, cache=False, settings=FAST) as a:
        await a.pin_write(TABLE, "alice/tbl", type="csv")
        texts = reprs(a)
    for key in (wrong, bob):  # 401 for an unknown key; bob may not write alice's pin
        async with apins.board_connect(server.url, key, cache=False, settings=FAST) as b:
            with pytest.raises(PinsError) as info:
                await b.pin_write(TABLE, "alice/tbl", type="csv")
            errors.append(info.value)
    async with (
        FaultProxy(server.url) as proxy,
        apins.board_connect(proxy.url, alice, cache=tmp_path / "a", settings=FAST) as a,
    ):
        proxy.cut_once(lambda r: r.method == "GET" and r.path.endswith(".csv"), 5)
        assert (await a.pin_read("alice/tbl")).num_rows == 3
        assert proxy.cuts

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=502, text="bad gateway")

    async with (
        tiny_server(broken) as url,
        apins.board_connect(url, alice, cache=False, settings=FAST) as b,
    ):
        with pytest.raises(PinsError) as info:
            await b.pin_list()
        errors.append(info.value)
    secrets = {alice, bob, wrong} | wire_secrets(proxy.requests)
    assert f"Key {alice}" in secrets
    # the Connect flow logged its requests and the version it wrote (redacted like the rest)
    assert re.search(r"apins\.http DEBUG POST \S+/__api__/v1/content/\S+ -> 200", captured.text())
    assert re.search(r"apins\.board INFO Wrote version \S+ of pin 'alice/tbl'", captured.text())
    assert_clean(captured.text(), secrets)
    assert_clean("\n".join(texts + [chain_texts(e) for e in errors]), secrets)


# -- CLI --------------------------------------------------------------------------------------


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    from tests._helpers import PYTHON

    return subprocess.run(
        [PYTHON, "-m", "apins.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_debug_output_has_no_secrets(moto: S3Server, tmp_path: Path) -> None:
    token, secret = new_secret("session-token"), new_secret("aws-secret")
    env = subprocess_env()
    env.update(moto.env())
    env.update(AWS_SECRET_ACCESS_KEY=secret, AWS_SESSION_TOKEN=token)
    board = f"s3://{moto.make_bucket()}/pins"
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,2\n")
    up = _cli("upload", board, str(data), "-n", "d", "--debug-all", "--no-progress", env=env)
    assert up.returncode == 0, up.stderr[-2000:]
    down = _cli("download", board, "d", "-o", str(tmp_path / "out"), "--debug-all", env=env)
    assert down.returncode == 0, down.stderr[-2000:]
    missing = _cli("download", board, "nope", "--debug-all", env=env)
    assert missing.returncode == 3
    outputs = [p.stdout + p.stderr for p in (up, down, missing)]
    assert all("botocore" in o for o in outputs[:2])  # --debug-all shows the client libraries
    assert_clean("\n".join(outputs), {token, secret})

    debug = _cli("download", board, "d", "-o", str(tmp_path / "out2"), "--debug", env=env)
    assert debug.returncode == 0, debug.stderr[-2000:]
    assert "apins.http" in debug.stderr  # apins's own records
    assert "botocore" not in debug.stderr  # but nothing from the client libraries
    assert_clean(debug.stdout + debug.stderr, {token, secret})


def test_cli_warnings_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    from apins.cli import _show_warning

    signed = "https://h/b/k?X-Amz-Signature=abcdef0123456789&X-Amz-Expires=60"
    _show_warning(f"serving the cache: {signed} failed", UserWarning, __file__, 1)
    err = capsys.readouterr().err
    assert err == (
        "apins: warning: serving the cache: https://h/b/k?X-Amz-Signature=***&X-Amz-Expires=60 "
        "failed\n"
    )
