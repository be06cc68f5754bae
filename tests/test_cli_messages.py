"""What the `apins` command says when things are not as expected: one plain line each,
the right exit code, and a hint of what to do."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import anyio

from apins.testing.connect import ConnectEmulator
from tests.faultproxy import FaultProxy
from tests.mirror_support import APINS, cli_env
from tests.servers import S3Server


def apins_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(APINS), *args], env=env or cli_env(), capture_output=True, text=True, timeout=120
    )


def test_upload_several_files_needs_a_name(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("a")
    b.write_text("b")
    done = apins_cli("upload", str(tmp_path / "board"), str(a), str(b))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "apins: error: 2 files make one pin, which needs a name: add -n NAME (--name NAME)"
    )
    assert not (tmp_path / "board").exists()


def test_unchanged_upload_says_so(tmp_path: Path) -> None:
    f = tmp_path / "report.txt"
    f.write_text("same bytes")
    board = str(tmp_path / "board")
    first = apins_cli("upload", board, str(f))
    assert first.returncode == 0 and "unchanged" not in first.stderr
    again = apins_cli("upload", board, str(f))
    assert again.returncode == 0
    assert again.stdout == first.stdout  # the same version
    assert again.stderr.startswith("apins: unchanged: report.txt already holds this content")
    assert '"unchanged": true' in apins_cli("upload", board, str(f), "--json").stdout


def test_bad_search_regex_is_a_usage_error(tmp_path: Path) -> None:
    done = apins_cli("search", str(tmp_path), "([")
    assert done.returncode == 2
    assert "is not a valid regular expression" in done.stderr


def test_empty_results_are_said(tmp_path: Path) -> None:
    board = tmp_path / "board"
    board.mkdir()
    listed = apins_cli("list", str(board))
    assert (listed.returncode, listed.stdout) == (0, "")
    assert listed.stderr == f"apins: no pins on {board}\n"
    assert apins_cli("list", str(board), "--json").stdout.strip() == "[]"
    searched = apins_cli("search", str(board), "sales")
    assert searched.stderr == f"apins: no pin matches 'sales' on {board}\n"


async def test_connect_without_a_key_says_it_is_unset(tmp_path: Path) -> None:
    async with ConnectEmulator(root=tmp_path / "rsc", users={"alice": "key-a"}) as server:
        board = server.url.replace("http://", "connect+http://")
        env = {k: v for k, v in cli_env().items() if k != "CONNECT_API_KEY"}
        done = await anyio.to_thread.run_sync(lambda: apins_cli("list", board, env=env))
    assert done.returncode == 1
    assert "No API key is set: set CONNECT_API_KEY or pass the api_key argument." in done.stderr
    assert ".." not in done.stderr


async def test_https_to_a_plain_http_server_gives_a_hint_at_once(tmp_path: Path) -> None:
    async with ConnectEmulator(root=tmp_path / "rsc", users={"alice": "key-a"}) as server:
        hostport = server.url.removeprefix("http://")
        env = cli_env(CONNECT_API_KEY="key-a")
        started = time.monotonic()
        done = await anyio.to_thread.run_sync(
            lambda: apins_cli("list", f"connect://{hostport}", env=env)
        )
        took = time.monotonic() - started
    assert done.returncode == 1
    assert "does not speak TLS (https)" in done.stderr
    assert f"connect+http://{hostport}" in done.stderr
    assert "attempts" not in done.stderr  # not retried: another try cannot help
    assert took < 20  # no backoff rounds (the process start dominates)


async def test_offline_warning_is_one_plain_line(seaweed: S3Server, tmp_path: Path) -> None:
    bucket = seaweed.make_bucket()
    f = tmp_path / "data.bin"
    f.write_bytes(b"x" * 1000)
    env = cli_env(seaweed, PINS_CACHE_DIR=str(tmp_path / "cache"))
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        board = f"s3://{bucket}/p"
        ep = ("--endpoint-url", proxy.url)
        up = await anyio.to_thread.run_sync(
            lambda: apins_cli("upload", board, str(f), *ep, env=env)
        )
        assert up.returncode == 0, up.stderr
        got = await anyio.to_thread.run_sync(
            lambda: apins_cli("download", board, "data.bin", *ep, env=env)
        )
        assert got.returncode == 0, got.stderr
    # the proxy is gone: the endpoint cannot be reached, the cache answers
    offline = await anyio.to_thread.run_sync(
        lambda: apins_cli("download", board, "data.bin", *ep, env=env)
    )
    assert offline.returncode == 0, offline.stderr
    lines = offline.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("apins: warning: ")
    assert "offline" in lines[0].lower() or "cache" in lines[0].lower()


def test_python_dash_m_apins_is_the_cli(tmp_path: Path) -> None:
    import sys

    f = tmp_path / "notes.txt"
    f.write_text("hello")
    board = str(tmp_path / "board")
    done = subprocess.run(
        [sys.executable, "-m", "apins", "upload", board, str(f), "--json"],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    listed = apins_cli("list", board)
    assert listed.stdout.split() == ["notes.txt"]
