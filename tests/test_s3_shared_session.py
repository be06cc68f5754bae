"""S3 boards in one process share one botocore session (per profile, thread and AWS_* env)."""

from __future__ import annotations

import pytest

from apins.stores import s3 as s3mod
from apins.stores.s3 import S3Store


def _store(i: int, **kw: object) -> S3Store:
    return S3Store("bucket", f"p{i}", endpoint_url="http://127.0.0.1:9", region="us-east-1", **kw)  # type: ignore[arg-type]


async def test_boards_share_one_session_until_the_environment_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-one")
    s3mod._SESSIONS.clear()
    stores = [_store(i) for i in range(5)] + [_store(9, access_key="k", secret_key="s")]
    for st in stores:
        await st._get_client()
    assert len(s3mod._SESSIONS) == 1
    [session] = s3mod._SESSIONS.values()
    assert (await session.get_credentials()).access_key == "AKIDEXAMPLE1"

    # other credentials in the environment: a new session resolves them (no stale keys)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE2")
    other = _store(10)
    client = await other._get_client()
    assert len(s3mod._SESSIONS) == 2
    assert client._get_credentials().access_key == "AKIDEXAMPLE2"
    for st in [*stores, other]:
        await st.aclose()
