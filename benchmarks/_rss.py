"""Peak memory of one operation, measured in a fresh child process.

The child (``python -m benchmarks._child``) imports the library and builds its board, reads
its resident size (the baseline), resets the kernel's high-water mark (writing 5 to
/proc/self/clear_refs), runs the operation and reports VmHWM. "Peak above baseline" is
VmHWM minus that baseline. The child also reports its ru_maxrss (the absolute peak of the
whole process, imports included) as a cross-check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def status_kib(field: str, pid: int | str = "self") -> int:
    """A ``Vm*`` field of /proc/<pid>/status in KiB (0 when absent)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak() -> bool:
    """Reset this process's VmHWM to its current RSS (Linux >= 4.0); False if refused."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def run_child(
    spec: dict[str, Any], env: dict[str, str] | None = None, timeout: float = 900
) -> dict[str, Any]:
    """Run one child operation (a fresh interpreter) and return its JSON report.

    The spec goes through stdin so credentials never appear on a command line.
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env["PYTHONPATH"] = str(ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=full_env,
        cwd=ROOT,
    )
    try:
        out, err = proc.communicate(json.dumps(spec).encode(), timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    if proc.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        errors = [x.strip(" |") for x in lines if "Error" in x and not x.strip().startswith("File")]
        why = errors[-1] if errors else " | ".join(lines[-3:])
        raise RuntimeError(f"child {spec.get('op')} ({spec.get('lib')}) failed: {why}")
    lines = [x for x in out.decode().splitlines() if x.startswith("{")]
    if not lines:
        raise RuntimeError(f"child {spec.get('op')} printed no report")
    report: dict[str, Any] = json.loads(lines[-1])
    return report
