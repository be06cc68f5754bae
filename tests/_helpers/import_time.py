"""Measure (not assert) import time: median of N fresh processes per module.

    python tests/_helpers/import_time.py [N]

Prints, per module, the median wall time of ``python -c "import <module>"`` and the median
of ``-X importtime``'s cumulative time for the module itself.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time

from tests._helpers import subprocess_env


def one(module: str) -> tuple[float, float]:
    env = subprocess_env()
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    cumulative = 0.0
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)$", line)
        if m and m.group(2) == module:
            cumulative = int(m.group(1)) / 1e6
    return wall, cumulative


def main(n: int) -> None:
    baseline = statistics.median(one("sys")[0] for _ in range(n))
    print(f"interpreter start (import sys): {baseline * 1000:.0f} ms median wall")
    for module in ("apins", "pins"):
        runs = [one(module) for _ in range(n)]
        wall = statistics.median(r[0] for r in runs)
        own = statistics.median(r[1] for r in runs)
        print(
            f"import {module}: {wall * 1000:.0f} ms median wall, {own * 1000:.0f} ms in the import"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
