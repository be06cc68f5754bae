"""apins.mirror between real boards: folder, SeaweedFS/moto S3, nginx URL boards, Connect."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pins
import pytest

import apins
from apins import MirrorFailed, MirrorReport, sync
from apins.errors import HashMismatch, PinNotFound, ReadOnlyBoard
from tests.faultproxy import FaultProxy
from tests.mirror_support import (
    SMALL_PARTS,
    T0,
    big_file,
    fill,
    folder_files,
    s3_objects,
    versions_of,
    write_files,
)
from tests.servers import S3Server


def refs(report_list: list[Any]) -> set[tuple[str, str | None]]:
    return {(r.pin, r.version) for r in report_list}


def expected(versions: dict[str, list[str]]) -> set[tuple[str, str | None]]:
    return {(p, v) for p, vs in versions.items() for v in vs}


@pytest.fixture
async def src_folder(tmp_path: Path) -> AsyncIterator[apins.Board]:
    async with apins.board_folder(tmp_path / "src") as b:
        yield b


@pytest.fixture
async def dst_folder(tmp_path: Path) -> AsyncIterator[apins.Board]:
    async with apins.board_folder(tmp_path / "dst") as b:
        yield b


# -- folder <-> folder: selection, idempotence, delete, dry run, failures --------------------


async def test_folder_to_folder_is_byte_identical_and_idempotent(
    src_folder: apins.Board, dst_folder: apins.Board, tmp_path: Path
) -> None:
    written = await fill(src_folder, 3, 3)
    report = await apins.mirror(src_folder, dst_folder)
    assert report.ok and refs(report.copied) == expected(written)
    assert report.bytes > 0 and not report.skipped
    assert folder_files(tmp_path / "dst") == folder_files(tmp_path / "src")

    again = await apins.mirror(src_folder, dst_folder)
    assert again.ok and not again.copied and refs(again.skipped) == expected(written)
    assert again.bytes == 0


async def test_versions_latest_n_and_since(src_folder: apins.Board, tmp_path: Path) -> None:
    written = await fill(src_folder, 2, 4)
    async with apins.board_folder(tmp_path / "latest") as dst:
        r = await apins.mirror(src_folder, dst, versions="latest")
        assert refs(r.copied) == {(p, vs[-1]) for p, vs in written.items()}
    async with apins.board_folder(tmp_path / "two") as dst:
        r = await apins.mirror(src_folder, dst, versions=2, names=["pin1"])
        assert refs(r.copied) == {("pin1", v) for v in written["pin1"][-2:]}
        assert await dst.pin_list() == ["pin1"]
    async with apins.board_folder(tmp_path / "since") as dst:
        r = await apins.mirror(src_folder, dst, since=T0 + timedelta(seconds=2))
        assert refs(r.copied) == {(p, v) for p, vs in written.items() for v in vs[2:]}
        r = await apins.mirror(src_folder, dst, since="20240301T120001Z")
        assert refs(r.copied) == {(p, vs[1]) for p, vs in written.items()}
    with pytest.raises(ValueError):
        await apins.mirror(src_folder, src_folder, versions=0)


async def test_dry_run_changes_nothing_and_delete_makes_sets_equal(
    src_folder: apins.Board, dst_folder: apins.Board, tmp_path: Path
) -> None:
    written = await fill(src_folder, 2, 3)
    await apins.mirror(src_folder, dst_folder)
    # the target gets a pin and a version the source does not have
    await dst_folder.pin_write({"x": 1}, "extra", type="json", created=T0)
    await dst_folder.pin_write({"x": 9}, "pin0", type="json", created=T0 + timedelta(hours=1))
    # and the source loses its oldest version of pin1 and gains a new pin
    await src_folder.pin_version_delete("pin1", written["pin1"][0])
    await src_folder.pin_write({"new": True}, "fresh", type="json", created=T0)

    before = folder_files(tmp_path / "dst")
    plan = await apins.mirror(src_folder, dst_folder, delete=True, dry_run=True)
    assert folder_files(tmp_path / "dst") == before
    assert plan.dry_run and plan.ok
    assert [r.pin for r in plan.copied] == ["fresh"] and plan.bytes > 0
    deleted = {(r.pin, r.version) for r in plan.deleted}
    assert ("pin1", written["pin1"][0]) in deleted and ("extra", None) not in deleted
    assert {r.pin for r in plan.deleted} == {"pin0", "pin1", "extra"}

    # without delete=True nothing is removed
    keep = await apins.mirror(src_folder, dst_folder)
    assert not keep.deleted and "extra" in await dst_folder.pin_list()

    done = await apins.mirror(src_folder, dst_folder, delete=True)
    assert done.ok and refs(done.deleted) == refs(plan.deleted)
    assert folder_files(tmp_path / "dst") == folder_files(tmp_path / "src")


async def test_corrupt_version_fails_alone(
    src_folder: apins.Board, dst_folder: apins.Board, tmp_path: Path
) -> None:
    written = await fill(src_folder, 3, 2)
    bad = tmp_path / "src" / "pin1" / written["pin1"][0] / "pin1.json"
    data = bad.read_bytes()
    bad.write_bytes(data.replace(b"0", b"7"))  # same size, other bytes
    assert bad.read_bytes() != data

    report = await apins.mirror(src_folder, dst_folder, names=[*written, "missing"])
    failed = {(f.pin, f.version): f for f in report.failed}
    assert set(failed) == {("pin1", written["pin1"][0]), ("missing", None)}
    assert isinstance(failed[("pin1", written["pin1"][0])].error, HashMismatch)
    assert isinstance(failed[("missing", None)].error, PinNotFound)
    assert len(report.copied) == 5
    assert [v.version for v in await dst_folder.pin_versions("pin1")] == [written["pin1"][1]]

    with pytest.raises(MirrorFailed) as info:
        async with apins.board_folder(tmp_path / "other") as other:
            await apins.mirror(src_folder, other, stop_on_error=True, concurrency=1)
    assert isinstance(info.value.report, MirrorReport)
    assert isinstance(info.value.failure.error, HashMismatch)


async def test_read_only_target_is_refused(src_folder: apins.Board, nginx: Any) -> None:
    await fill(src_folder, 1, 1)
    board = apins.board_url(nginx.url + "/nothing-here/")
    with pytest.raises(ReadOnlyBoard):
        await apins.mirror(src_folder, board)


def test_sync_facade_mirror(tmp_path: Path) -> None:
    src = sync.board_folder(tmp_path / "s")
    dst = sync.board_folder(tmp_path / "d")
    src.pin_write({"a": 1}, "one", type="json")
    report = sync.mirror(src, dst)
    assert report.ok and [r.pin for r in report.copied] == ["one"]
    assert dst.pin_read("one") == {"a": 1}
    assert sync.mirror(src, dst).skipped == report.copied


# -- S3 (SeaweedFS) ---------------------------------------------------------------------------


async def test_folder_to_s3_and_back_read_by_pins_python(seaweed: S3Server, tmp_path: Path) -> None:
    bucket = seaweed.make_bucket("mirror")
    async with (
        apins.board_folder(tmp_path / "src") as src,
        seaweed.board(f"{bucket}/board", cache=tmp_path / "cache", settings=SMALL_PARTS) as s3,
    ):
        written = await fill(src, 3, 2)
        # a multi-file version with a file big enough for multipart / ranged transfers
        files = [big_file(tmp_path / "big.bin", 13 * 1024 * 1024 + 7), tmp_path / "small.txt"]
        files[1].write_text("hello\n")
        written["files"] = [await write_files(src, "files", files, T0)]

        up = await apins.mirror(src, s3, concurrency=4)
        assert up.ok and refs(up.copied) == expected(written)
        on_s3 = s3_objects(seaweed, bucket, "board/")
        assert on_s3 == folder_files(tmp_path / "src")  # data.txt and files byte for byte
        assert (await apins.mirror(src, s3)).skipped == up.copied

        async with apins.board_folder(tmp_path / "back") as back:
            down = await apins.mirror(s3, back)
            assert down.ok and refs(down.copied) == expected(written)
        assert folder_files(tmp_path / "back") == on_s3
        assert not [p for p in (tmp_path / "back").rglob(".apins-tmp-*")]

    _read_with_pins_python(seaweed, bucket, tmp_path, written, files)


def _read_with_pins_python(
    seaweed: S3Server, bucket: str, tmp_path: Path, written: dict[str, list[str]], files: list[Path]
) -> None:
    legacy = pins.board_s3(
        f"{bucket}/board", endpoint_url=seaweed.endpoint_url, key=seaweed.access_key,
        secret=seaweed.secret_key, cache=None,
    )  # fmt: skip
    assert legacy.pin_read("pin2") == {"pin": 2, "version": 1, "tag": ""}
    assert list(legacy.pin_versions("pin0")["version"]) == written["pin0"]
    assert legacy.pin_meta("files").pin_hash == pins_hash(tmp_path / "src", "files")
    back_board = pins.board_folder(str(tmp_path / "back"))
    assert back_board.pin_read("pin1") == {"pin": 1, "version": 1, "tag": ""}
    got = back_board.pin_download("files")
    assert sorted(Path(p).read_bytes() for p in got) == sorted(f.read_bytes() for f in files)


def pins_hash(root: Path, pin: str) -> str:
    board = pins.board_folder(str(root))
    return str(board.pin_meta(pin).pin_hash)


def _data_gets(proxy: FaultProxy) -> list[str]:
    """Paths of the GETs of version files (neither listings nor data.txt) the proxy saw."""
    return [
        r.path
        for r in proxy.requests
        if r.method == "GET"
        and "list-type=" not in r.path
        and not r.path.split("?")[0].endswith("/data.txt")
    ]


async def test_s3_to_s3_same_endpoint_copies_server_side(seaweed: S3Server, tmp_path: Path) -> None:
    a, b = seaweed.make_bucket("srv-a"), seaweed.make_bucket("srv-b")
    async with (
        apins.board_folder(tmp_path / "src") as src,
        seaweed.board(f"{a}/one", cache=tmp_path / "c1", settings=SMALL_PARTS) as s3a,
    ):
        written = await fill(src, 4, 3)
        written["big"] = [
            await write_files(src, "big", [big_file(tmp_path / "big.bin", 12 * 1024 * 1024)], T0)
        ]
        await apins.mirror(src, s3a)

    # both boards through one recording proxy (one endpoint: copies stay server-side)
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        via = seaweed.via(proxy.url, kind="seaweedfs-via-faultproxy")
        async with (
            via.board(f"{a}/one", cache=tmp_path / "c2") as s3a,
            via.board(f"{b}/two/deeper", cache=tmp_path / "c3") as s3b,
        ):
            report = await apins.mirror(s3a, s3b)
    assert report.ok and refs(report.copied) == expected(written)
    assert _data_gets(proxy) == []  # no object bytes passed through the client
    assert any(r.method == "PUT" and "x-amz-copy-source" in r.headers for r in proxy.requests)
    assert report.server_side_files == sum(len(v) for v in written.values())
    assert s3_objects(seaweed, b, "two/deeper/") == s3_objects(seaweed, a, "one/")


async def test_s3_to_s3_requests_per_version(seaweed: S3Server, tmp_path: Path) -> None:
    """Counted at the proxy: one listing per board, then per version one GET (data.txt), one
    CopyObject per file and one PUT (data.txt, last); a re-run lists and sends nothing more."""
    a, b = seaweed.make_bucket("req-a"), seaweed.make_bucket("req-b")
    async with seaweed.board(f"{a}/src", cache=tmp_path / "c1") as s3a:
        written = await fill(s3a, 4, 3)
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        via = seaweed.via(proxy.url, kind="seaweedfs-via-faultproxy")
        for run in range(2):
            seen = len(proxy.requests)
            async with (
                via.board(f"{a}/src", cache=tmp_path / f"c2{run}") as s3a,
                via.board(f"{b}/dst", cache=tmp_path / f"c3{run}") as s3b,
            ):
                report = await apins.mirror(s3a, s3b)
            assert report.ok
            kinds: dict[str, int] = {}
            for r in proxy.requests[seen:]:
                kind = r.method
                if "list-type=" in r.path:
                    kind = "LIST"
                elif r.method == "PUT" and "x-amz-copy-source" in r.headers:
                    kind = "COPY"
                kinds[kind] = kinds.get(kind, 0) + 1
            n = 0 if run else 12  # versions to copy
            assert refs(report.copied) == (expected(written) if n else set())
            assert kinds == {"LIST": 2, **({"GET": n, "COPY": n, "PUT": n} if n else {})}


async def test_s3_to_s3_starts_the_biggest_versions_first(
    seaweed: S3Server, tmp_path: Path
) -> None:
    """A big copy started last would run alone at the end: versions go biggest first."""
    a, b = seaweed.make_bucket("big-a"), seaweed.make_bucket("big-b")
    async with seaweed.board(f"{a}/src", cache=tmp_path / "c1") as s3a:
        await fill(s3a, 3, 2)
        old = await write_files(s3a, "blob", [big_file(tmp_path / "s.bin", 1000)], T0)
        new = await write_files(
            s3a, "blob", [big_file(tmp_path / "b.bin", 3 * 1024 * 1024, seed=1)],
            T0 + timedelta(seconds=5),
        )  # fmt: skip
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        via = seaweed.via(proxy.url, kind="seaweedfs-via-faultproxy")
        async with (
            via.board(f"{a}/src", cache=tmp_path / "c2") as s3a,
            via.board(f"{b}/dst", cache=tmp_path / "c3") as s3b,
        ):
            report = await apins.mirror(s3a, s3b, concurrency=1)
    assert report.ok and len(report.copied) == 8
    copies = [r.path for r in proxy.requests if "x-amz-copy-source" in r.headers]
    assert f"/blob/{new}/" in copies[0] and f"/blob/{old}/" in copies[1], copies


async def test_s3_to_s3_across_endpoints_streams(
    seaweed: S3Server, moto: S3Server, tmp_path: Path
) -> None:
    """The control for the test above: on two endpoints, bytes are read (and counted)."""
    a, b = seaweed.make_bucket("x-a"), moto.make_bucket("x-b")
    async with (
        apins.board_folder(tmp_path / "src") as src,
        seaweed.board(f"{a}/p", cache=tmp_path / "c1") as s3a,
        moto.board(f"{b}/q", cache=tmp_path / "c2") as s3b,
    ):
        written = await fill(src, 2, 2)
        await apins.mirror(src, s3a)
    async with (
        FaultProxy(seaweed.endpoint_url) as proxy,
        seaweed.board(f"{a}/p", endpoint_url=proxy.url, cache=tmp_path / "c3") as s3a,
        moto.board(f"{b}/q", cache=tmp_path / "c2") as s3b,
    ):  # fmt: skip
        report = await apins.mirror(s3a, s3b)
        assert report.ok and report.server_side_files == 0
        assert len(_data_gets(proxy)) == 4
    assert s3_objects(moto, b, "q/") == s3_objects(seaweed, a, "p/")
    assert refs(report.copied) == expected(written)


async def test_s3_corrupt_object_is_reported(seaweed: S3Server, tmp_path: Path) -> None:
    bucket = seaweed.make_bucket("corrupt")
    async with (
        apins.board_folder(tmp_path / "src") as src,
        seaweed.board(f"{bucket}/b", cache=tmp_path / "c1") as s3,
    ):
        written = await fill(src, 2, 2)
        await apins.mirror(src, s3)
        key = f"b/pin0/{written['pin0'][1]}/pin0.json"
        client = seaweed.boto3_client()
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        client.put_object(Bucket=bucket, Key=key, Body=body.replace(b"1", b"5"))
        async with apins.board_folder(tmp_path / "dst") as dst:
            report = await apins.mirror(s3, dst)
    assert [(f.pin, f.version, type(f.error)) for f in report.failed] == [
        ("pin0", written["pin0"][1], HashMismatch)
    ]
    assert len(report.copied) == 3
    assert not (tmp_path / "dst" / "pin0" / written["pin0"][1]).exists()


# -- URL board (nginx) ------------------------------------------------------------------------


async def test_url_board_to_folder(nginx: Any, tmp_path: Path) -> None:
    served = Path(nginx.root) / f"board-{uuid.uuid4().hex[:8]}"
    async with apins.board_folder(served) as src:
        written = await fill(src, 2, 2)
        await src.write_board_manifest()
    url = apins.board_url(f"{nginx.url}/{served.name}/")
    async with url, apins.board_folder(tmp_path / "dst") as dst:
        report = await apins.mirror(url, dst)
        assert report.ok and refs(report.copied) == expected(written)
    mirrored = folder_files(tmp_path / "dst")
    original = {k: v for k, v in folder_files(served).items() if k != "_pins.yaml"}
    assert mirrored == original


# -- Connect (the emulator) -------------------------------------------------------------------


async def test_connect_to_s3_and_back(seaweed: S3Server, tmp_path: Path) -> None:
    from apins.connect import board_connect
    from apins.testing.connect import ConnectEmulator

    bucket = seaweed.make_bucket("connect")
    async with ConnectEmulator(root=tmp_path / "rsc", users={"alice": "key-a"}) as server:
        rsc = board_connect(server.url, "key-a", cache=tmp_path / "cc")
        async with rsc:
            names = {}
            for v in range(3):
                meta = await rsc.pin_write(
                    {"v": v}, "alice/shared", type="json", created=T0 + timedelta(seconds=v)
                )
                names[meta.version] = meta.pin_hash
            bundles = await rsc.pin_versions("alice/shared")
            raw = [await rsc.backend.read_meta_raw("alice/shared", b.version) for b in bundles]

            async with seaweed.board(f"{bucket}/bk", cache=tmp_path / "c1") as s3:
                report = await apins.mirror(rsc, s3)
                assert report.ok, report.failed
                versions = [v.version for v in await s3.pin_versions("shared")]
                # names come from each bundle's data.txt: created + hash
                assert versions == sorted(
                    f"{(T0 + timedelta(seconds=i)).strftime('%Y%m%dT%H%M%SZ')}-{h[:5]}"
                    for i, h in enumerate(names.values())
                )
                stored = [
                    s3_objects(seaweed, bucket, f"bk/shared/{v}/")["data.txt"] for v in versions
                ]
                assert stored == raw  # data.txt byte for byte
                assert (await apins.mirror(rsc, s3)).skipped == report.copied

                # back into a fresh pin on Connect: one bundle per version, oldest first
                await rsc.pin_delete("alice/shared")
                back = await apins.mirror(s3, rsc)
                assert back.ok, back.failed
                assert len(back.copied) == 3
                again = await rsc.pin_versions("alice/shared")
                assert len(again) == 3
                assert [
                    await rsc.backend.read_meta_raw("alice/shared", b.version) for b in again
                ] == raw
                assert await rsc.pin_read("alice/shared") == {"v": 2}
                rerun = await apins.mirror(s3, rsc)
                assert rerun.ok and not rerun.copied and len(rerun.skipped) == 3


async def test_many_workers_copy_each_version_once(tmp_path: Path) -> None:
    async with apins.board_folder(tmp_path / "s") as src, apins.board_folder(tmp_path / "d") as dst:
        written = await fill(src, 10, 3)
        report = await apins.mirror(src, dst, concurrency=16)
        assert sorted(refs(report.copied)) == sorted(expected(written))
        assert versions_of(folder_files(tmp_path / "d")) == {p: set(v) for p, v in written.items()}
