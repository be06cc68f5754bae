"""The helper processes a benchmark run starts: their CPU time (from /proc) and stopping them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def process_cpu(pid: int) -> float | None:
    """Seconds of CPU (user + system, all threads) process ``pid`` has used; None off Linux."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)"; comm may hold spaces
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return out


def tree_cpu(pid: int) -> float | None:
    """Seconds of CPU process ``pid`` and its living descendants have used; None off Linux."""
    total = process_cpu(pid)
    if total is None:
        return None
    for child in _children(pid):
        total += tree_cpu(child) or 0.0
    return total


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Terminate ``proc`` (kill it if it has not ended within ``timeout`` s) and close its pipes."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
