"""apins._redact: signed URLs, credential headers and client-library debug text lose their
secrets; the record factory scrubs every apins/botocore/aiohttp record as it is made."""

from __future__ import annotations

import logging
import subprocess
import sys
import uuid
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apins import _redact
from apins._redact import (
    MASK,
    RedactingFilter,
    install,
    redact_headers,
    redact_record,
    redact_text,
    redact_url,
    register_secret,
)
from tests._helpers import subprocess_env

SIG = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
TOKEN = "FwoGZXIvYXdzEJr//////////wEaDH+abc/def=="
CRED = "AKIAIOSFODNN7EXAMPLE/20261129/us-east-1/s3/aws4_request"


def presigned() -> str:
    return (
        "https://bucket.s3.amazonaws.com/team/pins/x/data.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={quote(CRED, safe='')}&X-Amz-Date=20261129T170000Z&X-Amz-Expires=3600"
        f"&X-Amz-SignedHeaders=host&X-Amz-Security-Token={quote(TOKEN, safe='')}"
        f"&X-Amz-Signature={SIG}"
    )


def leaked(text: str) -> list[str]:
    secrets = [SIG, TOKEN, quote(TOKEN, safe=""), CRED, quote(CRED, safe="")]
    return [s for s in secrets if s in text]


def test_redact_url_masks_signed_url_secrets_and_keeps_the_rest() -> None:
    out = redact_url(presigned())
    assert leaked(out) == []
    assert out.startswith("https://bucket.s3.amazonaws.com/team/pins/x/data.txt?")
    assert "X-Amz-Expires=3600" in out and "X-Amz-Date=20261129T170000Z" in out
    assert f"X-Amz-Signature={MASK}" in out and f"X-Amz-Security-Token={MASK}" in out


@pytest.mark.parametrize(
    ("url", "secret", "kept"),
    [
        ("https://acct.blob.core.windows.net/c/b?sv=2024-01-01&se=2026-12-01&sp=r&sig=AbC%2Bd123xyz%3D",
         "AbC%2Bd123xyz%3D", "se=2026-12-01"),
        ("https://h/p?access_token=ya29.a0AfH6SMBx&alt=media", "ya29.a0AfH6SMBx", "alt=media"),
        ("https://h/p?key=AIzaSyD-secret-key&x=1", "AIzaSyD-secret-key", "x=1"),
        ("https://h/p?TOKEN=tok-123456&page=2", "tok-123456", "page=2"),
        ("https://h/p?Signature=sig2value&AWSAccessKeyId=AKIA1&Expires=1", "sig2value",
         "Expires=1"),
        ("https://alice:hunter2-pass@h.example/x", "hunter2-pass", "h.example/x"),
        ("https://h/p#access_token=frag-token-1&state=s", "frag-token-1", "state=s"),
    ],
)  # fmt: skip
def test_redact_url_cases(url: str, secret: str, kept: str) -> None:
    out = redact_url(url)
    assert secret not in out and kept in out
    assert secret not in redact_text(f"fetching {url} now")


def test_redact_headers() -> None:
    headers = {
        "Authorization": "Key abc",
        "key": "k",
        "X-Amz-Security-Token": TOKEN,
        "x-ms-copy-source-authorization": "Bearer x",
        "Cookie": "s=1",
        "Range": "bytes=0-9",
        "x-ms-version": "2024-01-01",
    }
    out = redact_headers(headers)
    assert out == {
        "Authorization": MASK,
        "key": MASK,
        "X-Amz-Security-Token": MASK,
        "x-ms-copy-source-authorization": MASK,
        "Cookie": MASK,
        "Range": "bytes=0-9",
        "x-ms-version": "2024-01-01",
    }
    assert redact_headers(list(headers.items())) == out


# Shapes of text botocore, aiobotocore and aiohttp log at DEBUG (secrets in several spellings).
BOTOCORE_LINES = [
    "Sending http request: <AWSPreparedRequest stream_output=False, method=PUT, "
    "url=https://h/b/k, headers={'User-Agent': b'Botocore/1.43', "
    f"'X-Amz-Security-Token': b'{TOKEN}', 'Authorization': b'AWS4-HMAC-SHA256 "
    f"Credential={CRED}, SignedHeaders=host;x-amz-date, Signature={SIG}'}}>",
    f"CanonicalRequest:\nGET\n/b/k\n\nhost:h\nx-amz-security-token:{TOKEN}\n\nhost\nUNSIGNED",
    f"Signature:\n{SIG}",
    f"Generating presigned url: {presigned()}",
    f"request headers: {{'Authorization': 'AWS4-HMAC-SHA256 Credential={CRED}, Signature={SIG}'}}",
    f"Authorization: AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders=host, Signature={SIG}",
]


@pytest.mark.parametrize("line", BOTOCORE_LINES)
def test_redact_text_on_client_library_debug_lines(line: str) -> None:
    assert leaked(line)  # the sample does carry a secret
    assert leaked(redact_text(line)) == []


def test_registered_secrets_are_scrubbed_in_any_spelling() -> None:
    secret = "s3cr3t/" + uuid.uuid4().hex + "+=="
    register_secret(secret)
    for text in (f"x {secret} y", f"x={quote(secret, safe='')}", repr({"k": secret})):
        assert secret not in redact_text(text)
        assert quote(secret, safe="") not in redact_text(text)


@pytest.mark.usefixtures("private_registry")
def test_short_values_are_not_registered() -> None:
    register_secret("abc")
    assert redact_text("abc abcdef") == "abc abcdef"


