"""Process and port plumbing shared by the server helpers (no pytest dependency)."""

from __future__ import annotations

import atexit
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

LOOPBACK = "127.0.0.1"

# Ports below the kernel's ephemeral range, so outgoing connections never take them.
_PORT_LOW, _PORT_HIGH = 20000, 32000

_LIVE: dict[int, subprocess.Popen[bytes]] = {}


class ServerStartError(RuntimeError):
    """A server could not be started or never became ready.

    `exited` is True when the process died during start-up (often a port race),
    which makes a retry with fresh ports worthwhile.
    """

    def __init__(self, message: str, *, exited: bool) -> None:
        super().__init__(message)
        self.exited = exited


def start_with_retries(start: Callable[[], T], attempts: int = 3) -> T:
    """Call `start()` until it succeeds; retry only when the server died during start-up."""
    for attempt in range(attempts):
        try:
            return start()
        except ServerStartError as exc:
            if not exc.exited or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> list[int]:
    """Return `count` distinct ports that are currently bindable on 127.0.0.1.

    Another process can still take a port before our server binds it; callers
    retry the start with fresh ports when that happens.
    """
    rng = random.SystemRandom()
    chosen: list[int] = []
    while len(chosen) < count:
        port = rng.randrange(_PORT_LOW, _PORT_HIGH)
        if port not in chosen and _port_is_free(port):
            chosen.append(port)
    return chosen


def free_port() -> int:
    """Return one port that is currently bindable on 127.0.0.1."""
    return free_ports(1)[0]


def find_binary(name: str, *fallbacks: str) -> str:
    """Locate `name` next to sys.executable (the venv), then in fallbacks, then on PATH.

    Raises FileNotFoundError with a readable reason when it is nowhere.
    """
    import shutil

    candidates = [Path(sys.executable).parent / name, *(Path(f) for f in fallbacks)]
    for cand in candidates:
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    found = shutil.which(name)
    if found:
        return found
    where = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"{name!r} not found (looked in {where} and on PATH)")


def spawn(
    cmd: Sequence[str],
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    pipe_stdout: bool = False,
) -> subprocess.Popen[bytes]:
    """Start `cmd` in its own process group, output appended to `log_path`.

    With `pipe_stdout`, only stderr goes to the log and stdout is readable
    from `proc.stdout`. The process is stopped at interpreter exit if still alive.
    """
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipe_stdout else log,
            stderr=log if pipe_stdout else subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    _LIVE[proc.pid] = proc
    return proc


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """SIGTERM the process group of `proc`, wait, and SIGKILL it if it lingers."""
    _LIVE.pop(proc.pid, None)
    if proc.stdout is not None:
        proc.stdout.close()
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout)
    # Children that outlived the leader (same group) are reaped by SIGKILL too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


@atexit.register
def _stop_leftovers() -> None:
    for proc in list(_LIVE.values()):
        stop(proc, timeout=5.0)


def log_tail(log_path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a server log, for error messages."""
    try:
        text = log_path.read_text(errors="replace")
    except OSError as exc:
        return f"<no log: {exc}>"
    return "\n".join(text.splitlines()[-lines:])


def wait_until(
    ready: Callable[[], bool],
    proc: subprocess.Popen[bytes],
    log_path: Path,
    what: str,
    timeout: float,
) -> None:
    """Poll `ready()` until it is true; raise ServerStartError if `proc` dies or time runs out."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        if proc.poll() is not None:
            raise ServerStartError(
                f"{what} exited with code {proc.returncode} before it was ready; "
                f"log tail:\n{log_tail(log_path)}",
                exited=True,
            )
        try:
            if ready():
                return
        except Exception as exc:  # readiness probes fail in many ways until the server is up
            last_exc = exc
        if time.monotonic() > deadline:
            raise ServerStartError(
                f"{what} not ready after {timeout:.0f} s (last probe error: {last_exc!r}); "
                f"log tail:\n{log_tail(log_path)}",
                exited=False,
            )
        time.sleep(0.05)


def http_answers(url: str, timeout: float = 2.0) -> bool:
    """True when `url` gives any HTTP response (any status); False on connection errors."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or LOOPBACK, parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path or "/")
        conn.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()
