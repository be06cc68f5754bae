"""Start and stop a plain Python http.server (no Range support) on 127.0.0.1."""

from __future__ import annotations

import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ._proc import LOOPBACK, ServerStartError, http_answers, log_tail, spawn, stop, wait_until

_MAIN = Path(__file__).with_name("_plain_http_main.py")


@dataclass
class PlainHttpServer:
    """A ThreadingHTTPServer serving `root` at `url`; ignores Range (always 200, full body)."""

    url: str
    root: Path
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _workdir: Path | None = field(default=None, repr=False)
    _owns_root: bool = field(default=False, repr=False)

    def stop(self) -> None:
        """Stop the server process and remove its temp files (and `root` if it made it)."""
        if self._proc is not None:
            stop(self._proc)
            self._proc = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PlainHttpServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _read_port(proc: subprocess.Popen[bytes], log_path: Path, timeout: float) -> int:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise ServerStartError(
                f"plain http server printed no port in {timeout} s:\n{log_tail(log_path)}",
                exited=False,
            )
        line = proc.stdout.readline()
    if not line.strip():
        raise ServerStartError(
            f"plain http server exited with code {proc.wait()}:\n{log_tail(log_path)}",
            exited=True,
        )
    return int(line)


def start_plain_http(root: Path | str | None = None, timeout: float = 15.0) -> PlainHttpServer:
    """Start the no-Range static server over `root` (a fresh temp folder when None).

    The child binds an ephemeral port itself and reports it, so there is no port race.
    """
    owns_root = root is None
    root_path = Path(tempfile.mkdtemp(prefix="apins-plain-root-") if root is None else root)
    root_path = root_path.resolve()
    workdir = Path(tempfile.mkdtemp(prefix="apins-plain-"))
    log_path = workdir / "plain-http.log"
    cmd = [sys.executable, "-B", str(_MAIN), str(root_path)]
    proc = spawn(cmd, log_path, cwd=workdir, pipe_stdout=True)
    server = PlainHttpServer(
        url="", root=root_path, _proc=proc, _workdir=workdir, _owns_root=owns_root
    )
    try:
        deadline = time.monotonic() + timeout
        url = server.url = f"http://{LOOPBACK}:{_read_port(proc, log_path, timeout)}"
        remaining = max(deadline - time.monotonic(), 1.0)
        wait_until(lambda: http_answers(url + "/"), proc, log_path, "plain http", remaining)
    except BaseException:
        server.stop()
        raise
    return server
