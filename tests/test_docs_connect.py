"""docs/connect.md: its Python blocks run as written, in order, in one fresh interpreter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "connect.md"


def test_connect_doc_blocks_run(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 6
    script = tmp_path / "doc.py"
    script.write_text("\n".join(blocks), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECT_")}
    env["HOME"] = str(tmp_path)  # no rsconnect-python servers of the user
    r = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout
    assert "alice/sales 1" in out
    assert "(2, 2)" in out and "Daily sales" in out
    assert "['content_url', 'dash_url']" in out and "_rev1/" in out
