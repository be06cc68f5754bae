"""rsconnect-python's command line, unmodified, against the Connect emulator.

``rsconnect add``, ``details``, ``deploy html``, ``content search``, ``content describe`` and
``content download-bundle``, each run as a subprocess with its configuration in a temporary HOME.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from apins.testing.connect import ConnectEmulator, run_in_thread

USERS: dict[str, str | tuple[str, str]] = {"alice": "rsc-key-a", "bob": "rsc-key-b"}


def _rsconnect() -> str:
    found = Path(sys.executable).with_name("rsconnect")
    if found.exists():
        return str(found)
    on_path = shutil.which("rsconnect")
    if on_path is None:
        pytest.fail("rsconnect-python's CLI is not installed (it is in the [test] extra)")
    return on_path


class Cli:
    """Runs ``rsconnect`` with HOME (and so its servers.json) in a temporary folder."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.exe = _rsconnect()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CONNECT_")},
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "NO_COLOR": "1",
        }

    def __call__(self, *args: str, both: bool = False) -> str:
        """stdout (the JSON of content commands); ``both`` adds stderr (progress messages)."""
        r = subprocess.run(
            [self.exe, *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        assert r.returncode == 0, (args, r.stdout[-2000:], r.stderr[-2000:])
        return r.stdout + (r.stderr if both else "")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ConnectEmulator]:
    with run_in_thread(root=tmp_path / "connect", users=USERS) as srv:
        yield srv


@pytest.fixture
def cli(tmp_path: Path, server: ConnectEmulator) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    run = Cli(home)
    out = run("add", "--server", server.url, "--api-key", "rsc-key-a", "--name", "emu", both=True)
    assert "Added Connect server" in out + run("list")
    return run


def test_details_and_deploy_html_then_content_commands(
    cli: Cli, server: ConnectEmulator, tmp_path: Path
) -> None:
    details = cli("details", "-n", "emu", both=True)
    assert "2024.09.0" in details

    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>deployed by rsconnect</h1>")
    (site / "style.css").write_text("h1 { color: teal }")
    out = cli("deploy", "html", "-n", "emu", "--title", "RS site", str(site), both=True)
    assert "Deployment completed successfully" in out

    found = json.loads(cli("content", "search", "-n", "emu"))
    assert [(c["title"], c["app_mode"]) for c in found] == [("RS site", "static")]
    guid = found[0]["guid"]
    described = json.loads(cli("content", "describe", "-n", "emu", "-g", guid))
    assert described[0]["guid"] == guid and described[0]["bundle_id"] == found[0]["bundle_id"]
    page = requests.get(
        described[0]["content_url"], headers={"Authorization": "Key rsc-key-a"}, timeout=30
    )
    assert page.text == "<h1>deployed by rsconnect</h1>"

    archive = tmp_path / "bundle.tar.gz"
    cli("content", "download-bundle", "-n", "emu", "-g", guid, "-o", str(archive))
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert {"index.html", "style.css", "manifest.json"} <= names
    assert manifest["metadata"]["appmode"] == "static"

    # a second deploy of the same folder updates the same content item
    (site / "index.html").write_text("<h1>v2</h1>")
    cli("deploy", "html", "-n", "emu", str(site))
    assert len(json.loads(cli("content", "search", "-n", "emu"))) == 1
    page = requests.get(
        described[0]["content_url"], headers={"Authorization": "Key rsc-key-a"}, timeout=30
    )
    assert page.text == "<h1>v2</h1>"


def test_search_filters_and_other_users_content(cli: Cli, tmp_path: Path) -> None:
    for name in ("alpha", "beta"):
        site = tmp_path / name
        site.mkdir()
        (site / "index.html").write_text(name)
        cli("deploy", "html", "-n", "emu", "--title", name, str(site))
    hits = json.loads(cli("content", "search", "-n", "emu", "--title-contains", "alp"))
    assert [c["title"] for c in hits] == ["alpha"]
    bob = Cli(tmp_path / "bob-home")
    (tmp_path / "bob-home").mkdir()
    bob("add", "--server", cli_url(cli), "--api-key", "rsc-key-b", "--name", "emu")
    assert json.loads(bob("content", "search", "-n", "emu")) == []  # acl content is private


def cli_url(cli: Cli) -> str:
    servers = json.loads((cli.home / ".config" / "rsconnect-python" / "servers.json").read_text())
    return str(servers["emu"]["url"])
