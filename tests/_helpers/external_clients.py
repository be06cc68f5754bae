"""Run other projects' Connect clients against the emulator: a cached venv and a pins sdist.

Everything downloaded lives under ``.cache/external-clients/`` at the repository root (ignored by
git) and is reused when present, so only the first run needs the package index.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "external-clients"
PINS_VERSION = "0.9.2"
# What pins-python 0.9.2's own tests import (its [test] extra, less the cloud backends).
PINS_SUITE_REQUIREMENTS = [
    f"pins=={PINS_VERSION}",
    "pytest>=8,<9",  # pytest-cases does not load under pytest 9
    "pytest-cases",
    "pyarrow",
    "rdata",
    "aiohttp",
    "requests",
]


def _uv() -> list[str]:
    found = shutil.which("uv")
    if found:
        return [found]
    return [sys.executable, "-m", "uv"]


def _run(cmd: list[str], **kw: object) -> None:
    subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)  # type: ignore[call-overload]


def suite_venv() -> Path:
    """The Python of a venv holding pins 0.9.2 and its test dependencies (built once)."""
    venv = CACHE / "pins-suite-venv"
    python = venv / "bin" / "python"
    stamp = venv / ".complete"
    if not stamp.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(venv, ignore_errors=True)
        _run([*_uv(), "venv", "-q", "--seed", "--python", sys.executable, str(venv)])
        _run([*_uv(), "pip", "install", "-q", "-p", str(python), *PINS_SUITE_REQUIREMENTS])
        stamp.write_text("ok\n")
    return python


def pins_sdist() -> Path:
    """The unpacked pins 0.9.2 source distribution (downloaded with pip once)."""
    root = CACHE / f"pins-{PINS_VERSION}"
    if (root / "pins" / "tests" / "conftest.py").exists():
        return root
    python = suite_venv()
    archive = CACHE / f"pins-{PINS_VERSION}.tar.gz"
    if not archive.exists():
        pip = [str(python), "-m", "pip", "download", "-q", "--no-binary", ":all:", "--no-deps"]
        _run([*pip, "-d", str(CACHE), f"pins=={PINS_VERSION}"])
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4 (Debian 12 ships 3.11.2)
            tar.extractall(CACHE, filter="data")
        else:
            for member in tar.getmembers():
                if member.name.startswith(("/", "..")) or "/../" in member.name:
                    raise RuntimeError(f"unsafe path in {archive}: {member.name!r}")
            tar.extractall(CACHE)
    return root


_SUMMARY = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)")


def summary_counts(output: str) -> dict[str, int]:
    """pytest's final summary line as counts: {"passed": 94, "failed": 0, ...}."""
    lines = [ln for ln in output.splitlines() if _SUMMARY.search(ln) and " in " in ln]
    counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    if lines:
        for n, what in _SUMMARY.findall(lines[-1]):
            counts["error" if what.startswith("error") else what] = int(n)
    return counts


def run_pytest(
    python: Path, cwd: Path, args: list[str], env: dict[str, str], timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """``python -m pytest args`` in ``cwd`` with ``env`` added to a clean copy of os.environ."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CONNECT_", "PINS_"))}
    base.pop("PYTEST_ADDOPTS", None)
    for proxy in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        base.pop(proxy, None)
    return subprocess.run(
        [str(python), "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
