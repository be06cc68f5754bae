"""GCS credentials: a service-account key signs a JWT that a real (local) token endpoint
verifies; the token then travels as a Bearer header to fake-gcs-server; secrets never show."""

from __future__ import annotations

import base64
import json
import secrets
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import apins
from apins import PinsError
from apins.errors import StoreAccessError
from apins.settings import TransferSettings
from apins.stores._gcsauth import DEFAULT_TOKEN_URI, SCOPE, resolve_credentials
from tests.connect_support import tiny_server
from tests.faultproxy import FaultProxy
from tests.servers import GCSServer
from tests.test_secrets import (  # the leak test's witnesses, shared with the other boards
    TABLE,
    Capture,
    assert_clean,
    captured,  # noqa: F401 - a fixture
    chain_texts,
    new_secret,
    reprs,
    wire_secrets,
)

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup


FAST = TransferSettings(retries=2, backoff_base=0.01, backoff_max=0.02, read_timeout=10.0)


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@dataclass
class TokenEndpoint:
    """An OAuth token endpoint that checks the JWT's RS256 signature with the public key."""

    public_key: rsa.RSAPublicKey
    url: str = ""
    issued: list[str] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    refuse: bool = False

    async def handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        if self.refuse or form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return web.json_response({"error": "invalid_grant"}, status=400)
        head, body, sig = str(form["assertion"]).split(".")
        try:
            self.public_key.verify(
                _unb64(sig), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except Exception:
            return web.json_response({"error": "invalid_grant"}, status=400)
        claims = json.loads(_unb64(body))
        # google-auth always names Google's endpoint as the audience; apins the key's token_uri
        if claims.get("aud") not in (self.url, DEFAULT_TOKEN_URI):
            return web.json_response({"error": "invalid_grant"}, status=400)
        self.claims.append(claims)
        token = f"ya29.{secrets.token_urlsafe(16)}"
        self.issued.append(token)
        return web.json_response({"access_token": token, "expires_in": 3600})


@pytest.fixture
async def key_file(tmp_path: Path) -> AsyncIterator[tuple[Path, TokenEndpoint]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    endpoint = TokenEndpoint(key.public_key())
    app = web.Application()
    app.router.add_post("/token", endpoint.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    endpoint.url = f"http://127.0.0.1:{port}/token"
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = tmp_path / "sa.json"
    path.write_text(
        json.dumps({
            "type": "service_account",
            "project_id": "test",
            "private_key_id": "k1",
            "private_key": pem,
            "client_email": "pins@test.iam.gserviceaccount.com",
            "token_uri": endpoint.url,
        })
    )  # fmt: skip
    yield path, endpoint
    await runner.cleanup()


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


async def test_service_account_token_is_fetched_once_and_sent(
    fakegcs: GCSServer, key_file: tuple[Path, TokenEndpoint], tmp_path: Path
) -> None:
    path, endpoint = key_file
    bucket = fakegcs.make_bucket()
    async with FaultProxy(fakegcs.url) as proxy:
        async with apins.board_gcs(
            f"{bucket}/sa", cache=tmp_path / "c", endpoint_url=proxy.url, token=str(path)
        ) as board:
            await board.pin_write({"a": 1}, "a", type="json")
            assert await board.pin_read("a") == {"a": 1}
            shown = repr(board) + repr(board.backend.store._creds)  # type: ignore[attr-defined]
        assert len(endpoint.issued) == 1  # cached for its lifetime
        (token,) = endpoint.issued
        assert endpoint.claims[0]["iss"] == "pins@test.iam.gserviceaccount.com"
        assert endpoint.claims[0]["scope"] == SCOPE
        sent = {r.headers.get("authorization") for r in proxy.requests}
        assert sent == {f"Bearer {token}"}
    assert token not in shown and "PRIVATE" not in shown


async def test_refused_key_is_a_clean_access_error(
    fakegcs: GCSServer, key_file: tuple[Path, TokenEndpoint]
) -> None:
    path, endpoint = key_file
    endpoint.refuse = True
    key_text = json.loads(path.read_text())["private_key"]
    async with apins.board_gcs(
        f"{fakegcs.make_bucket()}/x", cache=False, endpoint_url=fakegcs.url, token=path
    ) as board:
        with pytest.raises(BaseException) as caught:
            await board.pin_list()
    err = _leaf(caught.value)
    assert isinstance(err, StoreAccessError), err
    assert "invalid_grant" in str(err)
    text = str(err) + repr(err)
    assert key_text[40:80] not in text and "assertion" not in text


def test_credential_choices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert repr(resolve_credentials(None, anonymous=False, emulated=True)) == "Anonymous()"
    assert repr(resolve_credentials("anon", anonymous=False, emulated=False)) == "Anonymous()"
    hidden = resolve_credentials("ya29.secret", anonymous=False, emulated=False)
    assert "secret" not in repr(hidden)
    for token in ("ya29.a/b+c", "ya29." + "x" * 5000):  # not file names, whatever they contain
        assert repr(resolve_credentials(token, anonymous=False, emulated=False)) == (
            "StaticToken(<hidden>)"
        )
    with pytest.raises(StoreAccessError, match="cannot read"):
        resolve_credentials(str(tmp_path / "missing.json"), anonymous=False, emulated=False)
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "service_account"}')
    with pytest.raises(StoreAccessError, match="client_email"):
        resolve_credentials(bad, anonymous=False, emulated=False)
    user = tmp_path / "adc.json"
    user.write_text(
        json.dumps({"type": "authorized_user", "client_id": "i", "client_secret": "s3cr3t",
                    "refresh_token": "r3fr3sh"})
    )  # fmt: skip
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(user))
    adc = resolve_credentials(None, anonymous=False, emulated=False)
    assert repr(adc) == "AuthorizedUser(<hidden>)"
    with pytest.raises(TypeError):
        resolve_credentials(42, anonymous=False, emulated=False)


async def test_gcs_tokens_leak_nothing(
    fakegcs: GCSServer,
    key_file: tuple[Path, TokenEndpoint],
    captured: Capture,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    """A bearer token and a service-account key, through working, cut and failing requests:
    neither the tokens the wire carried nor the key appear in logs, errors or reprs."""
    path, endpoint = key_file
    bearer = new_secret("gcs-token")
    errors: list[BaseException] = []
    texts: list[str] = []
    bucket = fakegcs.make_bucket()
    async with FaultProxy(fakegcs.url) as proxy:
        for i, token in enumerate((bearer, path)):
            async with apins.board_gcs(
                f"{bucket}/p{i}", cache=tmp_path / f"c{i}", endpoint_url=proxy.url, token=token,
                settings=FAST,
            ) as board:  # fmt: skip
                await board.pin_write(TABLE, "t", type="csv")
                proxy.cut_once(lambda r: "alt=media" in r.path and "t.csv" in unquote(r.path), 5)
                assert (await board.pin_read("t")).num_rows == 3
                with pytest.raises(PinsError) as info:
                    await board.pin_read("missing")
                errors.append(info.value)
                texts += reprs(board)
        assert len(proxy.cuts) == 2

    async def failing(request: web.Request) -> web.Response:
        return web.Response(status=403 if "/o/" in request.path else 503)

    async with tiny_server(failing) as url:
        for call in ("pin_list", "pin_read"):
            async with apins.board_gcs(
                "b/p", endpoint_url=url, token=bearer, cache=False, settings=FAST
            ) as board:
                with pytest.raises(PinsError) as info:
                    await (board.pin_list() if call == "pin_list" else board.pin_read("t"))
                errors.append(info.value)
    key_lines = [ln for ln in json.loads(path.read_text())["private_key"].splitlines() if
                 "PRIVATE" not in ln]  # fmt: skip
    secrets = {bearer, *endpoint.issued, *key_lines} | wire_secrets(proxy.requests)
    assert bearer in secrets and endpoint.issued
    assert_clean(captured.text(), secrets)
    assert_clean("\n".join(texts + [chain_texts(e) for e in errors]), secrets)
    assert "apins.http" in captured.names


async def test_google_auth_credentials_object(
    fakegcs: GCSServer, key_file: tuple[Path, TokenEndpoint], tmp_path: Path
) -> None:
    """A google-auth credentials object (here a service account) is refreshed by google-auth."""
    from google.oauth2 import service_account

    path, endpoint = key_file
    creds = service_account.Credentials.from_service_account_file(str(path), scopes=[SCOPE])
    bucket = fakegcs.make_bucket()
    async with FaultProxy(fakegcs.url) as proxy:
        board = apins.board_gcs(f"{bucket}/ga", cache=False, endpoint_url=proxy.url, token=creds)
        async with board:
            await board.pin_write({"g": 1}, "g", type="json")
            assert await board.pin_read("g") == {"g": 1}
        store = board.backend.store  # type: ignore[attr-defined]
        assert repr(store._creds) == "GoogleAuth(Credentials)"
    assert len(endpoint.issued) == 1
    assert {r.headers.get("authorization") for r in proxy.requests} == {
        f"Bearer {endpoint.issued[0]}"
    }


def _no_adc_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No emulator, and no gcloud login file: only GOOGLE_APPLICATION_CREDENTIALS counts."""
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    (tmp_path / "gcloud").mkdir(exist_ok=True)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))


async def test_anonymous_keyword_never_looks_for_credentials(
    fakegcs: GCSServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``anonymous=True``: no application-default lookup (a broken
    GOOGLE_APPLICATION_CREDENTIALS is not read, even for Google's own endpoint) and no
    Authorization header on the wire, while a public bucket is read and written."""
    _no_adc_env(monkeypatch, tmp_path)
    bogus = tmp_path / "bogus.json"
    bogus.write_text("this is not a key")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(bogus))
    with pytest.raises(StoreAccessError, match="is not JSON"):  # what a lookup would do
        apins.board_gcs("public-bucket/pins", cache=False)
    google = apins.board_gcs("public-bucket/pins", cache=False, anonymous=True)
    assert repr(google.backend.store._creds) == "Anonymous()"  # type: ignore[attr-defined]
    bucket = fakegcs.make_bucket()
    async with (
        FaultProxy(fakegcs.url) as proxy,
        apins.board_gcs(
            f"{bucket}/anon", cache=tmp_path / "c", endpoint_url=proxy.url, anonymous=True
        ) as board,
    ):
        await board.pin_write({"open": 1}, "o", type="json")
        assert await board.pin_list() == ["o"]
        assert await board.pin_read("o") == {"open": 1}
    assert proxy.requests
    assert [r for r in proxy.requests if "authorization" in r.headers] == []


async def test_application_default_credentials_from_the_variable_are_used(
    fakegcs: GCSServer,
    key_file: tuple[Path, TokenEndpoint],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GOOGLE_APPLICATION_CREDENTIALS naming a service-account key: the application-default
    lookup (``token="google_default"``, which an emulator endpoint needs; Google's endpoint does
    it with no token) signs a JWT for the key's token endpoint and every storage request
    carries the token it answered."""
    path, endpoint = key_file
    _no_adc_env(monkeypatch, tmp_path)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    assert repr(apins.board_gcs("b/p", cache=False).backend.store._creds) == (  # type: ignore[attr-defined]
        "ServiceAccount('pins@test.iam.gserviceaccount.com')"
    )
    bucket = fakegcs.make_bucket()
    async with (
        FaultProxy(fakegcs.url) as proxy,
        apins.board_gcs(
            f"{bucket}/adc", cache=tmp_path / "c", endpoint_url=proxy.url, token="google_default"
        ) as board,
    ):
        await board.pin_write({"adc": 1}, "a", type="json")
        assert await board.pin_read("a") == {"adc": 1}
        shown = repr(board) + repr(board.backend.store._creds)  # type: ignore[attr-defined]
    (token,) = endpoint.issued
    assert endpoint.claims[0]["iss"] == "pins@test.iam.gserviceaccount.com"
    assert {r.headers.get("authorization") for r in proxy.requests} == {f"Bearer {token}"}
    assert token not in shown


class MetadataEndpoint:
    """A GCE metadata server on loopback (in a thread: the client is another process), enough
    for google-auth's application-default lookup to find it and take a token from it."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.token = f"ya29.{secrets.token_urlsafe(16)}"
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.paths.append(self.path)
                path = self.path.split("?")[0]
                answer: Any = ""  # the ping at "/" needs only the Metadata-Flavor header
                if path.endswith("/project/project-id"):
                    answer = "test-project"
                elif path.endswith("/service-accounts/default/"):
                    answer = {"email": "vm@test.iam.gserviceaccount.com", "aliases": ["default"]}
                elif path.endswith("/service-accounts/default/token"):
                    answer = {"access_token": outer.token, "expires_in": 3600}
                is_json = not isinstance(answer, str)
                body = (json.dumps(answer) if is_json else answer).encode()
                self.send_response(200)
                self.send_header("Metadata-Flavor", "Google")
                self.send_header("Content-Type", "application/json" if is_json else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


async def test_google_auth_application_default_credentials_are_used(
    fakegcs: GCSServer, tmp_path: Path
) -> None:
    """No key file and no gcloud login: the application-default lookup falls to google-auth
    (the ``apins[gcs]`` extra), which finds the metadata server (pointed at loopback by its
    own GCE_METADATA_HOST variable, read when google-auth is imported: hence a subprocess);
    its token reaches every storage request and no output shows it."""
    import asyncio
    import os
    import subprocess

    from tests._helpers import PYTHON, subprocess_env

    metadata = MetadataEndpoint()
    (tmp_path / "gcloud").mkdir()
    env = {
        k: v
        for k, v in subprocess_env().items()
        if k not in ("GOOGLE_APPLICATION_CREDENTIALS", "STORAGE_EMULATOR_HOST")
    }
    env |= {"GCE_METADATA_HOST": metadata.host, "GCE_METADATA_IP": metadata.host,
            "CLOUDSDK_CONFIG": str(tmp_path / "gcloud")}  # fmt: skip
    script = (
        "import asyncio, sys, apins\n"
        "async def main():\n"
        "    async with apins.board_gcs(sys.argv[1], cache=False, endpoint_url=sys.argv[2],\n"
        "                               token='google_default') as board:\n"
        "        await board.pin_write({'gce': 1}, 'g', type='json')\n"
        "        assert await board.pin_read('g') == {'gce': 1}\n"
        "        print(repr(board), repr(board.backend.store._creds))\n"
        "asyncio.run(main())\n"
    )
    bucket = fakegcs.make_bucket()
    try:
        async with FaultProxy(fakegcs.url) as proxy:
            done = await asyncio.to_thread(
                subprocess.run, [PYTHON, "-c", script, f"{bucket}/gce", proxy.url],
                env=env, capture_output=True, text=True, timeout=120, cwd=os.getcwd(),
            )  # fmt: skip
    finally:
        metadata.close()
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("GoogleAuth(Credentials)")
    token_asks = [p for p in metadata.paths if "/service-accounts/default/token" in p]
    assert len(token_asks) == 1 and "devstorage.read_write" in unquote(token_asks[0])
    assert proxy.requests
    assert {r.headers.get("authorization") for r in proxy.requests} == {f"Bearer {metadata.token}"}
    assert metadata.token not in done.stdout + done.stderr