def test_record_factory_scrubs_third_party_records_for_any_handler() -> None:
    install()
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    handler = Keep(logging.DEBUG)
    logger = logging.getLogger("botocore.endpoint")
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug(
            "Sending %s", {"Authorization": f"Signature={SIG}", "X-Amz-Security-Token": TOKEN}
        )
        try:
            raise ValueError(f"bad url {presigned()}")
        except ValueError:
            logger.debug("failed", exc_info=True)
        logging.getLogger("someone.else").debug("untouched %s", SIG)  # not ours: left alone
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
    assert len(seen) == 2
    text = " ".join(logging.Formatter().format(r) + repr(r.args) for r in seen)
    assert leaked(text) == []


def test_filter_scrubs_records_of_any_logger() -> None:
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "url %s", (presigned(),), None)
    assert RedactingFilter().filter(record) is True
    assert leaked(record.getMessage()) == [] and record.args == ()
    assert redact_record(record) is record  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        "No API key is set: pass api_key= or set CONNECT_API_KEY.",
        "no object key sales/2024/data.csv on s3://b/p",
        "Key CONNECT_API_KEY is unset; token refresh needed",
        "Signature version s3v4 selected",
        "file 'key=value.txt' written",
    ],
)
def test_redact_text_keeps_ordinary_messages(text: str) -> None:
    assert redact_text(text) == text


def test_redact_text_masks_authorization_values_in_prose() -> None:
    assert redact_text("sent Key ab12cd34ef56gh78 to the server") == "sent Key *** to the server"
    assert redact_text("Bearer eyJhbGciOiJIUzI1NiJ9.e30.x1") == "Bearer ***"


_SECRET_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+=-_.~%"


@settings(max_examples=150, deadline=None)
@given(
    secret=st.text(_SECRET_CHARS, min_size=8, max_size=80),
    param=st.sampled_from(
        ["X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "sig", "access_token",
         "token", "key", "X-Goog-Signature", "Signature"]
    ),
    before=st.sampled_from(["", "X-Amz-Date=20261129T000000Z&", "a=1&b=2&"]),
    after=st.sampled_from(["", "&X-Amz-Expires=60", "&z=9"]),
)  # fmt: skip
def test_signed_url_values_never_survive(secret: str, param: str, before: str, after: str) -> None:
    url = f"https://host.example/b/k.txt?{before}{param}={secret}{after}"
    for out in (redact_url(url), redact_text(f"GET {url} -> 403"), redact_text(repr({"u": url}))):
        assert f"{param}={secret}" not in out
        assert f"{param}={MASK}" in out


@pytest.fixture
def private_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets registered by the test are forgotten afterwards (short random ones such as
    '000000' would otherwise scrub other tests' log text)."""
    monkeypatch.setattr(_redact, "_secrets", set(_redact._secrets))
    monkeypatch.setattr(_redact, "_secret_re", _redact._secret_re)


@pytest.mark.usefixtures("private_registry")
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    secret=st.text(_SECRET_CHARS, min_size=6, max_size=60),
    prefix=st.text(max_size=30),
    suffix=st.text(max_size=30),
)
def test_registered_secrets_never_survive(secret: str, prefix: str, suffix: str) -> None:
    register_secret(secret)
    for text in (prefix + secret + suffix, prefix + quote(secret, safe="") + suffix):
        assert secret not in redact_text(text)


# a fresh interpreter: DEBUG on the root logger first, then apins, one board, then
# dependencies log secrets (the filter must already be in place: no window after the board)
_FIRST_BOARD = """
import io, logging, sys
out = io.StringIO()
handler = logging.StreamHandler(out)
handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
logging.getLogger().addHandler(handler)
logging.getLogger().setLevel(logging.DEBUG)
import apins
board = {board}
for name in DEPENDENCIES:
    logging.getLogger(name).debug("%s", LINE)
sys.stdout.write(out.getvalue())
"""
_DEPENDENCIES = [
    "aiohttp.client", "botocore.endpoint", "urllib3.connectionpool", "azure.core.pipeline",
    "google.auth.transport",
]  # fmt: skip
_KEY = "k3y-" + "Zq7" * 8


@pytest.mark.parametrize(
    ("board", "line"),
    [
        (  # patterns: a folder board registers no secret
            "apins.board_temp()",
            f"GET {presigned()} headers {{'Authorization': b'AWS4-HMAC-SHA256 Signature={SIG}'}}",
        ),
        (  # a registered key, logged bare
            f"apins.board_s3('b', endpoint_url='http://127.0.0.1:9', access_key='AKIDEXAMPLE', "
            f"secret_key={_KEY!r})",
            f"signing with {_KEY} now",
        ),
        (
            f"apins.board_connect('http://127.0.0.1:9', api_key={_KEY!r})",
            f"sending key {_KEY} now",
        ),
    ],
    ids=["folder", "s3", "connect"],
)
def test_dependency_debug_records_right_after_the_first_board_are_redacted(
    board: str, line: str
) -> None:
    code = f"DEPENDENCIES = {_DEPENDENCIES!r}\nLINE = {line!r}\n" + _FIRST_BOARD.format(board=board)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(),
        timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [ln.split(" ", 1)[0] for ln in lines] == _DEPENDENCIES  # every record was written
    assert leaked(proc.stdout) == [] and _KEY not in proc.stdout
    assert all(MASK in ln for ln in lines)
