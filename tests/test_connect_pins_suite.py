"""pins-python 0.9.2's own Connect tests (``-m fs_rsc``, from its sdist) against the emulator.

The emulator runs here with the users pins' Connect setup creates (``admin``, an administrator,
and the publishers ``susan`` and ``derek``); their keys go where pins' tests read them
(``pins/tests/rsconnect_api_keys.json``, relative to the sdist root). pins' own CI sets
``PINS_ALLOW_RSC_SHORT_NAME=1`` for this suite, so we do too.

One test, ``test_board_pin_write_rsc_index_html``, compares the pin page with a snapshot that
names the server ``http://localhost:3939`` (pins' docker setup). It runs in a second pass with
that exact URL, reaching the emulator through an HTTP proxy setting (``HTTP_PROXY`` = the
emulator, which accepts absolute-form request targets and answers with the Host the client used).

Tests pins itself skips under ``fs_rsc`` (none need the internet): five in test_compat.py and
one in test_constructors.py skip for every non-file backend, test_compat.py:75 because
"RSC uses bundle ids as pin versions", and test_boards.py:690 is skipped by pins with "There is
some sort of authorization error with the new Connect test setup".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from apins.testing.connect import run_in_thread
from tests._helpers.external_clients import pins_sdist, run_pytest, suite_venv, summary_counts

USERS: dict[str, str | tuple[str, str]] = {
    "admin": ("pins-suite-admin-key", "administrator"),
    "susan": "pins-suite-susan-key",
    "derek": "pins-suite-derek-key",
}
SNAPSHOT_TEST = "pins/tests/test_boards.py::test_board_pin_write_rsc_index_html"
PINS_ENV = {"PINS_ALLOW_RSC_SHORT_NAME": "1", "PINS_FEATURE_PREVIEW": "1"}
# Passed in the first pass on this emulator (a floor: a drop means the emulator regressed).
MIN_PASSED = 90

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _write_keys(sdist: Path) -> None:
    keys = {name: (v if isinstance(v, str) else v[0]) for name, v in USERS.items()}
    (sdist / "pins" / "tests" / "rsconnect_api_keys.json").write_text(json.dumps(keys))


def _tail(out: str) -> str:
    return "\n".join(out.splitlines()[-60:])


def test_pins_python_connect_suite_passes(tmp_path: Path) -> None:
    python = suite_venv()
    sdist = pins_sdist()
    _write_keys(sdist)
    common = ["-o", "addopts=", "-m", "fs_rsc", "-q", "-rfEs", "--tb=short"]
    with run_in_thread(root=tmp_path / "connect", users=USERS) as server:
        cache = {"PINS_CACHE_DIR": str(tmp_path / "pins-cache")}
        first = run_pytest(
            python,
            sdist,
            [*common, "--deselect", SNAPSHOT_TEST, "pins"],
            {"CONNECT_SERVER": server.url, **PINS_ENV, **cache},
        )
        second = run_pytest(
            python,
            sdist,
            [*common, SNAPSHOT_TEST],
            {
                "CONNECT_SERVER": "http://localhost:3939",
                "HTTP_PROXY": server.url,
                "http_proxy": server.url,
                **PINS_ENV,
                **cache,
            },
        )
    counts = summary_counts(first.stdout)
    assert (counts["failed"], counts["error"]) == (0, 0), _tail(first.stdout)
    assert counts["passed"] >= MIN_PASSED, _tail(first.stdout)
    assert first.returncode == 0, _tail(first.stdout)
    again = summary_counts(second.stdout)
    assert (again["passed"], again["failed"], again["error"]) == (1, 0, 0), _tail(second.stdout)
    print(f"pins-python 0.9.2 -m fs_rsc: {counts} + snapshot pass {again}", file=sys.stderr)
