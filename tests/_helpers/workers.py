"""Worker processes released together, for the multi-process race tests.

Each worker prints ``ready`` once it is set up, then waits for a line on stdin. A test starts
them with :meth:`WorkerPool.spawn`, waits until every one is ready, sends ``go`` to all at
once and collects what each printed::

    with WorkerPool(WORKER, env) as pool:
        procs = [pool.spawn("race", spec, str(i)) for i in range(10)]
        pool.ready(*procs)
        pool.go(*procs)
        outputs = pool.collect(*procs, timeout=120)

Leaving the ``with`` block kills the workers that are still running.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests._helpers import PYTHON

Proc = subprocess.Popen[str]


def expect_line(proc: Proc, want: str) -> None:
    """Read one line from ``proc``; unless it is ``want``, kill it and fail with its stderr."""
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != want:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"worker said {line!r} instead of {want!r}; stderr:\n{err}")


class WorkerPool:
    """Python worker processes running ``script`` with ``env`` (pipes on stdin and stdout)."""

    def __init__(self, script: str | Path, env: dict[str, str]) -> None:
        self.script = str(script)
        self.env = env
        self.procs: list[Proc] = []

    def spawn(self, *args: str) -> Proc:
        proc = subprocess.Popen(
            [PYTHON, self.script, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        self.procs.append(proc)
        return proc

    def ready(self, *procs: Proc) -> None:
        """Wait until each of ``procs`` printed ``ready``; fail with its stderr otherwise."""
        for proc in procs:
            expect_line(proc, "ready")

    def go(self, *procs: Proc) -> None:
        """Release ``procs`` together: one line on each one's stdin."""
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()

    def collect(self, *procs: Proc, timeout: float) -> list[list[str]]:
        """Wait for each of ``procs`` to exit 0; return the lines each printed."""
        outputs = []
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            assert proc.returncode == 0, err
            outputs.append(out.strip().splitlines())
        return outputs

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
