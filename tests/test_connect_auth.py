"""board_connect(auth=...): manual, envvar, rsconnect (servers stored by a real ``rsconnect add``)
and auto, each against the Connect emulator.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from apins import sync
from apins.connect.auth import rsconnect_config_dir
from apins.errors import PinsError
from apins.testing.connect import ConnectEmulator, run_in_thread
from tests.connect_support import USERS


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ConnectEmulator]:
    with run_in_thread(root=tmp_path / "connect", users=USERS) as srv:
        yield srv


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME (rsconnect-python keeps its servers under it) and no CONNECT_* vars."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("CONNECT_SERVER", raising=False)
    monkeypatch.delenv("CONNECT_API_KEY", raising=False)
    return home


def rsconnect_add(home: Path, url: str, key: str, name: str) -> None:
    exe = Path(sys.executable).with_name("rsconnect")
    env = {**os.environ, "HOME": str(home)}
    env.pop("XDG_CONFIG_HOME", None)
    r = subprocess.run(
        [str(exe), "add", "--server", url, "--api-key", key, "--name", name],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def whoami(board: sync.SyncBoard) -> str:
    """The user the board acts as: the owner part of a pin it writes."""
    name = f"probe-{len(board.pin_list())}"
    return board.pin_write({"x": 1}, name, type="json").name.split("/")[0]


def test_rsconnect_mode_reads_servers_stored_by_rsconnect_add(
    server: ConnectEmulator, home: Path
) -> None:
    with pytest.raises(PinsError, match="rsconnect add"):
        sync.board_connect(auth="rsconnect")
    rsconnect_add(home, server.url, "key-a", "emu-alice")
    assert (rsconnect_config_dir() / "servers.json").is_file()
    assert rsconnect_config_dir() == home / ".rsconnect-python"
    with sync.board_connect(auth="rsconnect", cache=False) as board:  # the only one
        assert whoami(board) == "alice"

    rsconnect_add(home, server.url + "/", "key-b", "emu-bob")
    with pytest.raises(PinsError, match="emu-alice, emu-bob") as err:
        sync.board_connect(auth="rsconnect")
    assert "key-a" not in str(err.value) and "key-b" not in str(err.value)
    with sync.board_connect(server_url="emu-bob", auth="rsconnect", cache=False) as board:
        assert whoami(board) == "bob"
    with pytest.raises(PinsError, match="Several stored"):
        sync.board_connect(server_url=server.url, auth="rsconnect")  # both have this URL
    with pytest.raises(PinsError, match="none is called"):
        sync.board_connect(server_url="emu-carol", auth="rsconnect")


def test_auto_prefers_arguments_then_environment_then_rsconnect(
    server: ConnectEmulator, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(PinsError, match="rsconnect add"):
        sync.board_connect()
    rsconnect_add(home, server.url, "key-b", "emu")
    with sync.board_connect(cache=False) as board:  # only the stored server
        assert whoami(board) == "bob"
    with sync.board_connect(server.url, cache=False) as board:  # its key, found by URL
        assert whoami(board) == "bob"
    monkeypatch.setenv("CONNECT_SERVER", server.url)
    monkeypatch.setenv("CONNECT_API_KEY", "key-a")
    with sync.board_connect(cache=False) as board:  # the environment beats the stored one
        assert whoami(board) == "alice"
    with sync.board_connect(server.url, "key-b", cache=False) as board:  # arguments win
        assert whoami(board) == "bob"


def test_auto_never_sends_the_environment_key_to_another_server(
    server: ConnectEmulator, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNECT_SERVER", "https://connect.elsewhere.example")
    monkeypatch.setenv("CONNECT_API_KEY", "key-a")
    with sync.board_connect(server.url, cache=False) as board, pytest.raises(PinsError):
        board.pin_write({"x": 1}, "nope", type="json")  # no key: Connect answers 401
    assert server.request_counts.get("POST /__api__/v1/content", 0) == 0


def test_manual_and_envvar_need_their_inputs(
    server: ConnectEmulator, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(PinsError, match="needs server_url= and api_key="):
        sync.board_connect(auth="manual")
    with pytest.raises(PinsError, match=r"needs api_key=\.") as err:
        sync.board_connect(server.url, auth="manual")
    with sync.board_connect(server.url, "key-a", auth="manual", cache=False) as board:
        assert whoami(board) == "alice"

    monkeypatch.setenv("CONNECT_API_KEY", "key-b")
    with pytest.raises(PinsError, match="CONNECT_SERVER") as err:
        sync.board_connect(auth="envvar")
    assert "key-b" not in str(err.value)
    monkeypatch.setenv("CONNECT_SERVER", server.url)
    with sync.board_connect(auth="envvar", cache=False) as board:
        assert whoami(board) == "bob"
    monkeypatch.delenv("CONNECT_API_KEY")
    with pytest.raises(PinsError, match="CONNECT_API_KEY"):
        sync.board_connect(auth="envvar")
    with pytest.raises(PinsError, match="auth must be one of"):
        sync.board_connect(server.url, "key-a", auth="oauth")


def test_config_dir_follows_rsconnect_python_rules() -> None:
    assert rsconnect_config_dir("linux", {"HOME": "/h"}) == Path("/h/.rsconnect-python")
    assert rsconnect_config_dir("linux", {"HOME": "/h", "XDG_CONFIG_HOME": "/x"}) == Path(
        "/x/rsconnect-python"
    )
    assert rsconnect_config_dir("darwin", {"HOME": "/h"}) == Path(
        "/h/Library/Application Support/rsconnect-python"
    )
    assert rsconnect_config_dir("win32", {"HOME": "/h", "APPDATA": "/a"}) == Path(
        "/a/rsconnect-python"
    )
