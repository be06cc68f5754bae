"""Version names, ordering, the §3.5 write rule and pruning."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from apins.errors import VersionConflict
from apins.versions import (
    VersionInfo,
    WriteAction,
    select_prune,
    sort_versions,
    version_name,
    write_action,
)


def test_version_name_and_parse() -> None:
    when = datetime(2024, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
    name = version_name(when, "abcdef0123456789")
    assert name == "20240304T050607Z-abcde"
    info = VersionInfo.from_name(name)
    assert info.created == when
    assert info.hash == "abcde"


def test_unparsable_and_long_hash_names_are_kept() -> None:
    assert VersionInfo.from_name("v").created is None
    long = VersionInfo.from_name("20240304T050607Z-abcdef0123")
    assert long.hash == "abcdef0123"


def test_sort_by_name_not_minutes() -> None:
    names = ["20240101T000059Z-bbbbb", "20240101T000001Z-zzzzz", "20240101T000030Z-aaaaa"]
    ordered = [v.version for v in sort_versions([VersionInfo.from_name(n) for n in names])]
    assert ordered == sorted(names)


@pytest.mark.parametrize(
    ("versioned", "board", "n", "expected"),
    [
        (True, False, 5, WriteAction.ADD),
        (False, True, 0, WriteAction.ADD),
        (False, True, 1, WriteAction.REPLACE),
        (None, False, 1, WriteAction.REPLACE),
        (None, True, 1, WriteAction.ADD),
        (None, False, 2, WriteAction.ADD),  # several versions: keep versioning
    ],
)
def test_write_action(versioned: bool | None, board: bool, n: int, expected: WriteAction) -> None:
    assert write_action(versioned, board, n) is expected


def test_unversioned_write_to_versioned_pin_refused() -> None:
    with pytest.raises(VersionConflict, match="2 versions"):
        write_action(False, True, 2)


def _versions(days_ago: list[int], now: datetime) -> list[VersionInfo]:
    return [
        VersionInfo.from_name(version_name(now - timedelta(days=d), f"{i:05x}"))
        for i, d in enumerate(days_ago)
    ]


def test_prune_n_keeps_newest() -> None:
    now = datetime(2024, 6, 1, tzinfo=timezone.utc)
    vs = _versions([10, 5, 1], now)
    doomed = select_prune(vs, n=1)
    assert [v.version for v in doomed] == [vs[0].version, vs[1].version]
    assert select_prune(vs, n=5) == []


def test_prune_days_never_deletes_newest() -> None:
    now = datetime(2024, 6, 1, tzinfo=timezone.utc)
    vs = _versions([30, 20, 10], now)
    doomed = select_prune(vs, days=1, now=now)
    assert [v.version for v in doomed] == [vs[0].version, vs[1].version]
    assert vs[2] not in doomed


@pytest.mark.parametrize("kwargs", [{}, {"n": 1, "days": 1}, {"n": 0}, {"n": -1}, {"days": -1}])
def test_prune_argument_errors(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        select_prune([VersionInfo.from_name("20240101T000000Z-aaaaa")], **kwargs)  # type: ignore[arg-type]
