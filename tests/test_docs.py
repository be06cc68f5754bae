"""Every code block in README.md and docs/ runs, so no example can rot.

Each page's ``python`` blocks run in order as one script in a fresh process; its ``sh``
blocks run with bash. ``bash`` blocks are the install commands (CI runs the README's quick
start itself), and ``text``/``yaml`` blocks are output, not code.

The examples name placeholder places, which this test points at real local servers:

=====================================  ===================================================
in the docs                            here
=====================================  ===================================================
``https://connect.example.com|.org``   the Connect emulator (``CONNECT_API_KEY`` is set)
``connect://connect.example.org``      the same, as a CLI board URL
``https://example.org/board/``         nginx serving ``/srv/www/board``
``/srv/www/board``                     a folder under nginx's root (holds ``README.txt``)
``team-bucket``, ``backup-bucket``...  buckets on SeaweedFS (``AWS_ENDPOINT_URL_S3``)
``http://127.0.0.1:8333``              SeaweedFS's endpoint
=====================================  ===================================================
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from apins.testing.connect import run_in_thread
from tests.mirror_support import APINS
from tests.servers import NginxServer, S3Server

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BUCKETS = ("team-bucket", "backup-bucket", "old", "new", "backup")
FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```\s*$", re.M | re.S)


def blocks(page: Path, lang: str) -> list[str]:
    """The code of every fenced block whose info string is exactly ``lang``."""
    return [m.group(2) for m in FENCE.finditer(page.read_text()) if m.group(1) == lang]


@dataclass
class DocsWorld:
    env: dict[str, str]
    subs: dict[str, str]

    def prepare(self, code: str) -> str:
        for old, new in self.subs.items():
            code = code.replace(old, new)
        return code


def _bucket(server: S3Server, name: str) -> None:
    client = server.boto3_client()
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=name)


@pytest.fixture(scope="module")
def world(
    seaweed: S3Server, nginx: NginxServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DocsWorld]:
    home = tmp_path_factory.mktemp("docs-home")
    for name in BUCKETS:
        _bucket(seaweed, name)
    www = nginx.root / "board"
    www.mkdir(exist_ok=True)
    (www / "README.txt").write_text("A board published for the docs examples.\n")
    with run_in_thread(home / "connect", {"alice": "key-a"}) as connect:
        env = {
            **os.environ,
            **seaweed.env(),
            "HOME": str(home),
            "PINS_CACHE_DIR": str(home / "cache"),
            "PINS_DATA_DIR": str(home / "data"),
            "CONNECT_SERVER": connect.url,
            "CONNECT_API_KEY": "key-a",
            "APINS_PROGRESS": "0",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        hostport = connect.url.removeprefix("http://")
        subs = {
            "connect://connect.example.org": f"connect+http://{hostport}",
            "https://connect.example.com": connect.url,
            "https://connect.example.org": connect.url,
            "https://example.org/board/": f"{nginx.url}/board/",
            "/srv/www/board": str(www),
            "http://127.0.0.1:8333": seaweed.endpoint_url,
            "CONNECT_API_KEY=...": "CONNECT_API_KEY=key-a",
        }
        world = DocsWorld(env, subs)
        _seed(world)
        yield world


def _seed(world: DocsWorld) -> None:
    """What the examples expect to find: a 'sales' pin on S3, on Connect and on the
    published folder board."""
    script = """
import pyarrow as pa
from apins import sync
t = pa.table({"day": [1, 2], "sales": [120, 98]})
for board in (sync.board_s3("team-bucket/pins"), sync.board_s3("old/pins"),
              sync.board_connect(), sync.board_folder("/srv/www/board")):
    with board:
        board.pin_write(t, "sales", type="parquet", title="Daily sales")
        if board.board_deparse().startswith("board_folder"):
            board.write_board_manifest()
"""
    run_python(world, script)


def run_python(world: DocsWorld, code: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", world.prepare(code)],
        env=world.env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_python_blocks_run(page: Path, world: DocsWorld, tmp_path: Path) -> None:
    code = blocks(page, "python")
    if not code:
        return
    run_python(world, "\n\n".join(code), cwd=tmp_path)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_sh_blocks_run(page: Path, world: DocsWorld, tmp_path: Path) -> None:
    for code in blocks(page, "sh"):
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", world.prepare(code)],
            env=world.env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{code}\n{done.stdout}\n{done.stderr}"


def test_every_page_has_only_known_block_kinds() -> None:
    """A block in another language would silently not run: say what it is instead."""
    known = {"python", "sh", "bash", "text", "yaml", ""}
    odd = {
        (page.name, m.group(1))
        for page in PAGES
        for m in FENCE.finditer(page.read_text())
        if m.group(1) not in known
    }
    assert odd == set()


def test_apins_cli_is_the_one_under_test() -> None:
    assert Path(APINS).parent == Path(sys.executable).parent
