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
