"""The `apins` console script, run in subprocesses against folder boards and SeaweedFS."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.mirror_support import APINS, REPO, cli_env
from tests.servers import S3Server

DOCS = REPO / "docs" / "cli.md"


def run(
    *args: str, env: dict[str, str] | None = None, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(APINS), *args], env=env or cli_env(), capture_output=True, text=True, timeout=120
    )
    if ok:
        assert done.returncode == 0, (args, done.stderr)
    return done


def run_json(*args: str, env: dict[str, str] | None = None) -> Any:
    return json.loads(run(*args, "--json", env=env).stdout)


def documented_help(command: str) -> str:
    """The block after ``$ apins ... --help`` in docs/cli.md."""
    text = DOCS.read_text()
    m = re.search(rf"^\$ {re.escape(command)}\n(.*?)^```$", text, re.M | re.S)
    assert m, f"docs/cli.md has no '$ {command}' block"
    return m.group(1)


@pytest.mark.parametrize("command", ["apins --help", "apins mirror --help"])
def test_help_in_docs_matches(command: str) -> None:
    real = run(*command.split()[1:]).stdout
    assert documented_help(command) == real, f"update docs/cli.md with `{command}`"


def test_python_m_and_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "apins.cli", "--version"], capture_output=True, text=True,
        env=cli_env(), timeout=60,
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout.startswith("apins ")


def test_folder_board_commands(tmp_path: Path) -> None:
    board = str(tmp_path / "board")
    a = tmp_path / "a.csv"
    a.write_text("x,y\n1,2\n")
    b = tmp_path / "b.txt"
    b.write_text("hello\n")

    first = run_json("upload", board, str(a), "--name", "data", "--title", "Data",
                     "--metadata", '{"source": "test"}', "--tag", "t1")  # fmt: skip
    assert first["name"] == "data" and first["user"] == {"source": "test"}
    a.write_text("x,y\n3,4\n")
    second = run_json("upload", f"file://{board}", str(a), str(b), "-n", "data")
    assert second["file"] == ["a.csv", "b.txt"] and second["version"] != first["version"]
    run("upload", board, str(b))  # the pin is named after the file

    assert run_json("list", board) == ["b.txt", "data"]
    assert run("list", board).stdout.split() == ["b.txt", "data"]
    versions = run_json("versions", board, "data")
    assert [v["version"] for v in versions] == [first["version"], second["version"]]
    assert "version" in run("versions", board, "data").stdout.splitlines()[0]

    meta = run_json("meta", board, "data", "--version", first["version"])
    assert meta["title"] == "Data" and meta["tags"] == ["t1"]
    raw = run("meta", board, "data").stdout
    data_txt = (tmp_path / "board" / "data" / second["version"] / "data.txt").read_text()
    assert raw.endswith(data_txt)  # the data.txt itself, after a comment line

    found = run_json("search", board, "^da")
    assert [m["name"] for m in found] == ["data"]

    out = tmp_path / "out"
    paths = run_json("download", board, "data", "-o", str(out))
    assert sorted(Path(p).name for p in paths) == ["a.csv", "b.txt"]
    assert (out / "a.csv").read_text() == "x,y\n3,4\n"
    wrong = run("download", board, "data", "--hash", "ffffffff", ok=False)
    assert wrong.returncode == 1 and wrong.stderr.startswith("apins: error:")

    manifest = run_json("write-manifest", board)
    assert set(manifest) == {"b.txt", "data"}
    assert (tmp_path / "board" / "_pins.yaml").is_file()

    pruned = run_json("prune", board, "data", "--keep", "1")
    assert pruned == {"pin": "data", "deleted": [first["version"]]}
    run("delete", board, "data", "--version", second["version"])
    run("delete", board, "b.txt")
    assert run_json("list", board) == []


def test_exit_codes_and_errors(tmp_path: Path) -> None:
    board = str(tmp_path / "board")
    f = tmp_path / "f.txt"
    f.write_text("x")
    run("upload", board, str(f))

    for args in (("versions", board, "nope"), ("meta", board, "f.txt", "--version", "nope"),
                 ("download", board, "nope"), ("delete", board, "nope")):  # fmt: skip
        done = run(*args, ok=False)
        assert done.returncode == 3, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("apins: error: ")
        assert "Traceback" not in done.stderr

    debug = run("versions", board, "nope", "--debug", ok=False)
    assert debug.returncode == 3 and "Traceback" in debug.stderr

    for args in (("list",), ("bogus",), ("list", "ftp://bucket"), ("prune", board, "f.txt"),
                 ("mirror", board, board), ("list", board, "--nope")):  # fmt: skip
        done = run(*args, ok=False)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith("apins: error: ") and "Traceback" not in done.stderr

    bad_name = run("upload", board, str(f), "--name", "a/b", ok=False)
    assert bad_name.returncode == 2


def test_s3_board_and_mirror(seaweed: S3Server, tmp_path: Path) -> None:
    bucket = seaweed.make_bucket("cli")
    env = cli_env(seaweed, PINS_CACHE_DIR=str(tmp_path / "cache"))
    flags_env = {k: v for k, v in env.items() if k != "AWS_ENDPOINT_URL_S3"}
    s3 = f"s3://{bucket}/team/board"
    f = tmp_path / "model.bin"
    f.write_bytes(b"\x00\x01" * 5000)

    # the endpoint from the environment, from a flag (before or after the command), or the URL
    run("upload", s3, str(f), "--name", "model", env=env)
    f.write_bytes(b"\x02" * 7000)
    run("--endpoint-url", seaweed.endpoint_url, "upload", s3, str(f), "-n", "model",
        env=flags_env)  # fmt: skip
    assert run_json("list", s3, "--endpoint-url", seaweed.endpoint_url, env=flags_env) == ["model"]
    in_url = f"{s3}?endpoint_url={seaweed.endpoint_url}"
    assert len(run_json("versions", in_url, "model", env=flags_env)) == 2

    dst = tmp_path / "copy"
    plan = run_json("mirror", s3, str(dst), "--dry-run", env=env)
    assert plan["dry_run"] and len(plan["copied"]) == 2 and not dst.exists()
    report = run_json("mirror", s3, str(dst), env=env)
    assert len(report["copied"]) == 2 and report["failed"] == [] and report["bytes"] == 17000
    again = run_json("mirror", s3, str(dst), "--versions", "latest", env=env)
    assert again["copied"] == [] and len(again["skipped"]) == 1
    text = run("mirror", s3, str(dst), env=env).stdout
    assert "skipped 2" in text

    missing = run("mirror", s3, str(dst), "--pin", "ghost", env=env, ok=False)
    assert missing.returncode == 3 and "ghost" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert missing.stderr.startswith("apins: error: ghost: ")


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    """With stderr a terminal, transfers draw a tqdm bar there; --no-progress turns it off."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    src = tmp_path / "src"
    f = tmp_path / "blob.bin"
    f.write_bytes(os.urandom(3 * 1024 * 1024))
    run("upload", str(src), str(f))

    def stderr_of(*args: str, env: dict[str, str] | None = None) -> str:
        master, slave = pty.openpty()
        # a 24x100 terminal (a new pty has no size, and tqdm draws nothing in 0 columns)
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        proc = subprocess.Popen(
            [str(APINS), *args], env=env or cli_env(), stdout=subprocess.PIPE, stderr=slave
        )
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        assert proc.wait(timeout=60) == 0
        assert proc.stdout is not None
        proc.stdout.close()
        return b"".join(chunks).decode(errors="replace")

    drawn = stderr_of("mirror", str(src), str(tmp_path / "a"))
    assert "mirror" in drawn and "100%" in drawn
    assert stderr_of("mirror", str(src), str(tmp_path / "b"), "--no-progress") == ""
    # APINS_PROGRESS=0 turns bars off everywhere, the CLI included
    quiet = {**cli_env(), "APINS_PROGRESS": "0"}
    assert stderr_of("mirror", str(src), str(tmp_path / "c"), env=quiet) == ""
