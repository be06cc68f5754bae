"""Ten processes doing unversioned writes of one pin at once (folder and S3 on SeaweedFS).

Exactly one version remains, every writer either succeeds or raises VersionConflict, and the
next unversioned write works.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import apins
from apins.board import Board
from tests._helpers import HELPERS, subprocess_env, trials
from tests._helpers.workers import WorkerPool
from tests.servers import S3Server

WORKER = str(HELPERS / "board_worker.py")
WRITERS = 10
#: later rounds start from the version the previous one left
ROUNDS = trials(1, 3)


def board_spec(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, Any]:
    if kind == "folder":
        return {"kind": "folder", "path": str(tmp_path / "board")}
    server: S3Server = request.getfixturevalue("seaweed")
    return {"kind": "s3", "path": f"{server.make_bucket()}/race", "endpoint": server.endpoint_url}


def open_board(spec: dict[str, Any], request: pytest.FixtureRequest) -> Board:
    if spec["kind"] == "folder":
        return apins.board_folder(spec["path"])
    server: S3Server = request.getfixturevalue("seaweed")
    return server.board(spec["path"], cache=False)


def worker_env(spec: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, str]:
    if spec["kind"] == "s3":
        server: S3Server = request.getfixturevalue("seaweed")
        return subprocess_env(**server.env())
    return subprocess_env()


def race(spec: dict[str, Any], env: dict[str, str], pin: str, round_: int) -> list[dict[str, Any]]:
    """Start WRITERS workers, release them together, return what each reported."""
    with WorkerPool(WORKER, env) as pool:
        procs = [pool.spawn("race", json.dumps(spec), pin, f"{round_}-{i}") for i in range(WRITERS)]
        pool.ready(*procs)
        pool.go(*procs)
        return [json.loads(lines[-1]) for lines in pool.collect(*procs, timeout=120)]


@pytest.mark.parametrize("kind", ["folder", "s3"])
async def test_concurrent_unversioned_writes_leave_exactly_one_version(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    spec = board_spec(kind, tmp_path, request)
    env = worker_env(spec, request)
    pin = "contended"
    async with open_board(spec, request) as board:
        await board.pin_write({"writer": "first"}, pin, type="json")
    for round_ in range(ROUNDS):
        results = race(spec, env, pin, round_)
        errors = [r for r in results if "error" in r]
        assert {r["error"] for r in errors} <= {"VersionConflict"}, errors
        winners = [r["ok"] for r in results if "ok" in r]
        assert winners, results
        async with open_board(spec, request) as board:
            versions = [v.version for v in await board.pin_versions(pin)]
            assert len(versions) == 1, (versions, results)
            assert versions[0] in winners  # the one left is a write that reported success
            value = await board.pin_read(pin)
            assert value["writer"].startswith(f"{round_}-")
            # the next unversioned write works and replaces it
            meta = await board.pin_write({"writer": "after"}, pin, type="json", versioned=False)
            assert [v.version for v in await board.pin_versions(pin)] == [meta.version]
