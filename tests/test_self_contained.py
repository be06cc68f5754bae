"""The test suite runs from a plain clone: no test reads a path outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: an absolute path into this machine's layout, or a climb out of the repository
_OUTSIDE = re.compile(r"[\"'](/work/|/home/|\.\./shared)|\"shared\" / \"fixtures\"")


def test_no_test_reads_outside_the_repository() -> None:
    offenders = []
    for folder in ("tests", "apins", "benchmarks"):
        for path in (REPO / folder).rglob("*.py"):
            for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
                if _OUTSIDE.search(line) and path.name != Path(__file__).name:
                    offenders.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_recorded_connect_responses_are_in_the_repository() -> None:
    folder = REPO / "tests" / "fixtures" / "connect"
    index = (folder / "INDEX.md").read_text("utf-8")
    listed = re.findall(r"^\| `([^`]+)`", index, flags=re.M)
    assert listed
    for rel in listed:
        assert (folder / rel).is_file(), rel
    for test in ("test_board_connect.py", "test_connect_emulator.py"):
        for rel in re.findall(
            r'"((?:connectapi|posit-sdk-py|publisher|rsconnect-python)/[^"]+)"',
            (REPO / "tests" / test).read_text("utf-8"),
        ):
            assert rel in listed, f"{test} reads {rel}, which INDEX.md does not describe"
