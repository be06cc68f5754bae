"""The Connect pin page shows how to read the pin with apins (async and sync), pins-python and R;
the three Python snippets, copied from the page as served, run and read the pin."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import requests

from apins import sync
from apins.testing.connect import run_in_thread
from tests.connect_support import USERS

DATA = {"a": [1, 2], "b": "text"}


def test_page_snippets_read_the_pin(tmp_path: Path) -> None:
    with run_in_thread(root=tmp_path / "connect", users=USERS) as srv:
        with sync.board_connect(srv.url, "key-a", cache=False) as board:
            board.pin_write(DATA, "snippets", type="json", title="Snippet pin")
            page_url = board.pin_url("snippets")
        page = requests.get(page_url, headers={"Authorization": "Key key-a"}, timeout=30).text
        blocks = re.findall(r"<p>([^<]+):</p><pre>(.*?)</pre>", page, flags=re.S)
        snippets = {html.unescape(label): html.unescape(code) for label, code in blocks}
        assert list(snippets) == [
            "Python, apins (async)",
            "Python, apins (sync)",
            "Python, pins-python",
            "R, pins",
        ]
        assert 'pin_read(board, "alice/snippets")' in snippets["R, pins"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECT_")}
        env["CONNECT_API_KEY"] = "key-a"
        for label, code in list(snippets.items())[:3]:
            script = code + "\nimport json\nprint(json.dumps(x))\n"
            r = subprocess.run(
                [sys.executable, "-c", script],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert r.returncode == 0, (label, r.stderr[-2000:])
            assert json.loads(r.stdout.strip().splitlines()[-1]) == DATA, label
